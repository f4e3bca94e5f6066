"""Plan accuracy against hand-computed cases."""

from __future__ import annotations

import pytest

from raytool.envs.natural import GoldSubTask
from raytool.evaluation.plan_metrics import match_subtasks, overlap_f1, plan_scores, words
from raytool.planner.plan import SubTask

GOLD = [
    GoldSubTask(0, "file a demand for tenant acme-ai running 529 hours", "cpn", ()),
    GoldSubTask(1, "tell me how much that tenant has spent", "cpn", (0,)),
    GoldSubTask(2, "book traveller tr-101 into hotel HT-HND-3 for 2 nights", "travel", ()),
]


def test_overlap_f1_by_hand() -> None:
    assert overlap_f1(words("a b c d"), words("a b x")) == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))
    assert overlap_f1(words("tr-101"), words("tr 101")) == 0.0  # ids stay whole
    assert words("pay 5410.1 now") == {"pay": 1, "5410.1": 1, "now": 1}


def test_a_perfect_plan_scores_one_everywhere() -> None:
    predicted = [
        SubTask(1, "file a demand for tenant acme-ai running 529 hours", "cpn"),
        SubTask(2, "tell me how much that tenant has spent", "cpn", (1,)),
        SubTask(3, "book traveller tr-101 into hotel HT-HND-3 for 2 nights", "travel"),
    ]
    assert plan_scores(predicted, GOLD) == {
        "segmentation_p": 1.0, "segmentation_r": 1.0, "segmentation_f1": 1.0,
        "domain_accuracy": 1.0, "dependency_accuracy": 1.0, "plan_exact": 1.0,
    }  # fmt: skip


def test_merging_two_actions_costs_recall_and_their_dependency() -> None:
    # the rule planner's failure on natural text: one sentence holds two actions
    predicted = [
        SubTask(
            1, "file a demand for tenant acme-ai running 529 hours and tell me how much that tenant has spent", "cpn"
        ),
        SubTask(2, "book traveller tr-101 into hotel HT-HND-3 for 2 nights", "travel"),
    ]
    scores = plan_scores(predicted, GOLD)
    assert scores["segmentation_p"] == 1.0  # both predicted sub-tasks match a gold one
    assert scores["segmentation_r"] == pytest.approx(2 / 3)
    assert scores["segmentation_f1"] == pytest.approx(0.8)
    assert scores["domain_accuracy"] == pytest.approx(2 / 3)  # the unmatched gold sub-task counts as wrong
    assert scores["dependency_accuracy"] == pytest.approx(2 / 3)
    assert scores["plan_exact"] == 0.0


def test_wrong_domain_and_missing_dependency_are_counted_apart() -> None:
    predicted = [
        SubTask(1, "file a demand for tenant acme-ai running 529 hours", "cpn"),
        SubTask(2, "tell me how much that tenant has spent", "finance"),  # wrong domain, no dependency
        SubTask(3, "book traveller tr-101 into hotel HT-HND-3 for 2 nights", "travel", (1,)),  # spurious dependency
    ]
    scores = plan_scores(predicted, GOLD)
    assert scores["segmentation_f1"] == 1.0
    assert scores["domain_accuracy"] == pytest.approx(2 / 3)
    assert scores["dependency_accuracy"] == pytest.approx(1 / 3)  # only the first sub-task's (none) is right
    assert scores["plan_exact"] == 0.0


def test_matching_is_one_to_one_and_needs_half_the_words() -> None:
    assert match_subtasks(["a b c d", "a b c d"], ["a b c d"]) == {0: 0}
    assert match_subtasks(["a b c d e f"], ["a x y z"]) == {}
    assert plan_scores([], GOLD)["segmentation_f1"] == 0.0
