"""Train the proxies' decider on the sub-tasks the planner hands them.

A proxy never sees a whole multi-domain request, only a job: a chain of sub-questions of its own domain. So its
decider is trained on exactly that. `subtask_dataset` decomposes training requests the way the agent does at run
time (deterministic, no teacher: the rule planner and the router, or the `plan` given — the segmenter's
`segmenter_plan` for requests in varied language), keeps each job whose domain has
one job in its request, and gives it the request's gold calls of that domain (result references renumbered; a job
whose calls reference another domain's calls is dropped). The sub-tasks of all domains, each with the proposer's
candidates over its domain's tools (`candidates.jsonl`, ranked per planned sub-task and merged when a job has
several, as the proxy ranks them at run time; the parts are kept in `parts.jsonl`), form one dataset;
`train_proxy_decider` trains the RLlib decider on it (`raytool.decider.train.train_decider`, guided by an existing
F_P).

One decider serves every domain's proxy by default (the proxies still differ in their tools and candidates):
trained per domain on the 30-47 sub-tasks each of 60 training requests, one of three collapsed to stopping at
once (success 0 on its domain) in both seeds tried, while the shared decider trained on all 120 sub-tasks
reached 0.53 success on held-out multi-domain requests. `AgentConfig.proxies` takes per-domain deciders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from raytool.agent.agent import job_payload, task_domains
from raytool.decider.candidates import CANDIDATES_FILE, decider_env_config, write_candidates
from raytool.planner.planner import rule_plan
from raytool.tools.call import REF_KEY, ToolCall, map_refs
from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text
from raytool.tools.task import Task

PARTS_FILE = "parts.jsonl"  # per sub-task: the texts of the planned sub-tasks its job joins


def load_parts(directory: Path) -> dict[str, list[str]]:
    """A sub-task dataset's `parts.jsonl`: task id -> its job's parts (as `job_payload` gave them)."""
    lines = (Path(directory) / PARTS_FILE).read_text().splitlines()
    return {record["task_id"]: record["parts"] for record in map(json.loads, lines)}


def restrict_calls(calls: Sequence[ToolCall], keep: Sequence[int]) -> tuple[ToolCall, ...] | None:
    """The calls at `keep` (in order) with references renumbered; None if one references a call left out."""
    position = {old: new for new, old in enumerate(keep)}

    out = []
    for old in keep:
        call = calls[old]
        if any(d not in position for d in call.depends_on):
            return None
        arguments = call.arguments and map_refs(call.arguments, lambda r: {**r, REF_KEY: position[r[REF_KEY]]})
        out.append(ToolCall(call.name, arguments, tuple(position[d] for d in call.depends_on), call.optional))
    return tuple(out)


def subtask_dataset(
    dataset: ToolDataset, router, proposer, out: Path, k: int = 16, log: Callable = print, plan: Callable | None = None
) -> Path:
    """The training sub-tasks of every domain as one dataset directory with candidates (module docstring); `plan`:
    request text -> `Plan` (default: the rule planner with `router`)."""
    pools = task_domains(dataset.tasks, dataset.tools)
    subtasks: list[Task] = []
    job_pools: list[list[str]] = []
    job_parts: list[list[str]] = []
    dropped = 0
    for task in dataset.tasks:
        decomposition = plan(task.query) if plan else rule_plan(task.query, router, "training")
        counts: dict[str, int] = {}
        for job in decomposition.jobs:
            counts[job.domain] = counts.get(job.domain, 0) + 1
        for job in decomposition.jobs:
            keep = [i for i, c in enumerate(task.calls) if dataset.tools[c.name].domain == job.domain]
            calls = restrict_calls(task.calls, keep) if keep and counts[job.domain] == 1 else None
            if calls is None:
                dropped += 1
                continue
            payload = job_payload(task, job, pools, dataset.tools)
            subtasks.append(Task.from_dict({**payload["task"], "calls": [c.to_dict() for c in calls]}))
            job_pools.append(payload["pool"])
            job_parts.append(payload["parts"])
    if not subtasks:
        raise ValueError(f"no training sub-task could be made from {len(dataset.tasks)} tasks")
    info = {"format": "raytool_subtasks", "source": dataset.info.get("format", ""), "dropped_jobs": dropped}
    subset = ToolDataset(dataset.tools, subtasks, info)
    subset.save(out)
    write_candidates(proposer, subset, Path(out) / CANDIDATES_FILE, k=k, pools=job_pools, parts=job_parts)
    lines = [json.dumps({"task_id": t.id, "parts": parts}) + "\n" for t, parts in zip(subtasks, job_parts, strict=True)]
    atomic_write_text(Path(out) / PARTS_FILE, "".join(lines))
    by_domain = {d: sum(t.domain == d for t in subtasks) for d in pools}
    log(f"[agent] {len(subtasks)} training sub-tasks ({by_domain}) in {out}; {dropped} jobs left out (several jobs "
        "of one domain in a request, or references across domains)")  # fmt: skip
    return Path(out)


def train_proxy_decider(
    tasks: Path,
    fp_dir: Path | None,
    run,
    out: Path,
    top_p: int = 5,
    max_steps: int = 8,
    skills: str = "",
    log: Callable = print,
    filler: str = "",
) -> Path:
    """The proxies' decider trained on the sub-tasks at `tasks` into `out` (skipped when done; `run`: a
    `DeciderRunConfig`; `skills`: a skills file offered as macro-actions; `filler`: a filler checkpoint the
    env reads argument values with, "" = the sub-tasks' gold values, an ORACLE). The env reads text
    with the encoder F_P was trained under (`recorded_encoder`), else the env's default."""
    from raytool.decider.fp_checkpoint import recorded_encoder
    from raytool.decider.train import SUMMARY, train_decider
    from raytool.envs.decider_env import argument_settings

    if (Path(out) / SUMMARY).exists():
        log(f"[agent] proxy decider {out} exists, skipping")
        return Path(out)
    env = decider_env_config(tasks, top_p, max_steps) | ({"skills": str(skills)} if skills else {})
    env |= argument_settings(filler) | {"encoder": recorded_encoder(fp_dir)}
    log(f"[agent] train the proxies' decider ({run.iterations} iterations) on {tasks} into {out}")
    summary = train_decider(env, fp_dir, run, out)
    log(f"[agent] trained in {summary['train_seconds']:.0f} s; last iteration: {json.dumps(summary['final'])}")
    return Path(out)
