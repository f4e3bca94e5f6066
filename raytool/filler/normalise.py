"""Typed normalisation: the text a request gives for a parameter -> the JSON value its schema asks for.

    integer   "85", "1,200", "-3" -> int; "85.0" -> 85; "60-month" -> 60; a number word up to twenty ("one",
              "twelve") -> its value; "eighty" -> not a value
    number    "40.7", "1,200.5", "3e-4", "15%" -> float; "45" -> 45 (an integral number stays an int: JSON does
              not tell 45 from 45.0, and "45.0" would misquote the request); the percent sign is dropped, the
              number kept as written (tools state what a percentage means in their own description)
    boolean   true/false/yes/no/on/off/enabled/disabled -> bool; a flag the request only names (`named_flag`:
              "with full coverage" -> True, "no full coverage" / "without full coverage" -> False) is read after
              the scorer, from the request's words
    string    the text itself, unless it starts or ends with a relative time word ("today", "Lisbon today") and
              the parameter takes no date or time ("a relative time"); for a date-like parameter (`format:
              date`, or "date" in its name) a date candidate gives its ISO form
    enum      the enum member equal to the text (case-insensitive), else the one member the text contains as
              whole words or that contains the text as whole words ("3" is not in 36); no match -> not a value
              ("enum"), never the first member by default. A member the request writes without the parameter's
              name ("an L4", "(A100)", "aisle seats") is read after the scorer (`named_member`)
    array     "a, b and c" -> ["a", "b", "c"], each item normalised by `items`
    object    not read from text (not a value)

`normalise` returns (value, None) or (None, reason); the reasons name why the text is not a value of that type,
and the filler reports them instead of making a value up. Pure functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][-+]?\d+)?$|^[-+]?\.\d+$")
_UNIT = re.compile(r"^([-+]?[\d,]*\d(?:\.\d+)?)-[A-Za-z]+$")  # "60-month": a number and its unit
_TRUE = {"true", "yes", "on", "enabled", "enable", "y", "1"}
_FALSE = {"false", "no", "off", "disabled", "disable", "n", "0"}
# number words a request writes for small counts ("one A100 GPU", "two travellers"); larger ones are not read
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bor\b)\s*")
# words that name a time relative to the request, never a value of a parameter that does not take a date or time
RELATIVE_TIME = frozenset("today tomorrow yesterday tonight now currently".split())


def param_type(schema: dict[str, Any]) -> str:
    """The parameter's JSON type; "string" when the schema gives none (or a list of types: the first)."""
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind if isinstance(kind, str) else "string"


def is_date_param(name: str, schema: dict[str, Any]) -> bool:
    text = f"{name} {schema.get('format', '')} {schema.get('description', '')}".lower()
    return schema.get("format") in ("date", "date-time") or "date" in name.lower() or "yyyy-mm-dd" in text


def _numeral(text: str) -> str:
    """The number part of `text`: a percent sign or a unit joined by a hyphen ("60-month", "3-day") dropped."""
    text = text.strip().rstrip("%").strip()
    unit = _UNIT.match(text)
    return unit.group(1) if unit else text


def as_number(text: str) -> float | None:
    """The number `text` writes (`_numeral`: also "15%", "60-month"); None otherwise."""
    text = _numeral(text)
    if not _NUMBER.match(text):
        return None
    return float(text.replace(",", ""))


def _count(text: str) -> float | None:
    """The number `text` writes in digits (`as_number`), as a word up to twenty (`NUMBER_WORDS`) or as "no" ("no
    GPUs": 0); None otherwise. Only values read this way: the candidates' number features stay `as_number`'s, as
    the scorer was trained."""
    number = as_number(text)
    if number is not None:
        return number
    return 0 if text.lower() == "no" else NUMBER_WORDS.get(text.lower())


def normalise(text: str, schema: dict[str, Any], name: str = "") -> tuple[Any, str | None]:
    """(value, None) or (None, reason): see the module docstring."""
    text = text.strip()
    if not text:
        return None, "empty"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _enum(text, schema["enum"])
    kind = param_type(schema)
    if kind == "integer":
        number = _count(text)
        if number is None or number != int(number):
            return None, "not an integer"
        return int(number), None
    if kind == "number":
        number = _count(text)
        if number is None:
            return None, "not a number"
        integral = not any(c in _numeral(text) for c in ".eE") and number == int(number)
        return (int(number) if integral else number), None
    if kind == "boolean":
        low = text.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE, None
        return None, "not a boolean"
    if kind == "array":
        items = [item for item in _SPLIT.split(text) if item]
        out = []
        for item in items:
            value, reason = normalise(item, schema.get("items", {}) or {}, name)
            if reason:
                return None, f"item {item!r}: {reason}"
            out.append(value)
        return out, None
    if kind == "object":
        return None, "an object is not read from text"
    edges = text.lower().strip(" ?!.,").split()
    if edges and {edges[0], edges[-1]} & RELATIVE_TIME and not _takes_time(name, schema):
        return None, "a relative time"
    return text, None


_NEGATIONS = ("no", "without", "not", "don't", "do not", "skip", "skipping")


def named_flag(text: str, name: str) -> bool | None:
    """A boolean parameter the request states by its name: the name's words (`full_coverage` -> "full coverage") as
    a whole-word phrase of `text` give True, or False when a negation ("no", "without", "not", "skip") comes right
    before them; None when the name is not written (or is a single word, too common to read as a flag)."""
    label = name.replace("_", " ").replace("-", " ").strip().lower()
    if len(label.split()) < 2:
        return None
    found = re.search(r"(?<![\w-])" + re.escape(label).replace(r"\ ", r"\s+") + r"(?![\w-])", text.lower())
    if found is None:
        return None
    before = text.lower()[: found.start()].split()
    return not any(" ".join(before[-len(n.split()) :]) == n for n in _NEGATIONS)


# enum members too general to read as a value on their own ("any seats", "all of it", "none of them")
GENERAL_MEMBERS = frozenset("any all none other default auto".split())


def named_member(text: str, members: list[Any], taken: Sequence[tuple[int, int]] = ()) -> tuple[Any, int, int] | None:
    """The one enum member `text` writes as whole words outside the `taken` character ranges, with its (start,
    end): a value the request gives without naming its parameter ("an L4", "5 GPUs (A100)", "aisle seats").
    None when no member or more than one is written, or the one written is too general (`GENERAL_MEMBERS`)."""
    found = []
    for member in members:
        key = str(member)
        if isinstance(member, bool) or not key.strip() or key.lower() in GENERAL_MEMBERS:
            continue
        at = member_at(key, text)
        if at is not None and not any(at[0] < e and s < at[1] for s, e in taken):
            found.append((member, *at))
    return found[0] if len(found) == 1 else None


def _takes_time(name: str, schema: dict[str, Any]) -> bool:
    text = f"{name} {schema.get('description', '')}".lower()
    return is_date_param(name, schema) or any(w in text for w in ("time", "when", "day", "period"))


def _enum(text: str, members: list[Any]) -> tuple[Any, str | None]:
    low = text.lower()
    by_text = {str(m).lower(): m for m in members}
    if low in by_text:
        return by_text[low], None
    inside = [
        m for key, m in by_text.items() if key and (member_at(key, low) is not None or member_at(low, key) is not None)
    ]
    if len(inside) == 1:
        return inside[0], None
    return None, "enum"


def member_at(member: str, text: str) -> tuple[int, int] | None:
    """(start, end) of `member` as whole words in `text` (case-insensitive), or None: where in a longer candidate
    ("small training workload") the enum value it was read as ("small") stands. A number may carry a unit after a
    hyphen ("60" in "a 60-month loan"), never be part of a longer number or id ("3" is not in "36" or "cu-103")."""
    literal, pattern = _member_pattern(member)
    low = text.lower()
    if literal not in low:  # the pattern's literal part is not there: no match, no regular expression run
        return None
    found = pattern.search(low)
    return found.span() if found else None


@functools.lru_cache(maxsize=65_536)
def _member_pattern(member: str) -> tuple[str, re.Pattern]:
    """`member_at`'s literal and pattern, made once per member: the filler asks about the same members and candidates
    across a request's parameters and calls, more than `re`'s own cache of 512 patterns holds (training on 90
    level-4 requests spent 33 of 47 s compiling them)."""
    if _NUMBER.match(member):
        return member, re.compile(r"(?<![\w.,-])" + re.escape(member) + r"(?![\w.,]|-\d)")
    return member.lower(), re.compile(r"(?<![\w-])" + re.escape(member.lower()) + r"(?![\w-])")
