"""Cached observation features of a dataset: tool and query vectors, and each task's ranked candidates.

Computed once per (dataset, encoder, candidate source) and stored as one `.npz` under the cache directory
(`$RAYTOOL_CACHE/features/<key>.npz`, written through a temporary file and a rename), so env runners only load
arrays: nothing is embedded or retrieved per step.

Arrays: `tool_vecs (T, D)` over the catalogue (in `tools.jsonl` order), `query_vecs (N, D)` over the tasks,
`ranked (N, K)` catalogue indices of each task's top-K pool tools by the source's score (-1 pads short
pools), `scores (N, K)` their scores scaled to [0, 1] per task, `parts (N,)` the number of planned sub-tasks
a task's ranking was merged from (a proxy's job of several parts; 0 otherwise), and `part_ranked (N, P, K)` /
`part_scores (N, P, K)` each of those parts' own ranking (P the most parts of any task, 0 when none has parts;
-1 pads).

Sources: `bm25`, `embedding` (cosine of the encoder's vectors), or `file:<path>` — rankings made elsewhere (the
trained proposer: `raytool.decider.candidates`), a JSONL of `{"task_id", "names", "scores"}` per task with
scores already in [0, 1] (the proposer's calibrated probabilities), kept as they are, and `"parts"`,
`"part_names"`, `"part_scores"` where the ranking merges several sub-tasks' (`rank_candidates`). The same
records can be handed over in memory (`build_features(..., rankings=...)`, source `memory`): a proxy ranks a
request's tools and builds its env without writing anything (`raytool.agent.proxy`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raytool.envs.encoders import make_encoder
from raytool.envs.retrieval import BM25Retriever, tool_text, top_k
from raytool.tools.dataset import ToolDataset

SOURCES = ("bm25", "embedding")
FILE_SOURCE = "file:"
MEMORY_SOURCE = "memory"


@dataclass
class FeatureCache:
    tool_names: list[str]
    tool_vecs: np.ndarray
    query_vecs: np.ndarray
    ranked: np.ndarray
    scores: np.ndarray
    parts: np.ndarray | None = None  # (N,) planned sub-tasks per task; None = 0 for every task
    part_ranked: np.ndarray | None = None  # (N, P, K) each part's own ranking; None = no part has one
    part_scores: np.ndarray | None = None  # (N, P, K)

    def __post_init__(self) -> None:
        n, k = len(self.query_vecs), self.ranked.shape[1] if self.ranked.ndim == 2 else 0
        if self.parts is None:
            self.parts = np.zeros(n, dtype=np.int32)
        if self.part_ranked is None or self.part_scores is None:
            self.part_ranked = np.full((n, 0, k), -1, dtype=np.int32)
            self.part_scores = np.zeros((n, 0, k), dtype=np.float32)

    def part_ranking(self, row: int, part: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Task `row`'s part `part`'s own ranking (catalogue indices, scores), None when it has no such part."""
        if part >= min(int(self.parts[row]), self.part_ranked.shape[1]):
            return None
        return self.part_ranked[row, part], self.part_scores[row, part]

    @property
    def dim(self) -> int:
        return int(self.tool_vecs.shape[1])


def cache_key(dataset: ToolDataset, encoder: str, source: str, k: int) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([encoder, source, k]).encode())
    if source.startswith(FILE_SOURCE):
        digest.update(Path(source[len(FILE_SOURCE) :]).read_bytes())
    for spec in dataset.tools.values():
        digest.update(tool_text(spec).encode())
    for task in dataset.tasks:
        digest.update(json.dumps([task.id, task.query, list(task.tools)]).encode())
    return digest.hexdigest()[:20]


def load_or_build_features(dataset: ToolDataset, encoder: str, source: str, k: int, cache_root: Path) -> FeatureCache:
    """The dataset's features from the cache, computing and storing them on a miss."""
    if source not in SOURCES and not source.startswith(FILE_SOURCE):
        raise ValueError(f"unknown candidate source {source!r}; choose one of {', '.join(SOURCES)} or file:<path>")
    path = Path(cache_root) / f"{cache_key(dataset, encoder, source, k)}.npz"
    names = list(dataset.tools)
    if path.exists():
        data = np.load(path)
        optional = [data[key] if key in data else None for key in ("parts", "part_ranked", "part_scores")]
        return FeatureCache(names, data["tool_vecs"], data["query_vecs"], data["ranked"], data["scores"], *optional)
    features = build_features(dataset, encoder, source, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".features-", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        np.savez(
            fh,
            tool_vecs=features.tool_vecs,
            query_vecs=features.query_vecs,
            ranked=features.ranked,
            scores=features.scores,
            parts=features.parts,
            part_ranked=features.part_ranked,
            part_scores=features.part_scores,
        )
    os.replace(tmp, path)
    return features


def build_features(
    dataset: ToolDataset, encoder_name: str, source: str, k: int, rankings: dict[str, dict] | None = None
) -> FeatureCache:
    """Encode tools and queries once; rank each task's pool by the candidate source (`memory`: the given
    `rankings`, task id -> `{"names", "scores"}` record as in a rankings file)."""
    if (source == MEMORY_SOURCE) != (rankings is not None):
        raise ValueError(f"candidate source {MEMORY_SOURCE!r} comes with rankings and only it does, got {source!r}")
    encoder = make_encoder(encoder_name)
    specs = list(dataset.tools.values())
    names = [s.name for s in specs]
    tool_vecs = encoder.encode([tool_text(s) for s in specs]).astype(np.float32)
    query_vecs = encoder.encode([t.query for t in dataset.tasks]).astype(np.float32)
    index = {n: i for i, n in enumerate(names)}
    if rankings is not None:
        return FeatureCache(names, tool_vecs, query_vecs, *_rankings_arrays(rankings, dataset, index, k, "rankings"))
    if source.startswith(FILE_SOURCE):
        path = Path(source[len(FILE_SOURCE) :])
        arrays = _rankings_arrays(_read_rankings(path, index), dataset, index, k, str(path))
        return FeatureCache(names, tool_vecs, query_vecs, *arrays)
    retriever = BM25Retriever(specs) if source == "bm25" else None
    ranked = np.full((len(dataset.tasks), k), -1, dtype=np.int32)
    scores = np.zeros((len(dataset.tasks), k), dtype=np.float32)
    for row, task in enumerate(dataset.tasks):
        raw = retriever.scores(task.query) if retriever else tool_vecs @ query_vecs[row]
        pool = np.array([index[n] for n in task.tools]) if task.tools else np.arange(len(names))
        best = pool[top_k(raw[pool], k)]
        ranked[row, : len(best)] = best
        top = raw[best]
        spread = float(top.max() - top.min()) if len(top) else 0.0
        scores[row, : len(best)] = (top - top.min()) / spread if spread > 0 else 1.0
    return FeatureCache(names, tool_vecs, query_vecs, ranked, scores)


def _read_rankings(path: Path, index: dict[str, int]) -> dict[str, dict]:
    """A rankings file's records by task id (module docstring)."""
    rows = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            unknown = [n for n in record.get("names", []) if n not in index]
            if unknown or len(record.get("names", [])) != len(record.get("scores", [])):
                raise ValueError(f"{path}:{number}: field 'names': unknown tools {unknown[:3]} or lengths differ")
            parts = record.get("parts", 0)
            if not isinstance(parts, int) or isinstance(parts, bool) or parts < 0:
                raise ValueError(f"{path}:{number}: field 'parts': expected a count of sub-tasks >= 0, got {parts!r}")
            _check_part_rankings(record, index, f"{path}:{number}")
            rows[record["task_id"]] = record
    return rows


def _check_part_rankings(record: dict, index: dict[str, int], where: str) -> None:
    """A record's `part_names` / `part_scores`: absent, or one ranking of known tools per part, lengths agreeing."""
    names, scores = record.get("part_names"), record.get("part_scores")
    if names is None and scores is None:
        return
    parts = record.get("parts", 0)
    if not isinstance(names, list) or not isinstance(scores, list) or len(names) != parts or len(scores) != parts:
        raise ValueError(f"{where}: field 'part_names': expected {parts} part rankings with their 'part_scores'")
    for part, (ns, ss) in enumerate(zip(names, scores, strict=True)):
        unknown = [n for n in ns if n not in index]
        if unknown or len(ns) != len(ss):
            raise ValueError(f"{where}: field 'part_names[{part}]': unknown tools {unknown[:3]} or lengths differ")


def _rankings_arrays(
    rows: dict[str, dict], dataset: ToolDataset, index: dict[str, int], k: int, origin: str
) -> tuple[np.ndarray, ...]:
    """`ranked`, `scores`, `parts`, `part_ranked`, `part_scores` from ranking records by task id; every task needs
    one."""
    ranked = np.full((len(dataset.tasks), k), -1, dtype=np.int32)
    scores = np.zeros((len(dataset.tasks), k), dtype=np.float32)
    parts = np.zeros(len(dataset.tasks), dtype=np.int32)
    most = max((len(rows[t.id].get("part_names") or ()) for t in dataset.tasks if t.id in rows), default=0)
    part_ranked = np.full((len(dataset.tasks), most, k), -1, dtype=np.int32)
    part_scores = np.zeros((len(dataset.tasks), most, k), dtype=np.float32)
    for row, task in enumerate(dataset.tasks):
        if task.id not in rows:
            raise ValueError(f"{origin}: no ranking for task {task.id!r} (task {row})")
        names, probs = rows[task.id]["names"][:k], rows[task.id]["scores"][:k]
        unknown = [n for n in names if n not in index]
        if unknown:
            raise ValueError(f"{origin}: task {task.id!r}: unknown tools {unknown[:3]}")
        ranked[row, : len(names)] = [index[n] for n in names]
        scores[row, : len(names)] = np.clip(probs, 0.0, 1.0)
        parts[row] = int(rows[task.id].get("parts", 0))
        _check_part_rankings(rows[task.id], index, f"{origin}: task {task.id!r}")
        by_part = zip(rows[task.id].get("part_names") or (), rows[task.id].get("part_scores") or (), strict=True)
        for part, (ns, ss) in enumerate(by_part):
            ns = ns[:k]
            part_ranked[row, part, : len(ns)] = [index[n] for n in ns]
            part_scores[row, part, : len(ns)] = np.clip(ss[: len(ns)], 0.0, 1.0)
    return ranked, scores, parts, part_ranked, part_scores
