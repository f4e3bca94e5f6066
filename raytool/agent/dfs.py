"""A small depth-first tree search over tool calls in the spirit of ToolBench's DFSDT.

A node is a sequence of calls made from the task's start. Expanding a node is one teacher call: the teacher
scores the node's candidate tools and `finish` (as in ReAct). If `finish` is its first choice the search ends
with that node's calls. Otherwise the `branching` best tools become children, explored best first, depth first;
a child whose call fails (invalid, malformed or repeated) is a dead end and the search backtracks to its
sibling, as DFSDT backtracks from failed paths. The search stops when the teacher finishes, after `budget`
expansions, or when every branch is exhausted; the answer is the deepest node whose calls all succeeded
(earliest found among equals). The environment is deterministic, so a node is reached by replaying its calls
on a fresh episode; each node's call is counted once in `info["tool_calls"]` (replays are simulation only).
With `own_arguments` the teacher writes a node's call's values when the node is first reached (one more teacher
call, `raytool.agent.own_arguments`), and its replays make the call with those values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from raytool.agent.outcome import Outcome, score_outcome
from raytool.agent.own_arguments import arguments_request, read_arguments
from raytool.agent.react import next_tool_request
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.envs.reward import VALID
from raytool.teacher.lockstep import Episode

# a node's calls: (tool, its arguments; None = the binder's)
Path = tuple[tuple[str, dict[str, Any] | None], ...]


def _replay(env: ToolDeciderEnv, task_index: int, path: Path) -> bool:
    """Reset and make the calls of `path`; whether all succeeded."""
    env.reset(options={"task_index": task_index})
    for name, arguments in path:
        env.step_tool(name, arguments)
    return _all_valid(env)


def _all_valid(env: ToolDeciderEnv) -> bool:
    return all(m.status == VALID for m in env.made)


def dfs_episode(env: ToolDeciderEnv, task_index: int, branching: int = 2, budget: int | None = None,
                own_arguments: bool = False) -> Episode:  # fmt: skip
    """DFSDT-style search on task `task_index` of `env` (module docstring); returns the answer's `Outcome`."""
    max_depth = env.config.max_steps
    budget = budget or 2 * max_depth
    stack: list[Path] = [()]
    best: Path = ()
    expansions = nodes = 0
    finished = False
    while stack and expansions < budget:
        path = stack.pop()
        if path:
            nodes += 1
            name, spec = path[-1][0], env.dataset.tools.get(path[-1][0])
            if own_arguments and spec is not None:  # its values, written once the parent's calls have run
                _replay(env, task_index, path[:-1])
                text = yield arguments_request(env.task.query, env.made, spec)
                path = path[:-1] + ((name, read_arguments(text, spec)),)
                env.step_tool(*path[-1])  # the node's call, after its parent's: no second replay
                reached = _all_valid(env)
            else:
                reached = _replay(env, task_index, path)
            if not reached:
                continue  # dead end: backtrack
            if len(path) > len(best):
                best = path
        else:
            env.reset(options={"task_index": task_index})
        if len(path) >= max_depth or not env.candidates:
            continue
        names = [env.specs[c].name for c in env.candidates]
        logprobs = yield next_tool_request(env)
        expansions += 1
        order = [int(i) for i in np.argsort(-np.asarray(logprobs), kind="stable")]
        if order[0] == len(names):
            best, finished = path, True
            break
        children = [path + ((names[i], None),) for i in order if i < len(names)][:branching]
        stack.extend(reversed(children))  # the best child is explored first
    _replay(env, task_index, best)
    outcome: Outcome = score_outcome(env.task, env.made, expansions, env.reward_config)
    outcome.info.update(tool_calls=nodes, finished=finished)
    return outcome
