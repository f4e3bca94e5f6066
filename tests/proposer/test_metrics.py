"""The per-source average of the validation metrics (`raytool.proposer.metrics.per_source`)."""

import pytest

from raytool.proposer.metrics import complete_at_k, per_source, recall_at_k


def test_each_source_weighs_the_same_whatever_its_size():
    ranked = [["a", "b"], ["a", "b"], ["a", "b"], ["c", "d"]]
    gold = [["a"], ["a"], ["a"], ["x"]]
    sources = ["big", "big", "big", "small"]
    assert complete_at_k(ranked, gold, 1) == pytest.approx(0.75)  # pooled: the big source decides
    assert per_source(complete_at_k, ranked, gold, sources, 1) == pytest.approx(0.5)  # (1.0 + 0.0) / 2


def test_one_source_is_the_metric_itself():
    ranked = [["a", "b", "c"], ["b", "a", "c"], ["c", "b", "a"]]
    gold = [["a", "c"], ["b"], ["a"]]
    for metric in (complete_at_k, recall_at_k):
        for k in (1, 2, 3):
            assert per_source(metric, ranked, gold, ["s"] * 3, k) == metric(ranked, gold, k)


def test_the_average_is_over_sources_not_queries_of_recall():
    ranked = [["a"], ["b"], ["c"]]
    gold = [["a", "z"], ["b"], ["q"]]
    # source one: 2 of 3 gold tools found; source two: 0 of 1
    assert per_source(recall_at_k, ranked, gold, ["one", "one", "two"], 1) == pytest.approx((2 / 3 + 0) / 2)
