"""Recall@k / Complete@k by hand, and the BM25 baseline on real Seal-Tools data."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytool.evaluation.retrieval import bm25_scores, complete_at_k, rank_pool, recall_at_k
from raytool.tools.importers import import_dataset


def test_metrics_by_hand() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "z"], ["p", "q", "r"]]
    gold = [["a", "c"], ["z"], ["q", "nope"]]
    assert recall_at_k(ranked, gold, 1) == pytest.approx(1 / 5)
    assert recall_at_k(ranked, gold, 3) == pytest.approx(4 / 5)
    assert complete_at_k(ranked, gold, 2) == pytest.approx(0 / 3)
    assert complete_at_k(ranked, gold, 3) == pytest.approx(2 / 3)


def test_bm25_baseline_on_seal_tools(shared_data: Path) -> None:
    data = import_dataset("seal_tools", shared_data / "seal_tools" / "test_in_domain.jsonl")
    data.tasks = data.tasks[:200]
    ranked = rank_pool(data, bm25_scores(data), 5)
    gold = [t.tool_names for t in data.tasks]
    assert all(len(r) == 5 for r in ranked)
    assert 0.5 < recall_at_k(ranked, gold, 5) <= 1.0  # the data README: about 79% on comparable held-out data
    assert complete_at_k(ranked, gold, 5) <= recall_at_k(ranked, gold, 5)
