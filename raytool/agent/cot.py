"""Single-LLM plan-then-execute with chain of thought: one teacher call writes the whole plan, then it runs.

The teacher sees the request and the proposer's top `plan_tools` candidates for it and answers
`{"rationale": "<step-by-step reasoning>", "tools": ["<first>", "<second>", ...]}` (the distillation prompt,
`raytool.teacher.prompts.tool_selection_messages`, with the answer's JSON begun so the reasoning comes first).
The tools it names (parsed leniently, `parse_tool_selection`) are called in order through the binder (or with
`own_arguments`, each with the values the teacher writes for it once the calls before it have run:
`raytool.agent.own_arguments`), at most `max_steps`; nothing parsed means no call.
"""

from __future__ import annotations

from raytool.agent.outcome import Outcome, score_outcome
from raytool.agent.own_arguments import arguments_request, read_arguments
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.teacher.backend import Sampling
from raytool.teacher.lockstep import Episode, GenerateRequest
from raytool.teacher.parsing import parse_tool_selection
from raytool.teacher.prompts import tool_selection_messages

PREFILL = '{"rationale": "'


def cot_episode(env: ToolDeciderEnv, task_index: int, plan_tools: int = 8, max_tokens: int = 160,
                own_arguments: bool = False) -> Episode:  # fmt: skip
    """Plan-then-execute on task `task_index` of `env`; returns its `Outcome` (`info["parsed"]`)."""
    env.reset(options={"task_index": task_index})
    ranked = [int(c) for c in env.features.ranked[task_index] if c >= 0][:plan_tools]
    tools = [env.specs[c] for c in ranked]
    messages = tool_selection_messages(env.task.query, tools, max_tools=env.config.max_steps)
    text = yield GenerateRequest(tuple(messages), Sampling(max_tokens=max_tokens), PREFILL)
    selection = parse_tool_selection(text, [t.name for t in tools], max_tools=env.config.max_steps)
    for name in selection.tools:
        arguments, spec = None, env.dataset.tools.get(name)
        if own_arguments and spec is not None:
            answer = yield arguments_request(env.task.query, env.made, spec)
            arguments = read_arguments(answer, spec)
        _, _, done, truncated, _ = env.step_tool(name, arguments)
        if done or truncated:
            break
    outcome: Outcome = score_outcome(env.task, env.made, 1, env.reward_config)
    outcome.info["parsed"] = selection.ok
    return outcome
