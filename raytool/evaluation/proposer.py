"""`raytool eval proposer`: a trained proposer against the untrained baselines, on any supported dataset.

    raytool eval proposer --checkpoint DIR --data PATH --format FORMAT [--tools PATH] --k 1,5,10 [--json]

Every method ranks each task's pool (its candidate list when the dataset gives one, else the whole catalogue):

    proposer          the checkpoint (fine-tuned MiniLM + BM25 over tool documents, per-sentence interleaving)
    bm25              BM25 over `name: description`, whole query (the usual lexical baseline)
    minilm_zero_shot  untrained all-MiniLM-L6-v2 cosine over `name: description`, whole query
    bm25_segmented    the proposer's lexical half alone: BM25 over full tool documents, per-sentence interleaving
                      (shows what the trained encoder adds over the ranking scheme)

Recall@k is the share of gold tools in the top k (micro), Complete@k the share of queries with all their gold
tools in the top k; for single-tool data Complete@1 is top-1 accuracy. For the proposer, `calibration_ece` is
the expected calibration error of its probabilities over its top max(k) candidates. `queries_per_s` excludes
the proposer's index build (`index_seconds`); the zero-shot baseline's includes embedding the catalogue.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from raytool.evaluation.retrieval import bm25_scores, embedding_scores, rank_pool
from raytool.proposer.adaptation import unseen_weights
from raytool.proposer.data import document_retriever
from raytool.proposer.documents import query_segments
from raytool.proposer.metrics import complete_at_k, recall_at_k
from raytool.proposer.ranking import expected_calibration_error, fuse, interleave
from raytool.tables import format_table
from raytool.tools.dataset import ToolDataset

BASELINES = ("bm25", "minilm_zero_shot", "bm25_segmented")
DATASET_DIR_FORMAT = "raytool"


def load_eval_data(
    path: Path, fmt: str, tools: Path | None = None, limit: int | None = None, skip_bad: bool = False,
    log: Callable[[str], None] | None = None,
) -> ToolDataset:  # fmt: skip
    """A benchmark file in its original format, or (`raytool`) a dataset directory; first `limit` tasks.
    `skip_bad`: skip (and count) records that cannot be understood instead of stopping. The import's counted
    quirks and skips go to `log` (default: stderr), one line each."""
    from raytool.tools.stats import report_lines

    if fmt == DATASET_DIR_FORMAT:
        dataset = ToolDataset.load(path)
    else:
        from raytool.tools.importers import import_dataset

        dataset = import_dataset(fmt, path, tools=tools, skip_bad=skip_bad)
    for line in report_lines(dataset.report):
        (log or (lambda m: print(m, file=sys.stderr)))(f"[data] {path}: {line}")
    if limit:
        dataset = ToolDataset(dataset.tools, dataset.tasks[:limit], dataset.info, dataset.report)
    return dataset


def evaluate(
    dataset: ToolDataset,
    ks: Sequence[int],
    proposer: Any | None = None,
    baselines: Sequence[str] = BASELINES,
    log: Callable[[str], None] = print,
    lexical_weight: float | None = None,
    adapt: bool = True,
) -> dict[str, Any]:
    """{"tasks", "tools", "methods": {method: {"recall@k", "complete@k", "seconds", "queries_per_s"}}}.
    `lexical_weight`: the proposer's fusion weight for every query (default: the checkpoint's per source); `adapt`:
    a source (benchmark) the proposer was not validated on gets a weight read from its own queries, without their
    labels (`raytool.proposer.adaptation`; reported as the proposer's "adapted_weights")."""
    gold = [t.tool_names for t in dataset.tasks]
    depth = max(ks)
    # each ranker returns (top-k names per task, extra figures: the proposer's index time and calibration)
    rankers: dict[str, Callable[[], tuple[list[list[str]], dict[str, float]]]] = {}
    zero_shot = functools.cache(lambda: _zero_shot_scores(dataset))  # the MiniLM baseline's, and the referee's
    if proposer is not None:
        referee = (lambda: [r[0] for r in rank_pool(dataset, zero_shot(), 1)]) if adapt else None
        rankers["proposer"] = lambda: _proposer_ranking(proposer, dataset, depth, log, lexical_weight, referee)
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baseline {unknown[0]!r}; choose from {', '.join(BASELINES)}")
    for name in baselines:
        rankers[name] = {
            "bm25": lambda: (rank_pool(dataset, bm25_scores(dataset), depth), {}),
            "minilm_zero_shot": lambda: (rank_pool(dataset, zero_shot(), depth), {}),
            "bm25_segmented": lambda: (segmented_lexical_ranking(dataset, depth), {}),
        }[name]
    methods = {}
    for name, rank in rankers.items():
        start = time.perf_counter()
        ranked, extra = rank()
        seconds = time.perf_counter() - start
        setup = extra.pop("index_seconds", 0.0)  # the proposer's index build is reported apart from query time
        row: dict[str, float] = {}
        for k in ks:
            row[f"recall@{k}"] = recall_at_k(ranked, gold, k)
            row[f"complete@{k}"] = complete_at_k(ranked, gold, k)
        query_seconds = max(seconds - setup, 1e-9)
        methods[name] = row | extra | {"seconds": round(seconds, 2), "index_seconds": round(setup, 2),
                                       "queries_per_s": round(len(gold) / query_seconds, 1)}  # fmt: skip
        log(f"[eval] {name}: " + ", ".join(f"{key} {value:.3f}" for key, value in row.items()))
    return {"tasks": len(dataset.tasks), "tools": len(dataset.tools), "ks": list(ks), "methods": methods}


def results_table(result: dict[str, Any]) -> str:
    ks = result["ks"]
    headers = ["method", *[f"Recall@{k}" for k in ks], *[f"Complete@{k}" for k in ks], "queries/s", "index s"]
    rows = [
        [
            name,
            *[m[f"recall@{k}"] for k in ks],
            *[m[f"complete@{k}"] for k in ks],
            m["queries_per_s"],
            m["index_seconds"],
        ]  # fmt: skip
        for name, m in result["methods"].items()
    ]
    return format_table(headers, rows)


def _pools(dataset: ToolDataset) -> list[tuple[str, ...]]:
    return [t.tools for t in dataset.tasks]


def _proposer_ranking(
    proposer: Any, dataset: ToolDataset, k: int, log: Callable, lexical_weight: float | None,
    referee: Callable[[], list[str]] | None,
) -> tuple[list[list[str]], dict[str, Any]]:  # fmt: skip
    """The proposer's top-k per task; `referee`: zero-shot MiniLM's top-1 per task, for the weight of a source it
    was not validated on (`adaptation.unseen_weights`; None: no adaptation)."""
    pooled = all(t.tools for t in dataset.tasks)  # every task has its candidate list: index only those tools
    names = list(dict.fromkeys(n for t in dataset.tasks for n in t.tools)) if pooled else list(dataset.tools)
    index = proposer.index([dataset.tools[n] for n in names], log=log)
    log(f"[eval] index of {len(index.names):,} tools: {index.encoded:,} embedded now, built in {index.seconds:.1f}s")
    queries = [t.query for t in dataset.tasks]
    sources = [t.source for t in dataset.tasks]  # a union proposer ranks each benchmark with its own fitted weight
    scored = proposer.score(queries, index, pools=_pools(dataset))
    adapted = {}
    if referee is not None and lexical_weight is None:  # a benchmark it was not validated on: weight from its queries
        adapted = unseen_weights(proposer.meta, scored, index.names, sources, referee)
        for source, row in adapted.items():
            log(f"[eval] {source}: unseen by the proposer; lexical weight {row['weight']:.3f} from its "
                f"{row['queries']:,} queries (agreement ratio {row['ratio']:.2f})")  # fmt: skip
    weights = {s: row["weight"] for s, row in adapted.items()}
    proposals = proposer.rank_scored(scored, index, k, lexical_weight, sources, weights)
    probs = np.array([p for proposal in proposals for p in proposal.probs])
    hits = np.array([n in set(t.tool_names) for p, t in zip(proposals, dataset.tasks, strict=True) for n in p.names])
    ece = expected_calibration_error(probs, hits.astype(float)) if len(probs) else 0.0
    return [p.names for p in proposals], {"index_seconds": index.seconds, "calibration_ece": ece,
                                          "adapted_weights": adapted}  # fmt: skip


def _zero_shot_scores(dataset: ToolDataset) -> np.ndarray:
    from raytool.envs.encoders import MiniLMEncoder

    return embedding_scores(dataset, MiniLMEncoder())


def segmented_lexical_ranking(dataset: ToolDataset, k: int) -> list[list[str]]:
    """BM25 over full tool documents per query sentence, lists interleaved (`raytool.proposer.ranking`)."""
    retriever = document_retriever(dataset.tools)
    out = []
    for task in dataset.tasks:
        cols = np.array([retriever.index[n] for n in task.tools]) if task.tools else np.arange(len(retriever.names))
        lexical = np.stack([retriever.scores(s)[cols] for s in query_segments(task.query)])
        top, _ = interleave(fuse(np.zeros_like(lexical), lexical, 1.0), min(k, len(cols)))
        out.append([retriever.names[j] for j in cols[top]])
    return out
