"""Tool-selection metrics over ranked candidate lists (documented in docs/metrics.md).

recall@k    share of all gold tools (micro: summed over queries) that appear in the query's top k
complete@k  share of queries whose gold tools all appear in its top k
by_source   a metric on each source's queries; per_source: their mean (validation of a union of benchmarks)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def recall_at_k(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], k: int) -> float:
    """Micro recall@k: gold tools found in the top k over all gold tools."""
    found = sum(len(set(g) & set(r[:k])) for r, g in zip(ranked, gold, strict=True))
    total = sum(len(set(g)) for g in gold)
    return found / total if total else 0.0


def complete_at_k(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], k: int) -> float:
    """Share of queries whose gold tools are all in the top k."""
    hits = [set(g) <= set(r[:k]) for r, g in zip(ranked, gold, strict=True) if g]
    return sum(hits) / len(hits) if hits else 0.0


def by_source(metric: Callable[..., float], ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]],
              sources: Sequence[str], k: int) -> dict[str, float]:  # fmt: skip
    """`metric` on each source's queries: {source: value}."""
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        groups.setdefault(source, []).append(i)
    return {s: metric([ranked[i] for i in idx], [gold[i] for i in idx], k) for s, idx in groups.items()}


def per_source(metric: Callable[..., float], ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]],
               sources: Sequence[str], k: int) -> float:  # fmt: skip
    """`metric` on each source's queries, averaged with equal weight per source: on a union of benchmarks the
    largest one does not outvote the others; with one source it is `metric` itself."""
    values = list(by_source(metric, ranked, gold, sources, k).values())
    return sum(values) / len(values) if values else 0.0
