"""Robust parsers for the teacher's answers, and the maths that turns teacher signals into pi_LLM.

The embedded teacher (SmolLM2-135M-Instruct) follows formats poorly, so every parser accepts anything (JSON
in code fences, Python-style dicts, prose that names tools, binary junk, megabytes of text) and never raises.
Each returns a dataclass with `ok` and a `failure` code ("" exactly when ok). A result that is not ok may
still carry what could be recovered (tools found by scanning prose, say): callers count failures and use it.

JSON: one pass finds every balanced {...} / [...] span (inside brackets, quoted strings are skipped, so
brackets in strings do not count; a ' opens a string only after { [ , or :, so apostrophes in prose do not).
Spans are tried by start position, each with a ladder of repairs, cumulative and in this order: as is;
trailing commas dropped; Python True/False/None; unquoted keys quoted; single-quoted strings; bare words in
values quoted. An answer cut off mid-JSON (max_tokens) is tried last, with its open string and brackets
closed. The first object holding one of the expected keys wins, else the first object, else the first array.
Nothing is evaluated; repeated keys keep the last value; effort is capped (64 spans, 300k characters).

Names (tools, candidates) match exactly, else case-insensitively, else by normalised words: snake_case,
camelCase, spaces and punctuation all split into lower-case words ("get weather" ~ "get_weather" ~
"getWeather"). Scanning prose takes the longest known name at each word, left to right, and ignores a match
glued to more identifier text ("get_weather" inside "get_weather_forecast"). Lines that only echo the
prompt's listing ("- get_weather: Weather forecast...", which the 135M model loves to do, often with
invented names: any identifier-like name with _ or a camel hump counts) are not scanned
and never become a rationale, so an echo reads as "no_known_tool"/"empty" rather than as a choice of all.
A JSON list entry that is no name is scanned too ("get_weather then send_email"); numbers in a ranking are
1-based candidate positions.

Failure codes, by precedence (the first that applies):
  parse_tool_selection: "empty" (blank/non-text input), "no_known_tool" (no known tool found),
      "no_json" (no JSON; tools found by scanning the text), "bad_schema" (JSON without a usable "tools"
      list: missing, so the text was scanned, or a string/dict coerced into names)
  parse_rationale: "empty", "bad_schema" (JSON without a "rationale" string; the prose around it is used)
  parse_ranking: "empty", "no_known_tool", "no_json", "bad_schema", "partial" (JSON ranked fewer than p-1)
  parse_decomposition: "empty", "no_subtasks", "no_json" (numbered/bulleted lines were used), "bad_schema",
      "bad_ids" (missing, repeated or non-integer ids), "bad_dependency" (dependencies were dropped)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_CHARS = 1_000_000  # longer answers are cut before parsing
RATIONALE_MAX_CHARS = 600
_MAX_JSON_TRIES = 64  # bracket spans tried per text
_JSON_BUDGET = 300_000  # characters of bracket spans tried per text (each span is repaired up to 5 ways)
_PAIRS = {"}": "{", "]": "["}
_DECODER = json.JSONDecoder(strict=False)  # raw newlines inside strings are common in model output
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', re.S)
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_A-Za-z]+")
_LIST_LINE = re.compile(  # answer/tool-list lines, and lines that echo the prompt's labels
    r"^\s*(?:selected |correct )?(?:tools?|answer|ranking|next tool|request|candidates|already called)"
    r"(?:,? in order)?\s*[:=].*$",
    re.I | re.M,
)
_IDENT = re.compile(r"[A-Za-z][\w.-]*(?:_|[a-z][A-Z])[\w.-]*")
_ECHO = re.compile(r"\s*[-*\u2022]\s*(.+?)\s*:(?:\s|$)")
_LEAD = re.compile(r"^\{?\s*[\"']?(?:rationale|reason(?:ing)?|explanation)[\"']?\s*[:=]\s*[\"']?", re.I)
_ITEM = re.compile(r"^\s*(?:(?:step\s*)?\d+\s*[.):-]|[-*+\u2022])\s+(.*\S)", re.I | re.M)
_BAREWORD = re.compile(r"([\[,:]\s*)([A-Za-z_][\w\-. ]*?)(?=\s*[,\]}])")
_TOOL_KEYS = ("tools", "tool", "tool_names", "selected_tools", "functions")
_RANKING_KEYS = ("ranking", "order", "ranked", "tools", "candidates")
_SUBTASK_KEYS = ("subtasks", "steps", "tasks", "plan")
_RATIONALE_KEYS = ("rationale", "reason", "reasoning", "explanation", "thought", "thoughts")


@dataclass
class ToolSelection:
    tools: list[str]
    rationale: str
    ok: bool
    failure: str
    unknown: list[str] = field(default_factory=list)  # names in the answer that match no known tool


@dataclass
class Rationale:
    text: str
    ok: bool
    failure: str


@dataclass
class Ranking:
    order: list[str]  # a permutation of the candidates: ranked ones first, then the rest in their given order
    ranked: list[str]  # the candidates the answer named, best first
    complete: bool  # valid JSON that fixes the whole order (all candidates named, or all but one)
    ok: bool
    failure: str
    unknown: list[str] = field(default_factory=list)

    def ranked_indices(self, candidates: Sequence[str]) -> list[int]:
        """Positions in `candidates` of the ranked names, best first (the input of `ranking_distribution`)."""
        index = {name: i for i, name in reversed(list(enumerate(candidates)))}
        return [index[name] for name in self.ranked if name in index]


@dataclass
class Subtask:
    id: int  # 1..n in list order
    text: str
    domain: str | None  # a known domain, or None (unknown or missing: the caller routes it)
    depends_on: list[int]  # ids of earlier subtasks only, so the plan is acyclic


@dataclass
class Decomposition:
    subtasks: list[Subtask]
    ok: bool
    failure: str
    dropped_dependencies: int = 0
    unknown_domains: list[str] = field(default_factory=list)


def _as_text(text: Any) -> str:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    return text[:MAX_TEXT_CHARS] if isinstance(text, str) else ""


def _spans(text: str) -> tuple[list[tuple[int, int]], tuple[int, str]]:
    """(start, end) of every balanced bracket span, by start; and the text of a truncated outermost span, closed."""
    spans, stack, quote, prev = [], [], "", " "
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote, prev = "", ch
        elif ch in "{[":
            stack.append((ch, i))
        elif ch in _PAIRS:  # pop to the matching opener (a few levels down at most); a stray closer is ignored
            for k in range(len(stack) - 1, max(-1, len(stack) - 9), -1):
                if stack[k][0] == _PAIRS[ch]:
                    spans.append((stack[k][1], i + 1))
                    del stack[k:]
                    break
        elif stack and (ch == '"' or (ch == "'" and prev in "{[,:")):
            quote = ch
        if not quote and not ch.isspace():
            prev = ch
        i += 1
    if not stack or len(stack) > 32 or not re.search(r"[^\s\[\]{},]", text[stack[0][1] :]):
        return sorted(spans), (0, "")  # nothing cut off, too deep, or only brackets
    closers = "".join("}" if opener == "{" else "]" for opener, _ in reversed(stack))
    return sorted(spans), (stack[0][1], text[stack[0][1] :].rstrip() + quote + closers)


def _fix_bare(seg: str, level: int) -> str:
    if level >= 1:
        seg = re.sub(r",\s*([}\]])", r"\1", seg)
    if level >= 2:
        seg = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", seg)))
    if level >= 3:
        seg = re.sub(r"([{,]\s*)([A-Za-z_][\w\-]*)\s*:", r'\1"\2":', seg)
    if level >= 5:
        seg = _BAREWORD.sub(
            lambda m: m.group(0) if m.group(2) in ("true", "false", "null") else f'{m.group(1)}"{m.group(2)}"', seg
        )
    return seg


def _repair(s: str, level: int) -> str:
    """`s` with the repairs up to `level` applied outside strings (strings are masked as \\x01<i>\\x01 meanwhile)."""
    strings: list[str] = []

    def mask(m: re.Match) -> str:
        tok = m.group()
        if tok[0] == "'" and level >= 4:
            tok = '"' + re.sub(r'(?<!\\)"', r"\"", tok[1:-1].replace("\\'", "'")) + '"'
        strings.append(tok)
        return f"\x01{len(strings) - 1}\x01"

    masked = _fix_bare(_STRING.sub(mask, s.replace("\x01", "")), level)
    return re.sub("\x01(\\d+)\x01", lambda m: strings[int(m.group(1))], masked)


def _loads(s: str) -> Any:
    tried = set()
    for level in range(6):
        candidate = s if level == 0 else _repair(s, level)
        if candidate in tried:
            continue
        tried.add(candidate)
        try:
            return _DECODER.decode(candidate)
        except ValueError:
            continue
        except RecursionError:  # nested too deep: no repair helps
            return None
    return None


def _find_json(text: str, keys: Sequence[str] = ()) -> tuple[Any, int, int] | None:
    """(value, start, end) of the first object with one of `keys` (any object if no keys), else the first object,
    else the first array, else None. A span cut off by the end of the text is tried last, closed."""
    spans, (tail_start, tail) = _spans(text)
    first: dict[type, tuple[Any, int, int]] = {}
    tries, budget = 0, _JSON_BUDGET
    for start, end in [*spans, (tail_start, -1)] if tail else spans:
        if list in first and start < first[list][2]:
            continue  # inside an array that already parsed
        source = tail if end < 0 else text[start:end]
        if text[start] == "{" and source[1:].lstrip()[:1] in ("{", "["):
            continue  # no object starts like that, even repaired
        if end >= 0 and (tries >= _MAX_JSON_TRIES or len(source) > budget):
            continue
        tries, budget = tries + 1, budget - len(source)
        value = _loads(source)
        end = len(text) if end < 0 else end
        if isinstance(value, dict) and (not keys or _key(value, keys) is not None):
            return value, start, end
        if isinstance(value, (dict, list)):
            first.setdefault(type(value), (value, start, end))
    return first.get(dict) or first.get(list)


def extract_json(text: Any) -> dict | list | None:
    """The first JSON object (else array) in free text, repaired if needed (see the module docstring); or None."""
    found = _find_json(_as_text(text))
    return None if found is None else found[0]


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


class _Names:
    """Matches free-form names against a known list: exact, case-insensitive, normalised words."""

    def __init__(self, known: Iterable[Any]) -> None:
        self.known = list(dict.fromkeys(k for k in known if isinstance(k, str) and k))
        self.exact = set(self.known)
        self.folded: dict[str, str] = {}
        self.by_words: dict[tuple[str, ...], list[str]] = {}
        for name in self.known:
            self.folded.setdefault(name.casefold(), name)
            key = tuple(w for w, _, _ in _words(name))
            if key:
                self.by_words.setdefault(key, []).append(name)
        self.longest = max((len(k) for k in self.by_words), default=0)
        self.heads = {k[0] for k in self.by_words}

    def match(self, raw: str) -> str | None:
        raw = re.sub(r"\(.*\)\s*$", "", raw.strip().strip("`'\" ")).strip()
        if raw in self.exact:
            return raw
        hit = self.folded.get(raw.casefold())
        if hit is not None:
            return hit
        names = self.by_words.get(tuple(w for w, _, _ in _words(raw)))
        return names[0] if names else None

    def scan(self, text: str) -> list[str]:
        """Known names in the text, in order of first appearance, without repeats."""
        words, hits, i = _words(text), [], 0

        def glued(start: int, end: int, before: int, after: int) -> bool:
            joined_before = (before >= 0 and words[before][2] == start) or text[start - 1 : start] == "_"
            joined_after = (after < len(words) and words[after][1] == end) or re.match(r"_\w", text[end : end + 2])
            return bool(joined_before or joined_after)

        while i < len(words):
            step = 1
            for size in range(min(self.longest, len(words) - i), 0, -1) if words[i][0] in self.heads else ():
                names = self.by_words.get(tuple(w for w, _, _ in words[i : i + size]))
                start, end = words[i][1], words[i + size - 1][2]
                if names and not glued(start, end, i - 1, i + size):
                    span = text[start:end]
                    exact = [n for n in names if n == span] or [n for n in names if n.casefold() == span.casefold()]
                    hits.append((start, (exact or names)[0]))
                    step = size
                    break
            i += step
        for name in self.known:  # names without letters or digits can only match verbatim
            if not _words(name) and name in text:
                hits.append((text.index(name), name))
        return list(dict.fromkeys(name for _, name in sorted(hits, key=lambda h: h[0])))


def _key(record: dict, keys: Sequence[str]) -> Any:
    folded = {str(k).casefold(): v for k, v in record.items()}
    return next((folded[k] for k in keys if k in folded), None)


def _clean(text: str) -> str:
    text = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    if not text.strip(" .\u2026\"'") or re.fullmatch(r"<[^<>]*>", text):  # nothing, or the format's placeholder
        return ""
    if len(text) > RATIONALE_MAX_CHARS:
        cut = text[: RATIONALE_MAX_CHARS - 3]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "..."
    return text


def _field_text(record: dict, keys: Sequence[str]) -> str:
    value = _key(record, keys)
    if isinstance(value, list):
        value = " ".join(v for v in value if isinstance(v, str))
    return _clean(value) if isinstance(value, str) else ""


def _drop_echo(text: str, known: Iterable[str]) -> str:
    """The text without lines that echo a tool listing: "- name: ...", name known or identifier-like (a_b, aB)."""
    known = set(known)

    def echo(line: str) -> bool:
        m = _ECHO.match(line)
        name = m.group(1).strip("`*") if m else ""
        return bool(m) and (name in known or bool(_IDENT.fullmatch(name)))

    lines = text.splitlines()
    kept = [line for line in lines if not echo(line)]
    return text if len(kept) == len(lines) else "\n".join(kept)


def _prose(text: str, span: tuple[int, int] | None = None, echo: Iterable[str] = ()) -> str:
    """The text around a JSON span, without fences, echoed prompt lines or a leading "Rationale:" label."""
    if span is not None:
        text = text[: span[0]] + " " + text[span[1] :]
    text = _LIST_LINE.sub(" ", re.sub(r"```[A-Za-z]*", " ", _drop_echo(text, echo))).strip()
    return _clean(_LEAD.sub("", text).rstrip("\"'} "))


def _items(value: Any) -> tuple[list[Any] | None, bool]:
    """Names (or 1-based indices) from a JSON tools/ranking field, and whether the field had the right shape."""
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, dict):
                v = _key(v, ("name", "tool", "function"))
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
                out.append(v)
        return out, True
    if isinstance(value, str) and value.strip():
        return [value], False
    if isinstance(value, dict) and value:
        name = _key(value, ("name", "tool", "function"))
        if isinstance(name, str):
            return [name], False
        strings = [v for v in value.values() if isinstance(v, str)]
        return (strings if len(strings) == len(value) else [str(k) for k in value]), False
    return None, False


def _resolve(items: list[Any], names: _Names, allow_index: bool) -> tuple[list[str], list[str]]:
    found, unknown = [], []
    for item in items:  # a number is a 1-based position; a string that is no name is scanned for names
        if isinstance(item, int):
            hits = [names.known[item - 1]] if allow_index and 1 <= item <= len(names.known) else []
        else:
            hit = names.match(item)
            hits = [hit] if hit is not None else names.scan(item)
        if not hits:
            unknown.append(str(item))
        found += [h for h in hits if h not in found]
    return found, unknown


def _named(raw: str, names: _Names, keys: Sequence[str], allow_index: bool) -> tuple[list[str], list[str], str, Any]:
    """(known names, unknown names, failure code, the JSON found) for a tools/ranking answer."""
    found = _find_json(raw, keys)
    value = found[0] if found else None
    items, clean = _items(_key(value, keys) if isinstance(value, dict) else value)
    if items is None:  # no usable field: scan the whole text, except lines that echo the tool listing
        return names.scan(_drop_echo(raw, names.known)), [], ("bad_schema" if found else "no_json"), found
    return *_resolve(items, names, allow_index), ("" if clean else "bad_schema"), found


def parse_tool_selection(text: Any, known_tools: Sequence[str], max_tools: int | None = None) -> ToolSelection:
    """Tools (in call order, known names only, at most `max_tools`) and the rationale from a selection answer."""
    raw = _as_text(text)
    if not raw.strip():
        return ToolSelection([], "", False, "empty")
    names = _Names(known_tools)
    tools, unknown, failure, found = _named(raw, names, _TOOL_KEYS, allow_index=False)
    tools = tools if max_tools is None else tools[: max(0, max_tools)]
    rationale = _field_text(found[0], _RATIONALE_KEYS) if found and isinstance(found[0], dict) else ""
    rationale = rationale or _prose(raw, found[1:] if found else None, names.known)
    failure = "no_known_tool" if not tools else failure
    return ToolSelection(tools, rationale, not failure, failure, unknown)


def parse_rationale(text: Any, tools: Sequence[str] = ()) -> Rationale:
    """A short rationale: the JSON "rationale" field, else the plain text (labels, fences and lines that merely
    echo the listing of `tools`, "- name: description", removed)."""
    raw = _as_text(text)
    found = _find_json(raw, _RATIONALE_KEYS) if raw.strip() else None
    if found is not None and isinstance(found[0], dict):
        value = _field_text(found[0], _RATIONALE_KEYS)
        if value:
            return Rationale(value, True, "")
        prose = _prose(raw, found[1:], tools)
        return Rationale(prose, False, "bad_schema") if prose else Rationale("", False, "empty")
    prose = _prose(raw, None, tools)
    return Rationale(prose, True, "") if prose else Rationale("", False, "empty")


def parse_ranking(text: Any, candidates: Sequence[str]) -> Ranking:
    """The candidates (distinct; repeats are dropped) best first: JSON "ranking" names (or 1-based numbers), else
    the names in order of mention. `complete` only when the JSON fixes the whole order."""
    raw, names = _as_text(text), _Names(candidates)
    if not raw.strip():
        return Ranking(list(names.known), [], False, False, "empty")
    ranked, unknown, failure, _ = _named(raw, names, _RANKING_KEYS, allow_index=True)
    if not ranked:
        failure = "no_known_tool"
    elif not failure and len(ranked) < len(names.known) - 1:
        failure = "partial"
    order = ranked + [c for c in names.known if c not in ranked]
    return Ranking(order, ranked, not failure, not failure, failure, unknown)


def _ints(value: Any) -> list[int] | None:
    """Integers from an id/depends_on field: a number, digits in a string, or a flat list of those."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, bool):
            continue
        if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
            out.append(int(v))
        elif isinstance(v, str):
            out += [int(d) for d in re.findall(r"\d+", v)[:64]]
    return out if out or isinstance(value, list) else None


def parse_decomposition(text: Any, domains: Sequence[str]) -> Decomposition:
    """Subtasks numbered 1..n in list order, with known domains and dependencies on earlier subtasks only.

    Ids the model gave are mapped to positions; a dependency on an unknown id, on itself or on a later subtask
    is dropped (so no cycles). Domain labels match case-insensitively (and by normalised words); an unknown
    label gives domain None. Without JSON, numbered or bulleted lines become a chain of subtasks (each depends
    on the one before), with no domain.
    """
    raw = _as_text(text)
    if not raw.strip():
        return Decomposition([], False, "empty")
    doms = _Names(domains)
    found = _find_json(raw, _SUBTASK_KEYS)
    value, failure = (found[0] if found else None), ("" if found else "no_json")
    if isinstance(value, dict):
        value = _key(value, _SUBTASK_KEYS)
    if found and not isinstance(value, list):
        failure = "bad_schema"
    if not isinstance(value, list):
        lines = [_clean(m.group(1))[:300] for m in _ITEM.finditer(raw)]
        subtasks = [Subtask(k + 1, t, None, [k] if k else []) for k, t in enumerate(t for t in lines if t)]
        return Decomposition(subtasks, False, failure if subtasks else "no_subtasks")
    entries, bad_ids, id_map = [], False, {}
    for pos, item in enumerate(value):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            continue
        body = _field_text(item, ("text", "task", "subtask", "description", "query", "step"))
        if not body:
            continue
        given = _ints(_key(item, ("id",)))
        gid = given[0] if given and len(given) == 1 else None
        bad_ids |= gid is None or gid in id_map
        id_map.setdefault(gid if gid is not None else pos + 1, len(entries) + 1)
        deps = _ints(_key(item, ("depends_on", "dependencies", "depends", "after"))) or []
        entries.append((body, _key(item, ("domain",)), deps))
    subtasks, dropped, unknown = [], 0, []
    for k, (body, label, deps) in enumerate(entries, start=1):
        kept = sorted({id_map[d] for d in deps if id_map.get(d, k) < k})
        dropped += len(set(deps)) - len(kept)
        domain = doms.match(label) if isinstance(label, str) and label.strip() else None
        if domain is None and label is not None and str(label).strip():
            unknown.append(str(label))
        subtasks.append(Subtask(k, body, domain, kept))
    if not subtasks:
        failure = "no_subtasks"
    elif not failure:
        failure = "bad_ids" if bad_ids else ("bad_dependency" if dropped else "")
    return Decomposition(subtasks, not failure, failure, dropped, unknown)
