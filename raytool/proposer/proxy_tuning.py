"""The proxies' proposer: the main proposer fine-tuned on the suites' sub-tasks as requests write them.

The main proposer is trained on Seal-Tools dev (stage 4) and never sees the suites' tools or the way a planned
sub-task reads ("reserve hotel HT-LIS-2 for them for 2 nights", "and check on the status of that transfer"). A proxy
ranks its domain's tools for each planned sub-task (`raytool.decider.candidates.rank_candidates(parts=)`), so stage
10 fine-tunes a copy of it for the proxies: builder tasks (levels 2-4 over all suites, seeds far from every held-out
set), each written in the step template and `phrasings` times in varied language (`raytool.envs.phrasing
.renderings`), give one example per call: the call's span of the text -> its tool. Values and worlds differ from
the held-out requests; the hand-written natural test set is never read.

Measured on the natural test set's gold sub-tasks (README, "Requests as people write them"): top-1 0.844 -> 0.954
(natural), 0.954 -> 1.000 (templated twins), 120 tasks per level and 3 phrasings, one epoch, about 4 minutes here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


@dataclass(frozen=True)
class ProxyProposerConfig:
    """Settings of the proxies' proposer (the `agent.proposer` section of `raytool train --config`).

    tasks_per_level: builder tasks per level; 0 = the proxies use the main proposer as it is.
    levels / seed: the builder tasks (all suites; seed + level per level, apart from every held-out seed).
    phrasings: varied renderings per task, besides its template one.
    epochs / max_steps: the fine-tuning (the main proposer's other settings are kept).
    """

    tasks_per_level: int = 120
    levels: tuple[int, ...] = (2, 3, 4)
    seed: int = 4000
    phrasings: int = 3
    epochs: int = 1
    max_steps: int | None = None

    def __post_init__(self) -> None:
        if self.tasks_per_level < 0 or self.phrasings < 0 or self.epochs < 1:
            raise ValueError("tasks_per_level and phrasings must be >= 0 and epochs >= 1")


def subtask_examples(config: ProxyProposerConfig) -> tuple[dict[str, ToolSpec], list[Task]]:
    """(the suites' catalogue, one single-call task per call span of every rendering; module docstring)."""
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.envs.phrasing import renderings
    from raytool.envs.suites import SUITE_NAMES, get_suite
    from raytool.tools.call import ToolCall

    tools = {name: tool for suite in SUITE_NAMES for name, tool in get_suite(suite).tools.items()}
    tasks = []
    for level in config.levels:
        build = BuildConfig(tuple(SUITE_NAMES), level, config.tasks_per_level, config.seed + level, integration_walks=0)
        for task in build_tasks(build, log=lambda _: None).tasks:
            for r, (text, spans) in enumerate(renderings(task, tools, config.phrasings, "proposer")):
                tasks += [Task(f"{task.id}/{r}/{i}", text[start:end], (ToolCall(task.calls[i].name),))
                          for i, (start, end) in enumerate(spans)]  # fmt: skip
    return {name: tool.spec for name, tool in tools.items()}, tasks


def tune_proxy_proposer(base: Path, out: Path, config: ProxyProposerConfig, log: Callable[[str], None] = print) -> Path:
    """Fine-tune the proposer checkpoint at `base` on `subtask_examples` into `out` (written atomically)."""
    from raytool.proposer.checkpoint import load_meta
    from raytool.proposer.train import prepare_data, train_proposer

    catalogue, tasks = subtask_examples(config)
    meta = load_meta(base)  # its settings; train_proposer loads the weights once, from `init`
    # segment=False: a sub-task is one clause, ranked whole (as measured; the main proposer splits sentences)
    settings = replace(meta.config, epochs=config.epochs, max_steps=config.max_steps, segment=False, threads=2)
    log(f"[proposer] fine-tuning {base} for the proxies on {len(tasks):,} sub-tasks of the suites")
    train_proposer(prepare_data(tasks, catalogue, settings), settings, out, log=log, init=base)
    return out
