"""Pair features: the vectorised per-request table against what each feature means on a hand-checked request."""

from __future__ import annotations

import pytest

from raytool.filler.features import FEATURES, RequestFeatures, stems
from raytool.filler.spans import extract

COL = {name: i for i, name in enumerate(FEATURES)}
TEXT = 'Book a facial at Tranquil Wellness Center for traveller "TR-7" on June 24, 2002 for 86 minutes.'


def _row(table, cands, text, kind="span"):
    return table[next(i for i, c in enumerate(cands.items) if c.text == text and c.kind == kind)]


def test_stems_split_names_and_drop_function_words() -> None:
    assert stems("travellerId") == ["trave", "id"]
    assert stems("the_start_date") == ["start", "date"]


def test_feature_columns_mean_what_they_say() -> None:
    cands = extract(TEXT)
    feats = RequestFeatures(cands)
    ident = feats.for_param("traveller_id", {"type": "string", "description": "the traveller"})
    row = _row(ident, cands, "TR-7", kind="quoted")
    assert row[COL["is_quoted"]] == 1 and row[COL["has_digit"]] == 1 and row[COL["name_before"]] == 0.5
    assert row[COL["desc_before"]] == 1.0 and row[COL["after_of"]] == 0  # "traveller" precedes; not a preposition

    minutes = feats.for_param("duration", {"type": "integer"})
    assert _row(minutes, cands, "86")[COL["type_ok"]] == 1
    assert _row(minutes, cands, "Tranquil Wellness Center")[COL["type_ok"]] == 0
    assert _row(minutes, cands, "86")[COL["after_of"]] == 1  # "for 86"

    date = feats.for_param("start_date", {"type": "string"})
    row = _row(date, cands, "June 24, 2002", kind="date")
    assert row[COL["date_param"]] == 1 and row[COL["date_match"]] == 1 and row[COL["is_date"]] == 1
    assert _row(date, cands, "a facial")[COL["stop_edge"]] == 1


@pytest.mark.parametrize(("enum", "expected"), [(["facial", "massage"], 1.0), (["massage", "sauna"], 0.0)])
def test_enum_match_column(enum, expected) -> None:
    cands = extract(TEXT)
    table = RequestFeatures(cands).for_param("treatment", {"type": "string", "enum": enum})
    assert _row(table, cands, "facial")[COL["enum_match"]] == expected


def test_words_after_and_description_examples() -> None:
    text = "Book a treatment of 86 minutes using DNA analysis."
    cands = extract(text)
    table = RequestFeatures(cands).for_param("duration", {"type": "integer", "description": "length in minutes"})
    assert _row(table, cands, "86")[COL["desc_after"]] == 0.5  # "minutes" follows; the description: length, minut
    kind = RequestFeatures(cands).for_param("evidence_type", {"description": "the evidence (e.g., DNA, fibers)"})
    assert _row(kind, cands, "DNA")[COL["desc_inside"]] == pytest.approx(1 / 3)  # of evide, dna, fiber


def test_window_stems_shared_by_candidates_are_each_candidates_own() -> None:
    """Candidates that share a start, an end or a text reuse one stem list: every row still holds exactly the
    stems of its own four words before, its own words and its two words after."""
    from raytool.filler.features import after_stems, before_stems

    text = "Send the blue whale report on manta rays to the Oslo office of Nordic Ocean Research by Friday."
    cands = extract(text)
    assert len({c.start for c in cands.items}) < len(cands.items)  # starts are shared: the cache is exercised
    feats = RequestFeatures(cands)
    for k, c in enumerate(cands.items):
        for table, expected in (
            (feats.before, before_stems(text, c.start)), (feats.inside, stems(c.text)),
            (feats.after, after_stems(text, c.end)),
        ):  # fmt: skip
            assert {s for s, i in feats.vocab.items() if table[k, i]} == set(expected), (c.text, expected)


@pytest.mark.parametrize(
    ("text", "name", "values"),
    [
        ("What is the exchange rate from USD to EUR?", "from_currency", {"USD": 1, "EUR": -1}),
        ("What is the exchange rate from USD to EUR?", "to_currency", {"USD": -1, "EUR": 1}),
        ("Convert 100 USD into EUR.", "targetCurrency", {"USD": 0, "EUR": 1}),
        ("How many EUR is one USD?", "from_currency", {"EUR": -1, "USD": 0}),  # what is counted: the target
        ("Stay from 2025-06-01 until 2025-06-09.", "start_date", {"2025-06-01": 1, "2025-06-09": -1}),
        ("What is the exchange rate from USD to EUR?", "amount", {"USD": 0, "EUR": 0}),  # no side in its name
        ("What is the exchange rate from USD to EUR?", "source_and_target", {"USD": 0, "EUR": 0}),  # both sides
    ],
)
def test_direction_column_tells_a_source_from_a_target(text, name, values) -> None:
    """The word before a value ("from", "to") against the side the parameter's name is on: the one feature that
    separates `from_currency` from `to_currency` (the stems drop "from" and "to" as function words)."""
    cands = extract(text)
    table = RequestFeatures(cands).for_param(name, {"type": "string"})
    for value, expected in values.items():
        assert _row(table, cands, value)[COL["direction"]] == expected


def test_indicator_rows_mark_their_columns() -> None:
    import numpy as np

    from raytool.filler.features import _indicator

    out = _indicator([[0, 2], [], [1, 1], [3]], 4)
    assert out.tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    assert out.dtype == np.float32 and _indicator([], 3).shape == (0, 3) and _indicator([[]], 0).shape == (1, 0)
