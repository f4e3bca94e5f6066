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

from collections.abc import Sequence
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


def top_ones(scored: Sequence) -> tuple[list[int], list[int | None]]:
    """Per scored query (`ToolProposer.score`): the tool index (into the index's names) of the dense ranking's
    top-1 and of BM25's (None when no word of the query matches any tool)."""
    dense, lexical = [], []
    for query in scored:
        d, _ = interleave(fuse(query.dense, query.lexical, 0.0), 1)
        dense.append(int(query.cols[d[0]]))
        if query.lexical.max() > 0:
            b, _ = interleave(fuse(np.zeros_like(query.dense), query.lexical, 1.0), 1)
            lexical.append(int(query.cols[b[0]]))
        else:
            lexical.append(None)
    return dense, lexical


def referee_top_ones(queries: Sequence[str], names: Sequence[str], documents: Sequence[str],
                     pools: Sequence[Sequence[str]] | None = None, encoder=None) -> list[int]:  # fmt: skip
    """Zero-shot all-MiniLM-L6-v2's top-1 (an index into `names`) per query, within its pool (default: all)."""
    if encoder is None:
        from raytool.envs.encoders import MiniLMEncoder

        encoder = MiniLMEncoder()
    position = {n: i for i, n in enumerate(names)}
    scores = encoder.encode(list(queries)) @ encoder.encode(list(documents)).T
    out = []
    for row, pool in zip(scores, pools or [()] * len(queries), strict=True):
        cols = np.array([position[n] for n in pool]) if pool else np.arange(len(names))
        out.append(int(cols[int(np.argmax(row[cols]))]))
    return out


def agreement(dense: Sequence[int], lexical: Sequence[int | None], referee: Sequence[int]) -> Agreement:
    """`Agreement` of the three top-1 lists (same queries, same order)."""
    n = len(dense)
    if n == 0 or not len(lexical) == len(referee) == n:
        raise ValueError(f"agreement needs three top-1 lists of one non-zero length, got {n}, {len(lexical)}, "
                         f"{len(referee)}")  # fmt: skip
    return Agreement(n, sum(d == b for d, b in zip(dense, lexical, strict=True)) / n,
                     sum(d == r for d, r in zip(dense, referee, strict=True)) / n)  # fmt: skip


def adapted_weight(base: float, reference: float | None, target: Agreement) -> float:
    """`base * min(1, target.ratio / reference)` (module docstring); `base` when there is no reference."""
    if not reference or reference <= 0:
        return base
    return base * min(1.0, target.ratio / reference)


def unseen_weights(meta, scored: Sequence, index, queries: Sequence[str], sources: Sequence[str],
                   documents: dict[str, str], pools: Sequence[Sequence[str]] | None = None,
                   encoder=None) -> dict[str, dict]:  # fmt: skip
    """For each source among `sources` that the checkpoint (`meta`: `CheckpointMeta`) was not validated on: its
    lexical weight adapted from its queries (`CheckpointMeta.unseen_weight`), {source: {"weight", "ratio",
    "queries"}}. `scored`: `ToolProposer.score` of `queries` over `index`; `documents`: the referee's text of each
    tool (`name: description`); `pools`: each query's candidate list (default: the whole index)."""
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        if not meta.seen(source):
            groups.setdefault(source, []).append(i)
    if not groups:
        return {}
    rows = [i for members in groups.values() for i in members]
    dense, lexical = top_ones([scored[i] for i in rows])
    referee = referee_top_ones([queries[i] for i in rows], index.names, [documents[n] for n in index.names],
                               [pools[i] for i in rows] if pools else None, encoder)  # fmt: skip
    at = {i: j for j, i in enumerate(rows)}
    out = {}
    for source, members in groups.items():
        target = agreement([dense[at[i]] for i in members], [lexical[at[i]] for i in members],
                           [referee[at[i]] for i in members])  # fmt: skip
        out[source] = {"weight": meta.unseen_weight(target), "ratio": target.ratio, "queries": target.n}
    return out
