"""Seal-Tools' official call metrics on hand-counted cases."""

from __future__ import annotations

import pytest

from raytool.evaluation.seal_metrics import seal_calls, seal_scores
from raytool.tools.call import ToolCall, result_ref

GOLD = [
    [{"api": "a", "parameters": {"x": "1", "y": "2"}}, {"api": "b", "parameters": {"z": "API_call_0"}}],
    [{"api": "c", "parameters": {"w": 3}}],
]


def test_perfect_predictions_score_one() -> None:
    scores = seal_scores(GOLD, GOLD)
    assert scores["format_acc"] == 1.0 and scores["tool"]["f1"] == 1.0 and scores["parameter"]["f1"] == 1.0


def test_counts_follow_the_official_rules() -> None:
    predictions = [
        [{"api": "a", "parameters": {"x": 1, "y": "3", "q": "0"}}, {"api": "d", "parameters": {"z": "API_call_0"}}],
        None,  # did not parse: its gold still counts
    ]
    scores = seal_scores(predictions, GOLD)
    assert scores["format_acc"] == 0.5
    # tools: 2 predicted, 1 correct (a), 3 gold
    assert scores["tool"]["precision"] == pytest.approx(1 / 2) and scores["tool"]["recall"] == pytest.approx(1 / 3)
    # parameters: 4 predicted (3 on a, 1 on d), 1 correct (x: str(1) == "1"), 4 gold
    assert scores["parameter"]["precision"] == pytest.approx(1 / 4)
    assert scores["parameter"]["recall"] == pytest.approx(1 / 4)
    assert scores["counts"] == {"queries": 2, "tool_pred": 2, "tool_gold": 3, "param_pred": 4, "param_gold": 4}


def test_references_compare_as_api_call_strings() -> None:
    calls = [ToolCall("a", {"x": "1"}), ToolCall.with_inferred_deps("b", {"z": result_ref(0, "out")})]
    assert seal_calls(calls)[1] == {"api": "b", "parameters": {"z": "API_call_0"}}


def test_misaligned_inputs_are_an_error() -> None:
    with pytest.raises(ValueError, match="1 predictions for 2 queries"):
        seal_scores([[]], GOLD)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (
            'Sure: [{"api": "a", "parameters": {"x": "1"}, "responses": ["API_call_0"]}] done',
            [{"api": "a", "parameters": {"x": "1"}}],
        ),
        ("[{'api': 'b', 'parameters': {}}]", [{"api": "b", "parameters": {}}]),  # a Python literal
        ("```json\n[]\n```", []),
        ("I cannot help with that.", None),
        ('[{"api": "a", "parameters": {"x": ', None),  # cut off
    ],
)
def test_teacher_outputs_parse_or_count_as_format_misses(text, parsed) -> None:
    from raytool.evaluation.calls import parse_call_list

    assert parse_call_list(text) == parsed
