"""The fusion's lexical weight for a catalogue the proposer was never validated on, read from its unlabelled queries.

A checkpoint fits its lexical weight w (`ranking.fuse`) on validation tasks; a catalogue unlike them can want a very
different one (MetaTool's one-line plugin descriptions want almost none, Seal-Tools' long documents 0.3). What tells
them apart without labels is how often the two fused rankings agree, measured against a referee that is neither:

    ratio = P(dense top-1 == BM25 top-1) / P(dense top-1 == zero-shot MiniLM top-1)

over a set of queries (the referee's agreement with the dense ranking normalises for how ambiguous the catalogue
is). Where BM25 agrees with the dense ranking much less than it did on the validation tasks, its term is trusted
less:

    weight = base * min(1, ratio / reference)

`base`: the median of a union checkpoint's per-source weights (a new catalogue gets the weight typical of the
training catalogues; a source with a dozen validation tasks cannot pull it to an extreme), else the fitted weight;
`reference`: the median of the per-source ratios on the validation tasks (`CheckpointMeta.source_ratios`). The
weight is only ever lowered: nothing here says when the lexical term deserves more than the validation tasks gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from raytool.proposer.ranking import fuse, interleave


@dataclass(frozen=True)
class Agreement:
    """Over `n` queries: the share whose dense top-1 is BM25's (`dense_lexical`) and zero-shot MiniLM's
    (`dense_referee`)."""

    n: int
    dense_lexical: float
    dense_referee: float

    @property
    def ratio(self) -> float:
        return self.dense_lexical / max(self.dense_referee, 1e-9)


def top_ones(scored: Sequence, names: Sequence[str]) -> tuple[list[str], list[str | None]]:
    """Per scored query (`ToolProposer.score` over an index of `names`): the dense ranking's top-1 tool and BM25's
    (None when no word of the query matches any tool)."""
    dense, lexical = [], []
    for query in scored:
        d, _ = interleave(fuse(query.dense, query.lexical, 0.0), 1)
        dense.append(names[query.cols[d[0]]])
        if query.lexical.max() > 0:
            b, _ = interleave(fuse(np.zeros_like(query.dense), query.lexical, 1.0), 1)
            lexical.append(names[query.cols[b[0]]])
        else:
            lexical.append(None)
    return dense, lexical


def referee_top_ones(queries: Sequence[str], names: Sequence[str], documents: Sequence[str],
                     encoder=None) -> list[str]:  # fmt: skip
    """Zero-shot all-MiniLM-L6-v2's top-1 of `names` (their `documents`) per query."""
    if encoder is None:
        from raytool.envs.encoders import MiniLMEncoder

        encoder = MiniLMEncoder()
    scores = encoder.encode(list(queries)) @ encoder.encode(list(documents)).T
    return [names[int(j)] for j in scores.argmax(axis=1)]


def agreement(dense: Sequence[str], lexical: Sequence[str | None], referee: Sequence[str]) -> Agreement:
    """`Agreement` of the three top-1 lists (same queries, same order)."""
    n = len(dense)
    if n == 0 or not len(lexical) == len(referee) == n:
        raise ValueError(f"agreement needs three top-1 lists of one non-zero length, got {n}, {len(lexical)}, "
                         f"{len(referee)}")  # fmt: skip
    return Agreement(n, sum(d == b for d, b in zip(dense, lexical, strict=True)) / n,
                     sum(d == r for d, r in zip(dense, referee, strict=True)) / n)  # fmt: skip


def source_agreements(dense: Sequence[str], lexical: Sequence[str | None], referee: Sequence[str],
                      sources: Sequence[str], only: Collection[str] | None = None) -> dict[str, Agreement]:  # fmt: skip
    """`agreement` over each source's queries (of the sources in `only`, default all), sorted by source."""
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        if only is None or source in only:
            groups.setdefault(source, []).append(i)
    return {s: agreement([dense[i] for i in rows], [lexical[i] for i in rows], [referee[i] for i in rows])
            for s, rows in sorted(groups.items())}  # fmt: skip


def adapted_weight(base: float, reference: float | None, target: Agreement) -> float:
    """`base * min(1, target.ratio / reference)` (module docstring); `base` when there is no reference."""
    if not reference or reference <= 0:
        return base
    return base * min(1.0, target.ratio / reference)


def unseen_weights(meta, scored: Sequence, names: Sequence[str], sources: Sequence[str],
                   referee: Callable[[], Sequence[str]]) -> dict[str, dict]:  # fmt: skip
    """For each source among `sources` that the checkpoint (`meta`: `CheckpointMeta`) was not validated on: its
    lexical weight adapted from its queries (`CheckpointMeta.unseen_weight`), {source: {"weight", "ratio",
    "queries"}}. `scored`: `ToolProposer.score` of the queries over an index of `names`; `referee()`: zero-shot
    MiniLM's top-1 per query, asked for only when some source is unseen."""
    unseen = [s for s in dict.fromkeys(sources) if not meta.seen(s)]
    if not unseen:
        return {}
    dense, lexical = top_ones(scored, names)
    found = source_agreements(dense, lexical, referee(), sources, unseen)
    return {s: {"weight": meta.unseen_weight(a), "ratio": a.ratio, "queries": a.n} for s, a in found.items()}
