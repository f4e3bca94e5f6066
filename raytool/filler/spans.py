"""Candidate values of a request: the substrings an argument value may be read from, with their char offsets.

    words      whitespace tokens with the punctuation around them trimmed ("(ID:" -> "ID"); inner punctuation
               stays ("app.py", "192.168.77.71", "2025-04-30")
    spans      every run of 1..`max_words` consecutive words, as the original substring from the first word's
               start to the last word's end ("Avengers: Endgame"); one ending in a possessive also without
               its "'s" ("tr-104's profile" offers "tr-104"); a word after a currency sign also without it
               ("$10.6" offers "10.6"); a number joined to its unit by hyphens also alone ("a 23-year-old" offers
               "23")
    lists      a run of 3+ words listing items with "and" ("A, B, and C", "A and B"): kind "list", with the items
               joined by ", " as the value ("A, B, C"), the form a string parameter takes a list in
    quoted     the text between matching quotes ("...", '...', “...”), whatever its length
    dates      "November 25, 2013", "25 November 2013", "Nov. 25 2013", "11/25/2013": kind "date", with the ISO
               form `2013-11-25` as the value (the normalised form tools take; `normalise.py` uses it)

A request longer than `max_chars` is read up to that point only (`Candidates.truncated`). Pure Python; no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_WORD = re.compile(r"\S+")
_POSSESSIVE = re.compile(r"\w['’]s$")
_CURRENCY = "$€£¥"
_NUMBER_UNIT = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?(?=-[A-Za-z])")  # "23-year-old" -> "23"
_LIST_SPLIT = re.compile(r"\s*(?:,|\band\b)\s*")  # "A, B, and C": the empty item between is dropped
_TRIM = "\"'“”‘’«»()[]{}<>,.;:!?`"
_QUOTED = re.compile(
    r"\"([^\"]{1,300})\"|“([^”]{1,300})”|‘([^’]{1,300})’|(?<![A-Za-z0-9])'([^']{1,300})'(?![A-Za-z0-9])"
)
MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )  # fmt: skip
    for m in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = [
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\b"),
]


@dataclass(frozen=True)
class Candidate:
    """A value the request offers: `text` is request[start:end]; `value` the form a tool takes (ISO for dates, the
    items joined by ", " for lists)."""

    text: str
    start: int
    end: int
    kind: str  # "span" | "quoted" | "date" | "list"
    words: int
    value: str = ""

    @property
    def as_value(self) -> str:
        return self.value or self.text


@dataclass
class Candidates:
    """The request's candidates (`items`), its words (start, end), and whether it was cut at `max_chars`."""

    text: str
    items: list[Candidate] = field(default_factory=list)
    words: list[tuple[int, int]] = field(default_factory=list)
    truncated: bool = False


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each whitespace token of `text`, surrounding punctuation trimmed; empty tokens dropped."""
    out = []
    for found in _WORD.finditer(text):
        start, end = found.span()
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def iso_date(year: int, month: int, day: int) -> str | None:
    """`YYYY-MM-DD`, or None when the day does not exist."""
    import datetime

    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


# words a listed item does not start or end with ("to john@example.com and ..." is no list of addresses)
_LIST_EDGE = frozenset(
    "a an the and or of for to in on at by with from about into as is are be was were it its this that these those "
    "then please also both my your our their me you we i can could would will should".split()
)


def list_items(run: str) -> list[str] | None:
    """The items of `run` when it reads as a list joined with "and" ("A, B, and C", "A and B"): at least two items
    of one to three words, none starting or ending with a function word (nor the run: "A, B, and" is not one), two
    items of equal length or more differing by one word at most, no colon; None otherwise."""
    ends = run.split()
    if not re.search(r"\band\b", run) or {ends[0].lower(), ends[-1].lower()} & _LIST_EDGE or ":" in run:
        return None
    listed = [item for item in _LIST_SPLIT.split(run) if item]
    sizes = [len(item.split()) for item in listed]
    if len(listed) < 2 or max(sizes) > 3 or max(sizes) - min(sizes) > (1 if len(listed) > 2 else 0):
        return None
    edges = {w.lower().strip("\"'") for item in listed for w in (item.split()[0], item.split()[-1])}
    return None if edges & _LIST_EDGE else listed


def extract(text: str, max_words: int = 6, max_chars: int = 2000) -> Candidates:
    """All candidates of `text` (module docstring), de-duplicated by (start, end, kind)."""
    truncated = len(text) > max_chars
    text = text[:max_chars]
    spans = words(text)
    items: dict[tuple[int, int, str], Candidate] = {}
    for i in range(len(spans)):
        for j in range(i, min(i + max_words, len(spans))):
            start, end = spans[i][0], spans[j][1]
            items.setdefault((start, end, "span"), Candidate(text[start:end], start, end, "span", j - i + 1))
            if _POSSESSIVE.search(text[start:end]) and end - 2 > start:  # "tr-104's profile": also "tr-104"
                items.setdefault((start, end - 2, "span"), Candidate(text[start : end - 2], start, end - 2, "span",
                                                                     j - i + 1))  # fmt: skip
            listed = list_items(text[start:end]) if j - i >= 2 else None
            if listed:
                items[(start, end, "list")] = Candidate(text[start:end], start, end, "list", j - i + 1,
                                                        ", ".join(listed))  # fmt: skip
        start, end = spans[i]
        if text[start] in _CURRENCY and end - start > 1:  # "$10.6": also "10.6"
            items.setdefault((start + 1, end, "span"), Candidate(text[start + 1 : end], start + 1, end, "span", 1))
        number = _NUMBER_UNIT.match(text[start:end])
        if number:  # "23-year-old": also "23"
            cut = start + number.end()
            items.setdefault((start, cut, "span"), Candidate(text[start:cut], start, cut, "span", 1))
    for found in _QUOTED.finditer(text):
        group = next(g for g in range(1, 5) if found.group(g) is not None)
        start, end = found.span(group)
        inner = text[start:end]
        if inner.strip():
            items[(start, end, "quoted")] = Candidate(inner, start, end, "quoted", len(inner.split()))
    for pattern in _DATES:
        for found in pattern.finditer(text):
            month = found.group("month")
            month = int(month) if month.isdigit() else MONTHS[month.lower()]
            iso = iso_date(int(found.group("year")), month, int(found.group("day")))
            if iso:
                start, end = found.span()
                items[(start, end, "date")] = Candidate(text[start:end], start, end, "date", 3, iso)
    ordered = sorted(items.values(), key=lambda c: (c.start, c.end, c.kind))
    return Candidates(text, ordered, spans, truncated)
