"""The lexical weight for a catalogue the proposer was not validated on, read from its unlabelled queries: the
agreement statistics are exact shares, the weight is the median per-source weight scaled down by the ratio against
the validation reference (never up), the checkpoint keeps the reference, and evaluation uses the adapted weight."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.proposer.adaptation import Agreement, adapted_weight, agreement, top_ones, unseen_weights
from raytool.proposer.checkpoint import CheckpointMeta
from raytool.proposer.config import ProposerConfig
from raytool.proposer.proposer import SegmentScores, ToolProposer
from raytool.proposer.train import validation_ratios
from raytool.tools.spec import ToolSpec

# one segment over tools 0..2: the cosine prefers tool 0, BM25 tool 1; the referee (below) tool 0 or 2
DENSE_FIRST = SegmentScores(np.arange(3), np.array([[0.9, 0.5, 0.1]]), np.array([[0.0, 4.0, 1.0]]), ())
AGREE = SegmentScores(np.arange(3), np.array([[0.9, 0.5, 0.1]]), np.array([[3.0, 1.0, 0.0]]), ())
NO_WORDS = SegmentScores(np.arange(3), np.array([[0.1, 0.5, 0.9]]), np.zeros((1, 3)), ())


class _Index:
    names = ["a", "b", "c"]


class _Referee:
    """A stand-in for zero-shot MiniLM's encoder: a text's vector points at the tool it names ("a", "b" or "c")."""

    def encode(self, texts):
        return np.array([[float(n in t.split()) for n in "abc"] for t in texts])


def test_agreement_is_the_share_of_queries_whose_top_ones_match() -> None:
    dense, lexical = top_ones([DENSE_FIRST, AGREE, NO_WORDS], _Index.names)
    assert dense == ["a", "a", "c"] and lexical == ["b", "a", None]  # no query word in any tool: no BM25 top-1
    stats = agreement(dense, lexical, ["a", "c", "c"])
    assert (stats.n, stats.dense_lexical, stats.dense_referee) == (3, 1 / 3, 2 / 3)
    assert stats.ratio == pytest.approx(0.5)
    with pytest.raises(ValueError, match="one non-zero length"):
        agreement(["a"], ["a", "b"], ["a"])


def test_the_weight_is_scaled_down_by_the_ratio_and_never_up() -> None:
    low = Agreement(100, 0.2, 0.8)  # ratio 0.25
    assert adapted_weight(0.4, 1.0, low) == pytest.approx(0.1)
    assert adapted_weight(0.4, 0.2, low) == pytest.approx(0.4)  # a ratio above the reference keeps the base
    assert adapted_weight(0.4, None, low) == 0.4  # no reference recorded: the base as it is


def test_a_checkpoint_keeps_its_reference_and_an_unseen_source_gets_the_median_weight_scaled() -> None:
    meta = CheckpointMeta(ProposerConfig(), 1.0, source_weights={"s": 0.1, "g": 1.0, "t": 0.3},
                          source_ratios={"s": 1.2, "g": 0.8, "t": 1.0})  # fmt: skip
    again = CheckpointMeta.from_dict(meta.to_dict())
    assert again.source_ratios == {"s": 1.2, "g": 0.8, "t": 1.0}
    assert again.seen("s") and again.seen("") and not again.seen("new")
    assert again.unseen_weight(None) == pytest.approx(0.3)  # the median per-source weight, not the overall 1.0
    assert again.unseen_weight(Agreement(50, 0.25, 0.5)) == pytest.approx(0.3 * 0.5 / 1.0)
    old = meta.to_dict()
    del old["ranking"]["source_ratios"]  # a checkpoint written before the reference was recorded
    assert CheckpointMeta.from_dict(old).unseen_weight(Agreement(50, 0.25, 0.5)) == pytest.approx(0.3)
    single = CheckpointMeta(ProposerConfig(), 0.3, source_ratios={"seal": 1.0})  # one source: its fitted weight
    assert single.unseen_weight(Agreement(10, 0.1, 0.5)) == pytest.approx(0.06) and single.seen("seal")


def test_unseen_sources_get_weights_from_their_own_queries_and_ranking_uses_them() -> None:
    meta = CheckpointMeta(ProposerConfig(), 1.0, source_ratios={"train": 1.0})
    scored = [DENSE_FIRST, DENSE_FIRST, AGREE, AGREE]
    sources = ["new", "new", "train", "train"]
    asked = []
    adapted = unseen_weights(meta, scored, _Index.names, sources, lambda: asked.append(1) or ["a"] * 4)
    assert set(adapted) == {"new"} and asked == [1]  # the validated source keeps its own weight
    assert unseen_weights(meta, scored, _Index.names, ["train"] * 4, lambda: asked.append(1)) == {}
    assert asked == [1]  # no unseen source: the referee is not asked
    # "new": BM25 never agrees with the dense top-1, the referee always does: ratio 0, weight scaled to 0
    assert adapted["new"] == {"weight": 0.0, "ratio": 0.0, "queries": 2}
    proposer = ToolProposer(None, None, meta)
    plain = proposer.rank_scored(scored[:1], _Index(), k=3, sources=["new"])
    assert plain[0].names[0] == "b"  # the overall weight 1.0: BM25's tool wins
    weights = {s: row["weight"] for s, row in adapted.items()}
    assert proposer.rank_scored(scored[:1], _Index(), k=3, sources=["new"], source_weights=weights)[0].names[0] == "a"


def test_validation_ratios_are_recorded_per_source() -> None:
    catalogue = {n: ToolSpec(n, n) for n in "abc"}
    ratios = validation_ratios([DENSE_FIRST, AGREE, AGREE], _Index(), ["a", "a", "c"], ["x", "y", "y"], catalogue,
                               encoder=_Referee())  # fmt: skip
    # x: dense 0, BM25 1, referee 0 -> 0 / 1; y: dense 0 twice, BM25 0 twice, referee 0 then 2 -> 1 / 0.5
    assert ratios == {"x": 0.0, "y": 2.0}
