"""The untrained retrieval baselines, and the tool-selection metrics (`raytool.proposer.metrics`, re-exported).

Baselines rank a task's pool (its candidate list, or the whole catalogue) by BM25 over `name: description`
or by zero-shot all-MiniLM-L6-v2 cosine similarity; the trained proposer is compared against both on the same
data (`benchmarks/proposer_baselines.py`).
"""

from __future__ import annotations

import numpy as np

from raytool.envs.retrieval import BM25Retriever, tool_text, top_k
from raytool.proposer.metrics import complete_at_k, recall_at_k
from raytool.tools.dataset import ToolDataset

__all__ = ["bm25_scores", "complete_at_k", "embedding_scores", "rank_pool", "recall_at_k"]


def rank_pool(dataset: ToolDataset, scores: np.ndarray, k: int) -> list[list[str]]:
    """Top-k tool names per task from a (tasks, catalogue) score matrix, restricted to each task's pool."""
    names = list(dataset.tools)
    index = {n: i for i, n in enumerate(names)}
    ranked = []
    for row, task in enumerate(dataset.tasks):
        pool = np.array([index[n] for n in task.tools]) if task.tools else np.arange(len(names))
        ranked.append([names[i] for i in pool[top_k(scores[row, pool], k)]])
    return ranked


def bm25_scores(dataset: ToolDataset) -> np.ndarray:
    """(tasks, catalogue) BM25 scores of every query against every tool."""
    retriever = BM25Retriever(list(dataset.tools.values()))
    return np.stack([retriever.scores(t.query) for t in dataset.tasks])


def embedding_scores(dataset: ToolDataset, encoder) -> np.ndarray:
    """(tasks, catalogue) cosine similarities of unit query and tool vectors from `encoder`."""
    tools = encoder.encode([tool_text(s) for s in dataset.tools.values()])
    queries = encoder.encode([t.query for t in dataset.tasks])
    return queries @ tools.T
