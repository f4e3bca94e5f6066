"""Teacher signals turned into a distribution pi_LLM over a decider state's candidates (pure numpy).

Likelihoods always exist; a generated ranking is mixed in only when it parsed completely (`Ranking.complete`),
otherwise the likelihood distribution alone is used: that is the documented fallback.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def likelihood_distribution(logprobs: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """pi[j] = exp(l[j] / T) / sum_k exp(l[k] / T) for logprobs l of shape (p,); returns shape (p,).

    Computed as exp((l - max l) / T) so nothing overflows. -inf (and NaN) entries get probability 0; if every
    entry is -inf the result is uniform; +inf entries share all the mass. Raises ValueError for T <= 0 or a
    non-1-D input.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    x = np.asarray(logprobs, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"logprobs must be 1-D, got shape {x.shape}")
    if x.size == 0:
        return x.copy()
    x = np.where(np.isnan(x), -np.inf, x)
    if np.isposinf(x).any():
        weights = np.isposinf(x).astype(np.float64)
    elif np.isneginf(x).all():
        weights = np.ones_like(x)
    else:
        with np.errstate(over="ignore"):  # finite - finite may overflow to -inf, whose exp is the right 0
            weights = np.exp((x - x.max()) / temperature)
    return weights / weights.sum()


def ranking_distribution(order_indices: Sequence[int], p: int, decay: float = 0.5) -> np.ndarray:
    """Geometric rank weights: the candidate at rank r (0 = best) of `order_indices` gets decay**r; shape (p,).

    With k candidates ranked, the p - k unranked ones share the tail mass sum_{r=k}^{p-1} decay**r equally, so
    each gets less than any ranked one. The weights are normalised to sum to 1 (decay = 1 gives uniform).
    Raises ValueError for decay outside (0, 1], p < 0, or indices that repeat or fall outside 0..p-1.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    if p < 0:
        raise ValueError(f"p must be >= 0, got {p}")
    order = [int(i) for i in order_indices]
    if len(set(order)) != len(order) or any(not 0 <= i < p for i in order):
        raise ValueError(f"order_indices must be distinct indices in 0..{p - 1}, got {order}")
    rank_weights = decay ** np.arange(p, dtype=np.float64)
    pi = np.zeros(p, dtype=np.float64)
    pi[np.asarray(order, dtype=np.int64)] = rank_weights[: len(order)]
    unranked = np.setdiff1d(np.arange(p), order)
    if unranked.size:
        pi[unranked] = rank_weights[len(order) :].sum() / unranked.size
    return pi / pi.sum() if p else pi


def combine_distributions(pi_likelihood: np.ndarray, pi_ranking: np.ndarray | None, weight: float) -> np.ndarray:
    """pi ∝ pi_likelihood**(1 - w) * pi_ranking**w (a weighted geometric mean), renormalised; shape (p,).

    The fallback rule: pass `pi_ranking` only when the ranking answer parsed completely (`Ranking.complete`);
    with None the likelihood distribution is returned unchanged. w = 0 gives pi_likelihood, w = 1 pi_ranking;
    if the two have disjoint support (the product is zero everywhere) pi_likelihood is returned.
    """
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    pl = np.asarray(pi_likelihood, dtype=np.float64)
    if pi_ranking is None or weight == 0:
        return pl.copy()
    pr = np.asarray(pi_ranking, dtype=np.float64)
    if pr.shape != pl.shape:
        raise ValueError(f"shapes differ: {pl.shape} vs {pr.shape}")
    if weight == 1:
        return pr / pr.sum()
    with np.errstate(divide="ignore"):
        mixed = (1 - weight) * np.log(pl) + weight * np.log(pr)
    return pl.copy() if np.isneginf(mixed).all() else likelihood_distribution(mixed)
