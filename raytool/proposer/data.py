"""Training examples for the proposer, from gold calls and from the teacher's distillation records.

An `Example` is a text (a whole query, or one sentence of it), the tools it should retrieve, optionally the
teacher's rationale (attached to whole-query examples only: the decoder reproduces it from the query's
vector), and mined hard negatives. Sentences are aligned to gold tools lexically: each gold tool goes to
the sentence whose BM25 score for the tool's document is highest; sentences left without a tool (greetings,
context) give no example.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from raytool.envs.retrieval import BM25Retriever, top_k
from raytool.proposer.config import ProposerConfig
from raytool.proposer.documents import split_query, tool_document
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


@dataclass(frozen=True)
class Example:
    """text -> positives (tool names); rationale ("" for none); hard_negatives (tool names)."""

    text: str
    positives: tuple[str, ...]
    task_id: str
    rationale: str = ""
    hard_negatives: tuple[str, ...] = field(default=())


def document_retriever(catalogue: dict[str, ToolSpec]) -> BM25Retriever:
    """BM25 over the tools' documents (name, description and parameters)."""
    return BM25Retriever(list(catalogue.values()), text=tool_document)


def task_labels(task: Task, record: dict[str, Any] | None, label_source: str) -> list[str]:
    """The tools a task's query should retrieve under `label_source` (see `ProposerConfig`)."""
    teacher = list(dict.fromkeys(record.get("teacher_tools", []))) if record else []
    if label_source == "teacher":
        return teacher
    if label_source == "both" and not task.calls:
        return teacher
    return task.tool_names


def build_examples(
    tasks: Sequence[Task],
    catalogue: dict[str, ToolSpec],
    config: ProposerConfig,
    records: dict[str, dict[str, Any]] | None = None,
    retriever: BM25Retriever | None = None,
) -> list[Example]:
    """Whole-query and per-sentence examples for `tasks`, with rationales from `records` (by task id)."""
    retriever = retriever or document_retriever(catalogue)
    records = records or {}
    rng = random.Random(config.seed)
    out: list[Example] = []
    for task in tasks:
        record = records.get(task.id)
        labels = [n for n in task_labels(task, record, config.label_source) if n in catalogue]
        if not labels:
            continue
        rationale = record.get("gold_rationale", "") if record and record.get("gold_rationale_ok", True) else ""
        out.append(Example(task.query, tuple(labels), task.id, rationale))
        if config.segment:
            out.extend(sentence_examples(task, labels, retriever))
    return [_with_negatives(e, retriever, config, rng) for e in out]


def sentence_examples(task: Task, labels: list[str], retriever: BM25Retriever) -> list[Example]:
    """One example per sentence that is the best lexical match of at least one gold tool."""
    sentences = split_query(task.query)
    if len(sentences) < 2:
        return []
    scores = np.stack([retriever.scores(s) for s in sentences])  # (S, N)
    owner: dict[int, list[str]] = {}
    for name in labels:
        owner.setdefault(int(np.argmax(scores[:, retriever.index[name]])), []).append(name)
    return [Example(sentences[i], tuple(names), task.id) for i, names in sorted(owner.items())]


def _with_negatives(example: Example, retriever: BM25Retriever, config: ProposerConfig, rng: random.Random) -> Example:
    if config.hard_negatives == 0:
        return example
    ranked = [retriever.names[i] for i in top_k(retriever.scores(example.text), config.hard_negative_pool)]
    pool = [n for n in ranked if n not in example.positives]
    return replace(example, hard_negatives=tuple(rng.sample(pool, min(config.hard_negatives, len(pool)))))


def split_tasks(tasks: Sequence[Task], val_fraction: float, seed: int) -> tuple[list[Task], list[Task]]:
    """A seeded (train, validation) split of tasks (validation gets at least one task)."""
    order = list(tasks)
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(order) * val_fraction))
    return order[n_val:], order[:n_val]


def load_records(paths: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Distillation records (`raytool distill synth` output directories) by task id."""
    from raytool.distill.shards import read_shards

    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        for record in read_shards(Path(path)):
            out[record["task_id"]] = record
    return out
