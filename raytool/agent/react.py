"""Single-LLM ReAct: one teacher call per step, over the same candidates, binder and tools as the proxy.

At each step the teacher sees the request, the calls made so far with their observations (outputs cut short)
and the candidate tools (the proposer's top-p for the request, tools already called successfully dropped, as
in the decider's env) plus `finish`, and its choice is read off by likelihood: the candidate whose
`Next tool: <name>` continuation is most likely (`raytool.teacher.prompts`; a 135M model follows free-form
Thought/Action formats poorly, and scoring is one call just the same). The binder fills the arguments (the
proxies' filler), or with `own_arguments` the teacher writes them, one more teacher call per tool call
(`raytool.agent.own_arguments`). As for the proxy, a candidate whose call would exactly repeat an earlier one is
skipped (`ToolDeciderEnv.repeat_mask`; with the teacher's own values nothing is known before it writes them, so the
env counts a repeat as it happens). The episode ends on `finish` or after `max_steps` calls.
"""

from __future__ import annotations

import numpy as np

from raytool.agent.outcome import history_lines, score_outcome
from raytool.agent.own_arguments import arguments_request, read_arguments
from raytool.distill.rank import STOP_TOOL
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.teacher.lockstep import Episode, ScoreRequest
from raytool.teacher.prompts import NEXT_TOOL_PREFIX, candidate_continuations, next_tool_prompt_messages


def next_tool_request(env: ToolDeciderEnv) -> ScoreRequest:
    """The teacher's next-tool question at the env's current state: its candidates, then `finish`, scored."""
    tools = [env.specs[c] for c in env.candidates] + [STOP_TOOL]
    messages = next_tool_prompt_messages(env.task.query, history_lines(env.made), tools)
    return ScoreRequest(tuple(messages), NEXT_TOOL_PREFIX, tuple(candidate_continuations(tools)))


def react_episode(env: ToolDeciderEnv, task_index: int, own_arguments: bool = False) -> Episode:
    """ReAct on task `task_index` of `env` (module docstring); returns its `Outcome`."""
    env.reset(options={"task_index": task_index})
    decisions = 0
    while True:
        logprobs = yield next_tool_request(env)
        repeats = np.zeros(len(env.candidates) + 1, dtype=bool)  # the scored options: candidates, finish
        if not own_arguments:
            repeats[:-1] = env.repeat_mask()[: len(env.candidates)]
        best = int(np.argmax(np.where(repeats, -np.inf, logprobs)))
        decisions += 1
        arguments = None
        if own_arguments and best < len(env.candidates) and not env.is_macro(best):
            spec = env.specs[env.candidates[best]]
            text = yield arguments_request(env.task.query, env.made, spec)
            arguments = read_arguments(text, spec)
        _, _, done, truncated, _ = env.step(best if best < len(env.candidates) else env.stop_action, arguments)
        if done or truncated:
            return score_outcome(env.task, env.made, decisions, env.reward_config)
