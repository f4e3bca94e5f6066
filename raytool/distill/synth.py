"""`raytool distill synth`: the teacher's tool choices with rationales for every task, as distillation data.

Per task the teacher sees the query and a candidate list (the gold tools plus the best BM25 matches from the
task's pool, `num_candidates` in all, in a deterministic shuffled order) and is asked for

  selection    JSON {"rationale", "tools"} (prompt (a)), with the answer prefilled (`RATIONALE_PREFIX`,
               `TOOLS_PREFIX`: chain of thought first, then the tools); parsed robustly. When the answer holds no usable
               JSON (a parse failure; the names a free-text scan finds are kept as `scanned_tools`), the
               fallback is likelihood scoring: the candidate the teacher finds most likely as the first
               tool is its choice.
  rationale    a rationale for the gold tools (prompt (b)), the target of the proposer's rationale head.
  likelihood   for parse failures only: the summed log-likelihood of each candidate as the first tool
               (prompt (c)); prompt log-probabilities over long prompts are the costly call on CPU.
  arguments    (`arguments=True`) per chosen tool, the call's arguments as a JSON object (prompt (d)), kept only
               where the request states the value (`call_arguments.py`): the record's `teacher_calls`, and
               `teacher_calls/`, a dataset the argument filler trains on where a dataset has no gold arguments.

Records go to sharded JSONL (`raytool.distill.shards`); every teacher call goes through the prompt cache.
`summary.json` reports parse failures and the teacher's accuracy against gold.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from raytool.distill.cache import PromptCache, cached_generate, cached_scores
from raytool.distill.call_arguments import ARGUMENTS_PREFIX, parse_arguments, stated_arguments, teacher_call_dataset
from raytool.distill.shards import run_sharded
from raytool.envs.retrieval import BM25Retriever, top_k
from raytool.tables import format_table
from raytool.teacher.backend import Sampling, TeacherBackend
from raytool.teacher.parsing import ToolSelection, parse_rationale, parse_tool_selection
from raytool.teacher.prompts import (
    call_arguments_messages,
    candidate_continuations,
    next_tool_prompt_messages,
    next_tool_scoring_prompt,
    rationalization_messages,
    tool_selection_messages,
)
from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text
from raytool.tools.task import Task

# The answer is prefilled so that even a weak model writes inside the JSON: first the rationale (generation
# stops at its closing quote), then the tool list (stops at "]"); the pieces are joined and parsed as JSON.
RATIONALE_PREFIX = '{"rationale": "'
TOOLS_PREFIX = '", "tools": ["'
TEACHER_CALLS = "teacher_calls"


@dataclass(frozen=True)
class SynthConfig:
    """Settings of `distill synth`.

    num_candidates: tools shown per task (gold + BM25 distractors).
    max_tokens: generation budget per rationale.
    shard_size: tasks per shard (the unit of resumption).
    limit: only the first `limit` tasks (None: all).
    workers: shards processed at once (match the teacher's actor count).
    arguments: also have the teacher write each chosen tool's arguments (one more generation per call).
    """

    num_candidates: int = 8
    max_tokens: int = 96
    shard_size: int = 25
    limit: int | None = None
    workers: int = 1
    arguments: bool = True


def synthesize(
    dataset: ToolDataset, out_dir: Path, teacher: TeacherBackend, config: SynthConfig, log: Callable = print
) -> dict[str, Any]:
    """Run the job (module docstring); returns the summary also written to `summary.json`."""
    tasks = dataset.tasks[: config.limit] if config.limit else dataset.tasks
    specs = list(dataset.tools.values())
    retriever = BM25Retriever(specs)
    cache = PromptCache(Path(out_dir) / "cache")
    sampling = Sampling(max_tokens=config.max_tokens, stop=('"', "\n"))
    tools_sampling = Sampling(max_tokens=48, stop=("]", "\n"))
    start = time.perf_counter()

    def process(indices: list[int]) -> list[dict[str, Any]]:
        chunk = [tasks[i] for i in indices]
        candidates = [_candidates(t, dataset, retriever, config.num_candidates) for t in chunk]
        pairs = list(zip(chunk, candidates, strict=True))
        pick = [p + RATIONALE_PREFIX for p in teacher.chat([tool_selection_messages(t.query, c) for t, c in pairs])]
        why = teacher.chat([rationalization_messages(t.query, c, t.tool_names) for t, c in pairs])
        thoughts = cached_generate(teacher, cache, pick, sampling)
        listed = [p + r + TOOLS_PREFIX for p, r in zip(pick, thoughts, strict=True)]
        answers = [RATIONALE_PREFIX + r + TOOLS_PREFIX + t + "]}" for r, t in
                   zip(thoughts, cached_generate(teacher, cache, listed, tools_sampling), strict=True)]  # fmt: skip
        why = [p + RATIONALE_PREFIX for p in why]
        rationales = [RATIONALE_PREFIX + r + '"}' for r in cached_generate(teacher, cache, why, sampling)]
        selections = [
            parse_tool_selection(a, [c.name for c in cands]) for a, cands in zip(answers, candidates, strict=True)
        ]
        failed = [i for i, sel in enumerate(selections) if not sel.ok]
        scores: list[list[float] | None] = [None] * len(chunk)
        if failed:  # likelihood fallback, scored only where it is needed (prompt log-probs are the costly call)
            prompts = teacher.chat([next_tool_prompt_messages(chunk[i].query, [], candidates[i]) for i in failed])
            conts = [candidate_continuations(candidates[i]) for i in failed]
            for i, row in zip(
                failed,
                cached_scores(teacher, cache, [next_tool_scoring_prompt(p) for p in prompts], conts),
                strict=True,
            ):
                scores[i] = row
        rows = zip(chunk, candidates, selections, answers, rationales, scores, strict=True)
        records = [_record(*row) for row in rows]
        if config.arguments:
            _write_arguments(records, dataset, teacher, cache)
        return records

    job = {"kind": "synth", "teacher": teacher.model_name, "config": asdict(config)}
    records = run_sharded(Path(out_dir), [t.id for t in tasks], config.shard_size, process, config.workers, job, log)
    summary = summarize(records) | {"seconds": round(time.perf_counter() - start, 1), "teacher": teacher.model_name,
                                   "cache_hits": cache.hits, "cache_misses": cache.misses}  # fmt: skip
    if config.arguments:
        teacher_call_dataset(records, dataset.tools, teacher.model_name).save(Path(out_dir) / TEACHER_CALLS)
    atomic_write_text(Path(out_dir) / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _write_arguments(records: list[dict[str, Any]], dataset: ToolDataset, teacher, cache: PromptCache) -> None:
    """Prompt (d) for every chosen tool of every record, one batch; adds `teacher_calls` to each record."""
    jobs = [(r, name) for r in records for name in r["teacher_tools"] if name in dataset.tools]
    prompts = [
        p + ARGUMENTS_PREFIX
        for p in teacher.chat([call_arguments_messages(r["query"], dataset.tools[name]) for r, name in jobs])
    ]  # fmt: skip
    written = cached_generate(teacher, cache, prompts, Sampling(max_tokens=64, stop=("\n",))) if prompts else []
    for record in records:
        record["teacher_calls"] = []
    for (record, name), text in zip(jobs, written, strict=True):
        raw = parse_arguments(text)
        kept, dropped = stated_arguments(raw, dataset.tools[name], record["query"]) if raw is not None else ({}, {})
        record["teacher_calls"].append({"name": name, "arguments": kept, "dropped": dropped, "parsed": raw is not None,
                                        "raw": ARGUMENTS_PREFIX + text})  # fmt: skip


def _candidates(task: Task, dataset: ToolDataset, retriever: BM25Retriever, k: int) -> list:
    """Gold tools plus the best BM25 matches from the task's pool, shuffled deterministically by task id."""
    gold = task.tool_names
    scores = retriever.scores(task.query)
    pool = np.array([retriever.index[n] for n in task.tools]) if task.tools else np.arange(len(scores))
    names = list(gold)
    for i in pool[top_k(scores[pool], k + len(gold))]:
        if len(names) >= max(k, len(gold)):
            break
        if retriever.names[i] not in names:
            names.append(retriever.names[i])
    random.Random(int(hashlib.sha256(task.id.encode()).hexdigest()[:8], 16)).shuffle(names)
    return [dataset.tools[n] for n in names]


def _record(
    task: Task, candidates: list, selection: ToolSelection, answer: str, rationale_text: str, scores: list[float] | None
) -> dict[str, Any]:
    names = [c.name for c in candidates]
    rationale = parse_rationale(rationale_text)
    fallback, tools = None, selection.tools
    if not selection.ok:  # no usable JSON answer: the teacher's choice is its most likely first tool
        tools, fallback = [names[int(np.argmax(scores))]], "likelihood"
    return {
        "task_id": task.id,
        "query": task.query,
        "candidates": names,
        "gold": task.tool_names,
        "gold_calls": [{"name": c.name, "arguments": c.arguments} for c in task.calls],
        "teacher_tools": tools,
        "scanned_tools": selection.tools,
        "teacher_rationale": selection.rationale,
        "selection_ok": selection.ok,
        "selection_failure": selection.failure,
        "fallback": fallback,
        "gold_rationale": rationale.text,
        "gold_rationale_ok": rationale.ok,
        "first_tool_logprobs": scores,
        "raw_selection": answer,
    }


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Parse-failure rates and the teacher's accuracy against gold (exact set, micro precision/recall, top-1)."""
    n = max(len(records), 1)
    tp = sum(len(set(r["teacher_tools"]) & set(r["gold"])) for r in records)
    predicted = sum(len(set(r["teacher_tools"])) for r in records)
    gold = sum(len(set(r["gold"])) for r in records)
    first = [r for r in records if r["gold"]]
    return {
        "tasks": len(records),
        "selection_parse_failure_rate": sum(not r["selection_ok"] for r in records) / n,
        "selection_fallback_rate": sum(r["fallback"] is not None for r in records) / n,
        "rationale_parse_failure_rate": sum(not r["gold_rationale_ok"] for r in records) / n,
        "exact_set_accuracy": sum(set(r["teacher_tools"]) == set(r["gold"]) for r in records) / n,
        "tool_precision": tp / max(predicted, 1),
        "tool_recall": tp / max(gold, 1),
        "first_tool_accuracy": sum(r["teacher_tools"][:1] == r["gold"][:1] for r in first) / max(len(first), 1),
        "chance_first_tool_accuracy": float(np.mean([1 / len(r["candidates"]) for r in records])) if records else 0.0,
        "mean_tools_predicted": predicted / n,
        "mean_tools_gold": gold / n,
    } | _argument_summary(records)


def _argument_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Parse failures of the teacher's argument objects, values kept / dropped (by reason), and the kept values'
    agreement with the gold call of the same tool where the task has one."""
    calls = [c for r in records for c in r.get("teacher_calls") or ()]
    if not calls:
        return {}
    dropped = Counter(reason for call in calls for reason in call["dropped"].values())
    agree, compared = 0, 0
    for record in records:
        gold = {c["name"]: c.get("arguments") or {} for c in record.get("gold_calls") or ()}
        for call in record.get("teacher_calls") or ():
            for name, value in call["arguments"].items():
                if call["name"] in gold and name in gold[call["name"]]:
                    compared += 1
                    agree += str(value) == str(gold[call["name"]][name])
    kept = sum(len(c["arguments"]) for c in calls)
    return {
        "argument_calls": len(calls),
        "argument_parse_failure_rate": sum(not c["parsed"] for c in calls) / len(calls),
        "argument_values_kept": kept,
        "argument_values_dropped": sum(dropped.values()),
        "argument_dropped_by_reason": dict(dropped),
        "argument_kept_gold_agreement": agree / compared if compared else None,
    }


def summary_table(summary: dict[str, Any]) -> str:
    keys = [k for k in summary if isinstance(summary[k], (int, float)) and not isinstance(summary[k], bool)]
    return format_table(["metric", "value"], [[k, summary[k]] for k in keys])
