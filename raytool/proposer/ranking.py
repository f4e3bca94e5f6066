"""From per-segment scores to one ranked candidate list with calibrated probabilities (numpy, no torch).

For a query with segments s = 0 (the whole query) .. S-1 (its sentences) and N tools:

    fused[s, i] = cos(e_s, t_i) + w * bm25(s, i) / max_j bm25(s, j)          (dense + normalised lexical)
    rank[s, i]  = position of tool i in segment s's list, best first
    order       = tools sorted by (min_s rank[s, i], -max_s fused[s, i])       (interleaves the segments' lists)
    p_i         = sigmoid(a * max_s fused[s, i] + b)                           (Platt scaling, fit on validation)

Interleaving gives each sentence of a multi-part request its best tools before any sentence gets its
second best, which is what Complete@k rewards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def fuse(dense: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> np.ndarray:
    """fused (S, N) from cosine (S, N) and raw BM25 (S, N) scores."""
    peak = lexical.max(axis=1, keepdims=True)
    return dense + lexical_weight * lexical / np.where(peak > 0, peak, 1.0)


def interleave(fused: np.ndarray, k: int, depth: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the k best tools, best first; their max fused score). fused (S, N).

    Only each segment's `depth` best tools (default k) compete by rank; the rest follow by max fused score.
    """
    n = fused.shape[1]
    depth = min(depth or k, n)
    best = fused.max(axis=0)  # (N,)
    min_rank = np.full(n, depth, dtype=np.int64)
    for row in fused:
        top = np.argpartition(-row, depth - 1)[:depth] if depth < n else np.arange(n)
        top = top[np.lexsort((top, -row[top]))]
        np.minimum.at(min_rank, top, np.arange(len(top)))
    pool = np.flatnonzero(min_rank < depth)
    if len(pool) < k:  # fill up from the rest by score
        rest = np.setdiff1d(np.arange(n), pool)
        pool = np.concatenate([pool, rest[np.argsort(-best[rest], kind="stable")[: k - len(pool)]]])
    order = pool[np.lexsort((pool, -best[pool], min_rank[pool]))][:k]
    return order, best[order]


@dataclass(frozen=True)
class PlattScaling:
    """p = sigmoid(a * score + b)."""

    a: float = 10.0
    b: float = -5.0

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * np.asarray(scores, dtype=np.float64) + self.b)))


def fit_platt(scores: np.ndarray, labels: np.ndarray, steps: int = 500, lr: float = 0.5) -> PlattScaling:
    """Logistic regression of labels (0/1) on one score by gradient descent on the mean log-loss."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.std() < 1e-6:  # no spread to regress on: a flat probability, the base rate
        rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        return PlattScaling(0.0, float(np.log(rate / (1 - rate))))
    mu, sd = x.mean(), x.std()
    z = (x - mu) / sd
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        a -= lr * float(np.mean((p - y) * z))
        b -= lr * float(np.mean(p - y))
    return PlattScaling(a / sd, b - a * mu / sd)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: sum over equal-width probability bins of |mean p - hit rate| weighted by the bin's share."""
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    idx = np.minimum((probs * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.mean() * abs(probs[sel].mean() - labels[sel].mean())
    return float(total)
