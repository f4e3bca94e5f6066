"""Hand-written features of (parameter, candidate value) pairs: what the learned scorer adds its embeddings to.

Per pair (`FEATURES`, in this order):

    type_ok        the candidate normalises to the parameter's type (`normalise.normalise`)
    is_number      the text is a number             is_quoted   it was quoted in the request
    is_date        a date candidate (ISO value)     date_param  the parameter takes a date
    date_match     is_date and date_param            enum_match  the parameter has an enum and the text matches it
    has_digit      the text has a digit              capitalised its first letter is upper case
    words          number of words / 6               stop_edge   it starts or ends with a function word
    name_before    share of the parameter name's words among the 4 words before the candidate (prefix match)
    name_inside    share of the name's words inside the candidate
    desc_before    share of the description's content words among the 4 words before the candidate
    position       start offset / request length     one_word    a single word
    after_of       the word before is of / for / to / in / with / as / by / at / on / from
    name_after     share of the name's words among the 2 words after the candidate ("85 minutes" for duration)
    desc_inside    share of the description's content words inside the candidate (its examples: "e.g., DNA")
    desc_after     share of the description's content words among the 2 words after the candidate
    prev_in_desc   the word right before the candidate, function words included, is a word of the parameter's
                   name or description ("from Paris" for "city the flight leaves from")
    is_list        a list candidate (`spans.list_items`: "A, B, and C" read as "A, B, C"), beside the same words
                   as they stand
    direction      +1 when the word right before the candidate marks the side the parameter's name is on, -1 when it
                   marks the other side, 0 otherwise: "from" for a source (`from_currency`, `source_language`,
                   `start_date`, `origin`), "to" / "into" / "until" for a target (`to_currency`, `end_date`,
                   `destination`); "from USD to EUR" tells the two currencies apart, which the stems above cannot
                   (function words are dropped and both descriptions say "convert ... to ... from")

Words are compared lower-cased on their first 5 letters (a crude stem: "location" ~ "locat"), names split on
snake_case and camelCase. `RequestFeatures` computes what does not depend on the parameter once per request
(as arrays over the candidates, stems as a 0/1 matrix over the request's stem vocabulary), so one parameter's
column block is a few vector operations.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

from raytool.filler.normalise import as_number, is_date_param, normalise, param_type
from raytool.filler.spans import Candidates

FEATURES = (
    "type_ok", "is_number", "is_quoted", "is_date", "date_param", "date_match", "enum_match", "has_digit",
    "capitalised", "words", "stop_edge", "name_before", "name_inside", "desc_before", "position", "one_word",
    "after_of", "name_after", "desc_inside", "desc_after", "prev_in_desc", "is_list", "direction",
)  # fmt: skip
STOP = frozenset(
    "a an the of for to in on at by with from and or as is are be this that these those my me i you your it its "
    "please can could would will should about into than then there their our we us what which who how".split()
)
_PREPOSITIONS = frozenset("of for to in with as by at on from".split())
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TOKEN = re.compile(r"[a-z0-9]+")
# the two sides of a transfer, as parameter names spell them (`_side`) and as the word before a value marks them
_SOURCE_NAMES = frozenset("from source src origin departure depart start begin base sender input old initial".split())
_TARGET_NAMES = frozenset(
    "to target dest destination arrival arrive end until quote recipient output new final".split()
)
# the word before a value: the side it names ("how many EUR is one USD": what is counted is the target)
_SIDE_WORDS = {"from": 1, "to": -1, "into": -1, "until": -1, "till": -1, "many": -1}
_TRUTH = frozenset("true yes on enabled enable y 1 false no off disabled disable n 0".split())


def stems(text: str) -> list[str]:
    """Lower-cased word stems (first 5 letters) of `text`, snake_case and camelCase split, function words and
    single letters ("e.g.") out."""
    text = _CAMEL.sub(" ", text).replace("_", " ").lower()
    return [t[:5] for t in _TOKEN.findall(text) if t not in STOP and (len(t) > 1 or t.isdigit())]


def after_stems(text: str, end: int, window: int = 2) -> list[str]:
    """Stems of the `window` words after offset `end` (function words dropped)."""
    return stems(" ".join(text[end:].split()[: 2 * window]))[:window]


def before_stems(text: str, start: int, window: int = 4) -> list[str]:
    """Stems of the `window` words before offset `start` (function words dropped, so the window reaches further)."""
    return stems(" ".join(text[:start].split()[-2 * window :]))[-window:]


class RequestFeatures:
    """The parameter-independent half of the features of one request's candidates; `for_param` completes them."""

    def __init__(self, cands: Candidates) -> None:
        items, text = cands.items, cands.text
        self.cands = cands
        self.value_options: list | None = None  # one "value" option per candidate (`options.value_options`)
        self.texts = [c.as_value for c in items]
        numbers = [as_number(c.text) for c in items]
        self.is_number = np.array([n is not None for n in numbers], np.float32)
        self.is_integer = np.array([n is not None and n == int(n) for n in numbers], np.float32)
        self.is_bool = np.array([c.text.strip().lower() in _TRUTH for c in items], np.float32)
        self.is_date = np.array([c.kind == "date" for c in items], np.float32)
        base = np.zeros((len(items), len(FEATURES)), np.float32)
        vocab: dict[str, int] = {}
        before_rows, inside_rows, after_rows = [], [], []
        before_at: dict[int, list[int]] = {}
        inside_of: dict[str, list[int]] = {}
        after_at: dict[int, list[int]] = {}
        self.prev_words: list[str] = []
        for i, c in enumerate(items):
            first_last = c.text.split()
            edges = (
                (first_last[0].lower().strip("\"'"), first_last[-1].lower().strip("\"'")) if first_last else ("", "")
            )
            preceding = text[max(0, c.start - 40) : c.start].split()
            base[i, 1] = self.is_number[i]
            base[i, 2] = c.kind == "quoted"
            base[i, 3] = self.is_date[i]
            base[i, 7] = any(ch.isdigit() for ch in c.text)
            base[i, 8] = c.text[:1].isupper()
            base[i, 9] = c.words / 6.0
            base[i, 10] = edges[0] in STOP or edges[1] in STOP
            base[i, 14] = c.start / max(len(text), 1)
            base[i, 15] = c.words == 1
            base[i, 16] = bool(preceding) and preceding[-1].lower().strip("\"'(,") in _PREPOSITIONS
            base[i, 21] = c.kind == "list"
            self.prev_words.append(preceding[-1].lower().strip("\"'(,:;.") if preceding else "")
            # candidates share starts, ends and texts (a request's ~280 candidates over its ~50 words): each
            # window's stems are computed once
            if c.start not in before_at:
                before_at[c.start] = [vocab.setdefault(s, len(vocab)) for s in before_stems(text, c.start)]
            if c.text not in inside_of:
                inside_of[c.text] = [vocab.setdefault(s, len(vocab)) for s in stems(c.text)]
            if c.end not in after_at:
                after_at[c.end] = [vocab.setdefault(s, len(vocab)) for s in after_stems(text, c.end)]
            before_rows.append(before_at[c.start])
            inside_rows.append(inside_of[c.text])
            after_rows.append(after_at[c.end])
        self.side = np.array([_SIDE_WORDS.get(w, 0) for w in self.prev_words], np.float32)
        self.base, self.vocab = base, vocab
        self.before = _indicator(before_rows, len(vocab))
        self.inside = _indicator(inside_rows, len(vocab))
        self.after = _indicator(after_rows, len(vocab))

    def for_param(self, name: str, schema: dict[str, Any]) -> np.ndarray:
        """(N, len(FEATURES)) features of every candidate for parameter `name` with `schema`."""
        out = self.base.copy()
        kind = param_type(schema)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            ok = np.array([normalise(t, schema, name)[1] is None for t in self.texts], np.float32)
            out[:, 6] = ok
        elif kind == "integer":
            ok = self.is_integer
        elif kind == "number":
            ok = self.is_number
        elif kind == "boolean":
            ok = self.is_bool
        elif kind == "object":
            ok = np.zeros(len(self.texts), np.float32)
        else:  # string, array, unknown: any non-empty text
            ok = np.ones(len(self.texts), np.float32)
        date_param = float(is_date_param(name, schema))
        out[:, 0] = ok
        out[:, 4] = date_param
        out[:, 5] = self.is_date * date_param
        name_vec = self._stem_vector(stems(name))
        desc_vec = self._stem_vector(stems(str(schema.get("description", ""))))
        out[:, 11] = self.before @ name_vec[0] / name_vec[1]
        out[:, 12] = self.inside @ name_vec[0] / name_vec[1]
        out[:, 13] = self.before @ desc_vec[0] / desc_vec[1]
        out[:, 17] = self.after @ name_vec[0] / name_vec[1]
        out[:, 18] = self.inside @ desc_vec[0] / desc_vec[1]
        out[:, 19] = self.after @ desc_vec[0] / desc_vec[1]
        words = {*name_words(name), *_TOKEN.findall(str(schema.get("description", "")).replace("_", " ").lower())}
        out[:, 20] = [bool(w) and w in words for w in self.prev_words]
        out[:, 22] = self.side * _side(name)
        return out

    def _stem_vector(self, words: list[str]) -> tuple[np.ndarray, float]:
        unique = set(words)
        vec = np.zeros(len(self.vocab), np.float32)
        for w in unique:
            if w in self.vocab:
                vec[self.vocab[w]] = 1.0
        return vec, float(max(len(unique), 1))


def name_words(name: str) -> list[str]:
    """The lower-cased words of a parameter name, snake_case and camelCase split, function words kept
    (`fromCurrency` -> ["from", "currency"], `mass1` -> ["mass1"])."""
    return _TOKEN.findall(_CAMEL.sub(" ", name).replace("_", " ").lower())


def _side(name: str) -> int:
    """+1 for a parameter named as a source (`from_currency`, `startDate`), -1 as a target, 0 for neither or both."""
    words = set(name_words(name))
    return int(bool(words & _SOURCE_NAMES)) - int(bool(words & _TARGET_NAMES))


def _indicator(rows: list[list[int]], width: int) -> np.ndarray:
    """(len(rows), width) 0/1: row i has a 1 in each column `rows[i]` lists (one scatter, no per-row loop)."""
    out = np.zeros((len(rows), width), np.float32)
    lengths = np.fromiter(map(len, rows), np.int64, len(rows))
    cols = np.fromiter(itertools.chain.from_iterable(rows), np.int64, int(lengths.sum()))
    out[np.repeat(np.arange(len(rows)), lengths), cols] = 1.0
    return out
