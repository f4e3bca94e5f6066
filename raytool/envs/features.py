"""Cached observation features of a dataset: tool and query vectors, and each task's ranked candidates.

Computed once per (dataset, encoder, candidate source) and stored as one `.npz` under the cache directory
(`$RAYTOOL_CACHE/features/<key>.npz`, written through a temporary file and a rename), so env runners only load
arrays: nothing is embedded or retrieved per step.

Arrays: `tool_vecs (T, D)` over the catalogue (in `tools.jsonl` order), `query_vecs (N, D)` over the tasks,
`ranked (N, K)` catalogue indices of each task's top-K pool tools by the source's score (-1 pads short
pools) and `scores (N, K)` their scores scaled to [0, 1] per task.
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


@dataclass
class FeatureCache:
    tool_names: list[str]
    tool_vecs: np.ndarray
    query_vecs: np.ndarray
    ranked: np.ndarray
    scores: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.tool_vecs.shape[1])


def cache_key(dataset: ToolDataset, encoder: str, source: str, k: int) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([encoder, source, k]).encode())
    for spec in dataset.tools.values():
        digest.update(tool_text(spec).encode())
    for task in dataset.tasks:
        digest.update(json.dumps([task.id, task.query, list(task.tools)]).encode())
    return digest.hexdigest()[:20]


def load_or_build_features(dataset: ToolDataset, encoder: str, source: str, k: int, cache_root: Path) -> FeatureCache:
    """The dataset's features from the cache, computing and storing them on a miss."""
    if source not in SOURCES:
        raise ValueError(f"unknown candidate source {source!r}; choose one of {', '.join(SOURCES)}")
    path = Path(cache_root) / f"{cache_key(dataset, encoder, source, k)}.npz"
    names = list(dataset.tools)
    if path.exists():
        data = np.load(path)
        return FeatureCache(names, data["tool_vecs"], data["query_vecs"], data["ranked"], data["scores"])
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
        )
    os.replace(tmp, path)
    return features


def build_features(dataset: ToolDataset, encoder_name: str, source: str, k: int) -> FeatureCache:
    """Encode tools and queries once; rank each task's pool by the candidate source."""
    encoder = make_encoder(encoder_name)
    specs = list(dataset.tools.values())
    names = [s.name for s in specs]
    tool_vecs = encoder.encode([tool_text(s) for s in specs]).astype(np.float32)
    query_vecs = encoder.encode([t.query for t in dataset.tasks]).astype(np.float32)
    index = {n: i for i, n in enumerate(names)}
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
