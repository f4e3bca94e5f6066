"""A plan: sub-tasks with domains and dependencies, and the proxy jobs they are allocated to.

    SubTask   one action of the request, with a domain and the ids of earlier sub-tasks it needs
    Job       what one domain's proxy runs in one episode: the sub-tasks of one domain that are chained by
              dependencies or written next to each other (their texts joined in order), so a chain's later steps
              see its earlier outputs even where the planner missed the link ("pay 3888.47 from ac-1007 to py-06,
              show the positions in that account, and tell me the status of the transfer")
    Plan      the sub-tasks, where they came from (`llm` or `rule`) and the jobs

`allocate` groups sub-tasks into jobs (connected components of same-domain dependency edges and of same-domain
neighbours in the request) and orders the jobs in waves: a job waits for the jobs holding the sub-tasks it depends
on; jobs in the same wave are independent and run in parallel. Joining neighbours costs no parallelism: one
domain's jobs of a wave go to the same proxy, which runs them one after another anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class SubTask:
    id: int  # 1..n in request order
    text: str
    domain: str
    depends_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class Job:
    id: int  # 0..m-1 in order of their first sub-task
    domain: str
    subtasks: tuple[int, ...]  # sub-task ids, in order
    text: str
    after: tuple[int, ...] = ()  # ids of jobs this one waits for
    wave: int = 0
    parts: tuple[str, ...] = ()  # its sub-tasks' texts, in order (`text` joins them)


@dataclass
class Plan:
    subtasks: list[SubTask]
    source: str  # "llm" (the teacher's decomposition was usable), "rule" (sentence split + router) or "single"
    jobs: list[Job] = field(default_factory=list)
    failure: str = ""  # why the teacher's decomposition was not used ("" when it was)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def allocate(subtasks: Sequence[SubTask]) -> list[Job]:
    """Jobs of `subtasks` (module docstring), in waves."""
    by_id = {s.id: s for s in subtasks}
    parent = {s.id: s.id for s in subtasks}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s in subtasks:
        for d in s.depends_on:
            if d in by_id and by_id[d].domain == s.domain:
                parent[root(s.id)] = root(d)
    for before, s in zip(subtasks, subtasks[1:], strict=False):  # neighbours of one domain share a job
        if before.domain == s.domain:
            parent[root(s.id)] = root(before.id)
    groups: dict[int, list[int]] = {}
    for s in subtasks:
        groups.setdefault(root(s.id), []).append(s.id)
    ordered = sorted(groups.values(), key=lambda ids: min(ids))
    job_of = {sid: j for j, ids in enumerate(ordered) for sid in ids}
    jobs: list[Job] = []
    for j, ids in enumerate(ordered):
        after = sorted({job_of[d] for sid in ids for d in by_id[sid].depends_on if d in job_of and job_of[d] != j})
        parts = tuple(by_id[sid].text.strip() for sid in ids)
        jobs.append(Job(j, by_id[ids[0]].domain, tuple(ids), " ".join(parts), tuple(after), parts=parts))
    waves: dict[int, int] = {}
    for job in jobs:  # jobs are in order of first sub-task and depend on earlier sub-tasks: one pass suffices
        waves[job.id] = 1 + max((waves.get(a, 0) for a in job.after), default=-1)
    return [replace(j, wave=waves[j.id]) for j in jobs]
