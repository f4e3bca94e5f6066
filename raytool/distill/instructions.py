"""`raytool distill instructions`: new instructions for an executable suite that cover diverse tool combinations.

1. Compose `pool_factor x num` candidate tasks with the build pipeline (linked chains, gold calls, answers).
2. Skill-mix selection: greedily keep the task that adds the most tool pairs (tools for single-call tasks) not
   yet covered, so the kept set spans many different combinations rather than the most common chains.
3. The teacher rewrites each templated query as a natural request. A rewrite is accepted only when it passes
   `paraphrase_check`: every literal argument value (names, ids, numbers) kept verbatim, no template wording left,
   and, with a segmenter, one sub-task per gold call linked as the calls depend on each other (with a proposer
   too, each sub-task ranking its gold tool first); otherwise the template text stays (counted by reason).
4. Every kept task is verified by executing its gold calls and checking the answer; then the dataset is saved.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from raytool.distill.cache import PromptCache, cached_generate
from raytool.distill.paraphrase_check import REASONS, paraphrase_problem
from raytool.envs.build import BuildConfig, build_tasks, require_replay
from raytool.teacher.backend import Sampling, TeacherBackend
from raytool.tools.dataset import ToolDataset
from raytool.tools.task import Task


@dataclass(frozen=True)
class InstructionConfig:
    suite: str
    level: int = 2
    num: int = 50
    seed: int = 0
    pool_factor: int = 4


def rewrite_messages(query: str) -> list[dict[str, str]]:
    """Ask for a natural rewording that keeps every value."""
    system = (
        "You rewrite requests for a tool-using assistant so they sound like a real user wrote them. "
        "Keep every name, id, code and number exactly as written. Answer with the rewritten request only."
    )
    example = "Rewrite: First, describe site nrt-dc1. Finally, list the nodes of that site."
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": example},
        {"role": "assistant", "content": "Can you describe site nrt-dc1 and then list the nodes it has?"},
        {"role": "user", "content": f"Rewrite: {query}"},
    ]


def pairs_of(task: Task) -> set[tuple[str, ...]]:
    """The tool combinations a task exercises: unordered pairs, or the single tool of a one-call task."""
    names = sorted(set(task.tool_names))
    return set(itertools.combinations(names, 2)) if len(names) > 1 else {tuple(names)}


def skill_mix(tasks: list[Task], num: int) -> list[Task]:
    """Greedy max-coverage selection of `num` tasks over tool combinations (ties: the earlier task)."""
    chosen: list[Task] = []
    covered: set[tuple[str, ...]] = set()
    left = list(tasks)
    while left and len(chosen) < num:
        best = max(range(len(left)), key=lambda i: (len(pairs_of(left[i]) - covered), -i))
        covered |= pairs_of(left[best])
        chosen.append(left.pop(best))
    return chosen


def synthesize_instructions(
    config: InstructionConfig,
    teacher: TeacherBackend,
    out_dir: Path,
    log: Callable = print,
    segmenter=None,
    proposer=None,
) -> dict[str, Any]:
    """Run the job (module docstring); returns the summary stored in the dataset's manifest. With a `segmenter`
    (`raytool.planner.segmenter.Segmenter`) a rewrite must also read as the gold plan, and with a `proposer` too
    each of its sub-tasks must rank its gold tool first among the suite's tools (`paraphrase_check`)."""
    pool = build_tasks(
        BuildConfig((config.suite,), config.level, config.num * config.pool_factor, config.seed), log=log
    )
    kept = skill_mix(pool.tasks, config.num)
    baseline = set().union(*(pairs_of(t) for t in pool.tasks[: config.num]))
    covered = set().union(*(pairs_of(t) for t in kept))
    prompts = teacher.chat([rewrite_messages(t.query) for t in kept])
    cache = PromptCache(Path(out_dir).parent / f".{Path(out_dir).name}.cache")
    texts = cached_generate(teacher, cache, prompts, Sampling(max_tokens=96, stop=("\n\n",)))
    top_tools = None
    if proposer is not None and segmenter is not None:  # the tools are checked per sub-task the segmenter reads
        specs = list(pool.tools.values())
        index, names = proposer.index(specs), [spec.name for spec in specs]
        top_tools = lambda texts: [p.names[0] for p in proposer.rank(texts, index, k=1, pools=[names] * len(texts))]  # noqa: E731
    rewritten, rejected = [], dict.fromkeys(REASONS, 0)
    for task, text in zip(kept, texts, strict=True):
        text = " ".join(text.split()).strip().strip('"')
        problem = paraphrase_problem(task, text, segmenter, top_tools)
        if problem:
            rejected[problem] += 1
        rewritten.append(task if problem else replace(task, query=text))
    verified = require_replay(rewritten, log=log)
    summary = {
        "tasks": len(rewritten),
        "verified": verified,
        "rewrites_accepted": len(kept) - sum(rejected.values()),
        "rewrites_rejected": rejected,
        "plan_checked": segmenter is not None,
        "tools_checked": top_tools is not None,
        "combinations_covered": len(covered),
        "combinations_covered_first_n": len(baseline),
        "distinct_tools": len({n for t in rewritten for n in t.tool_names}),
    }
    ToolDataset(pool.tools, rewritten, pool.info | {"instructions": summary}).save(out_dir)
    return summary
