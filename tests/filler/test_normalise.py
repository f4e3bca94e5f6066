"""Typed normalisation: values of the declared type, or a reason — never a made-up value."""

from __future__ import annotations

import pytest

from raytool.filler.normalise import named_flag, named_member, normalise


@pytest.mark.parametrize(
    ("text", "schema", "value"),
    [
        ("85", {"type": "integer"}, 85),
        ("1,200", {"type": "integer"}, 1200),
        ("85.0", {"type": "integer"}, 85),
        ("40.7", {"type": "number"}, 40.7),
        ("15%", {"type": "number"}, 15),
        ("45", {"type": "number"}, 45),
        ("45.0", {"type": "number"}, 45.0),
        ("0.2907590418481535", {"type": "number"}, 0.2907590418481535),
        ("Yes", {"type": "boolean"}, True),
        ("off", {"type": "boolean"}, False),
        ("red, green and blue", {"type": "array", "items": {"type": "string"}}, ["red", "green", "blue"]),
        ("1, 2", {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        ("economy", {"type": "string", "enum": ["Economy", "Business"]}, "Economy"),
        ("business class", {"enum": ["economy", "business"]}, "business"),
        ("hXQ7qFFt", {}, "hXQ7qFFt"),  # no type: a string
        ("60-month", {"type": "integer"}, 60),  # a number with its unit: "a 60-month loan"
        ("2.5-hour", {"type": "number"}, 2.5),
        ("60-month", {"type": "integer", "enum": [12, 24, 36, 60]}, 60),
        ("deluxe", {"enum": ["deluxe suite", "standard room"]}, "deluxe suite"),  # inside a member, as a word
    ],
)
def test_values_of_the_declared_type(text, schema, value) -> None:
    assert normalise(text, schema) == (value, None)


@pytest.mark.parametrize(
    ("text", "schema", "reason"),
    [
        ("eighty", {"type": "integer"}, "not an integer"),
        ("85.5", {"type": "integer"}, "not an integer"),
        ("many", {"type": "number"}, "not a number"),
        ("maybe", {"type": "boolean"}, "not a boolean"),
        ("first", {"type": "string", "enum": ["economy", "business"]}, "enum"),
        ("enlarged", {"enum": ["large", "small"]}, "enum"),  # a member inside a word is not named
        ("small training", {"enum": ["small", "training"]}, "enum"),  # two members named: ambiguous
        ("{}", {"type": "object"}, "an object is not read from text"),
        ("   ", {"type": "string"}, "empty"),
        ("today", {"type": "string", "description": "the city"}, "a relative time"),
        ("Lisbon today", {"type": "string", "description": "the city"}, "a relative time"),
        ("3", {"type": "integer", "enum": [12, 24, 36, 60]}, "enum"),  # "step 3" is not the member 36
        ("lux", {"enum": ["deluxe suite", "standard room"]}, "enum"),  # nor part of a word
        ("cu-103", {"type": "integer"}, "not an integer"),  # an id, not a number with a unit
        ("2025-04-30", {"type": "integer"}, "not an integer"),
    ],
)
def test_text_that_is_not_a_value_gives_a_reason(text, schema, reason) -> None:
    assert normalise(text, schema) == (None, reason)


def test_an_enum_never_defaults_to_a_member() -> None:
    value, reason = normalise("window", {"enum": ["aisle", "middle"]})
    assert value is None and reason == "enum"


def test_a_relative_time_is_a_value_of_a_time_parameter() -> None:
    assert normalise("today", {"type": "string", "description": "the day to look at"}, "when") == ("today", None)
    assert normalise("tomorrow", {"type": "string"}, "date") == ("tomorrow", None)


def test_an_integral_number_with_a_unit_stays_an_int() -> None:
    """3 == 3.0 in Python, so the type is checked: "3-week" is 3, not 3.0 (the unit's letters are not an exponent)."""
    value, reason = normalise("3-week", {"type": "number"})
    assert reason is None and value == 3 and type(value) is int
    assert type(normalise("2.5-hour", {"type": "number"})[0]) is float


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("rent car CR-1 for 8 days with full coverage", True),
        ("rent car CR-1, full   coverage please", True),
        ("rent car CR-1 for 15 days, no full coverage", False),
        ("rent car CR-1 without full coverage", False),
        ("rent car CR-1 for 8 days", None),  # not named: left out, never guessed
        ("rent car CR-1 with full-coverage-plus", None),  # not the whole phrase
    ],
)
def test_a_flag_named_in_the_request(text, value) -> None:
    assert named_flag(text, "full_coverage") is value


def test_a_one_word_flag_is_not_read_by_name() -> None:
    assert named_flag("a refundable fare", "refundable") is None


@pytest.mark.parametrize(
    ("text", "schema", "value"),
    [
        ("one", {"type": "integer"}, 1),
        ("Twelve", {"type": "integer"}, 12),
        ("zero", {"type": "number"}, 0),
        ("eighty", {"type": "integer"}, None),  # larger counts are not read from words
        ("one A100", {"type": "integer"}, None),
        ("no", {"type": "integer"}, 0),  # "no GPUs"
        ("No", {"type": "number"}, 0),
        ("no", {"type": "boolean"}, False),  # a flag's "no" stays a flag's
        ("none", {"type": "integer"}, None),
    ],
)
def test_small_number_words(text, schema, value) -> None:
    got, reason = normalise(text, schema)
    assert (got, reason is None) == (value, value is not None)


def test_named_member_reads_one_whole_word_member_outside_taken_ranges() -> None:
    members = ["any", "window", "aisle", "middle"]
    assert named_member("9 free aisle seats", members) == ("aisle", 7, 12)
    assert named_member("9 free aisle seats", members, taken=[(5, 13)]) is None  # another value took it
    assert named_member("a window or an aisle seat", members) is None  # two members: which one is a guess
    assert named_member("any seat, the aisles", members) is None  # "any" is general; "aisles" is not "aisle"
    assert named_member("a seat in the middle", ["middle"]) == ("middle", 14, 20)
