"""The natural-language test set: hand-written requests over the executable suites, with their templated twins.

42 requests written the way people ask — no step markers; clauses joined by "and", "then", "also", "on another
note"; earlier outputs referred to as pronouns and descriptions ("that tenant", "the same account", "its first
constituent", "the check-in day"); optional values phrased freely ("with full coverage", "on the gold SLA tier",
"one A100 GPU", "no GPUs"). Each is the rewrite, by hand, of a held-out builder task with the same values and the
same gold calls: 30 level-4 requests over two suites (`BuildConfig(level=4, seed=21)`, the main job's held-out agent
tasks) and 12 level-2 requests in one suite (`level=2, seed=11`, the decider's held-out tasks). The builder's own
query is kept as the request's *templated twin*. The set is for measurement only: never used for training or tuning.

One record per request in `data/natural_requests.jsonl`: the `Task` fields, plus

    twin       {"id", "query"}: the builder's task id and its templated query
    segments   [{"call": k, "text": span}]: the span of the request that asks for gold call k, in request order

`gold_plan` turns a record into the gold decomposition (one sub-task per call: its span, the domain of its tool,
the calls it depends on), what plan accuracy is scored against.

    raytool envs natural --out DIR      # DIR/natural and DIR/templated: dataset dirs for `raytool eval agent`
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text
from raytool.tools.task import Task

REQUESTS_FILE = Path(__file__).parent / "data" / "natural_requests.jsonl"
PLANS_FILE = "plans.jsonl"
_TEMPLATE_SPLIT = re.compile(r"(?:^|(?<=\.) )(?:(?:First|Separately|Finally), |Then )")


@dataclass(frozen=True)
class GoldSubTask:
    """One gold sub-task: the request's span asking for call `call`, its domain and the calls it needs."""

    call: int
    text: str
    domain: str
    depends_on: tuple[int, ...]


def load_requests(path: Path = REQUESTS_FILE) -> list[dict[str, Any]]:
    """The raw records (module docstring)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def task_of(record: dict[str, Any], templated: bool = False) -> Task:
    """The record as a `Task`: its natural query, or (`templated`) its twin's query under the twin's id."""
    fields = {k: v for k, v in record.items() if k not in ("twin", "segments")}
    if templated:
        fields.update(id=record["twin"]["id"], query=record["twin"]["query"])
    return Task.from_dict(fields)


def template_segments(query: str) -> list[str]:
    """A templated query's clauses ("First, ... Then ... Finally, ..."), one per gold call, markers dropped."""
    return [part.strip().rstrip(".") for part in _TEMPLATE_SPLIT.split(query) if part.strip()]


def gold_plan(record: dict[str, Any], domains: dict[str, str], templated: bool = False) -> list[GoldSubTask]:
    """The gold sub-tasks of a record, in call order; `domains`: tool name -> its suite."""
    task = task_of(record)
    if templated:
        texts = template_segments(record["twin"]["query"])
        if len(texts) != len(task.calls):
            raise ValueError(f"{record['twin']['id']}: {len(texts)} template clauses for {len(task.calls)} calls")
    else:
        texts = [s["text"] for s in sorted(record["segments"], key=lambda s: s["call"])]
    return [
        GoldSubTask(k, text, domains[call.name], tuple(call.depends_on))
        for k, (call, text) in enumerate(zip(task.calls, texts, strict=True))
    ]


def load_gold_plans(dataset_dir: Path) -> dict[str, list[GoldSubTask]] | None:
    """Task id -> gold sub-tasks from a dataset dir's `plans.jsonl` (None when it has none)."""
    path = Path(dataset_dir) / PLANS_FILE
    if not path.exists():
        return None
    plans = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                plans[record["id"]] = [
                    GoldSubTask(s["call"], s["text"], s["domain"], tuple(s["depends_on"])) for s in record["subtasks"]
                ]
    return plans


def catalogue(tasks: list[Task]) -> dict:
    """The suites' specs of every tool the tasks offer, by name (their domain is the suite)."""
    from raytool.envs.suites import SUITE_NAMES, get_suite

    specs = {name: tool.spec for suite in SUITE_NAMES for name, tool in get_suite(suite).tools.items()}
    names = sorted({n for t in tasks for n in t.tools} | {c.name for t in tasks for c in t.calls})
    return {n: specs[n] for n in names}


def write_natural(out: Path, path: Path = REQUESTS_FILE) -> tuple[Path, Path]:
    """`out/natural` and `out/templated`: dataset dirs with a `plans.jsonl` of gold sub-tasks each."""
    records = load_requests(path)
    written = []
    for name, templated in (("natural", False), ("templated", True)):
        tasks = [task_of(r, templated) for r in records]
        tools = catalogue(tasks)
        domains = {n: spec.domain for n, spec in tools.items()}
        dataset = ToolDataset(tools, tasks, {"format": "raytool_natural", "phrasing": name, "source": str(path)})
        dataset.check()
        directory = dataset.save(Path(out) / name)
        plans = [
            {"id": task.id, "subtasks": [vars(s) | {"depends_on": list(s.depends_on)}
                                         for s in gold_plan(r, domains, templated)]}
            for task, r in zip(tasks, records, strict=True)
        ]  # fmt: skip
        atomic_write_text(directory / PLANS_FILE, "".join(json.dumps(p) + "\n" for p in plans))
        written.append(directory)
    return written[0], written[1]
