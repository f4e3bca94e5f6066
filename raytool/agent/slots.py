"""Argument values of a bare request on the executable suites, read off the sub-question templates.

Dataset tasks carry their gold calls, whose arguments the binder reads (`raytool.envs.binder`). A request typed
by a user has none, so `request_calls` reads the values from the text: each sentence is matched against every
suite tool's question template (`"book the quoted fare {fare_id} for traveller {traveller_id}"`, placeholders as
lazy groups; the most specific template, the one with the most literal characters, wins), and a trailing
parenthesis `(seat preference any, region sa-east)` gives optional parameters by their spelled-out names. Values
that name an earlier step ("the fare id from step 1") are left out: the binder fills them with a reference to
that step's output. Values are cast to the parameter's JSON type. The result is one `ToolCall` per matched
sentence, used only as the binder's argument source; nothing is scored against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from raytool.planner.rules import split_sentences
from raytool.tools.call import ToolCall

_OPENER = re.compile(r"^(first|then|finally|next|separately|also|after that|meanwhile)\s*,?\s+", re.I)
_REFERENCE = re.compile(r"\bthe (?:[a-z]+ ){1,3}?from step \d+\b", re.I)  # "the fare id from step 1"
_TOKEN = "<earlier-step>"  # a reference phrase, as one token: its words must not end a neighbouring value


def request_calls(query: str, tools: Sequence[Any]) -> tuple[ToolCall, ...]:
    """Argument-carrying calls for `query`'s sentences (module docstring); `tools` are suite tools
    (`raytool.envs.suite.SuiteTool`: `.question`, `.spec`)."""
    patterns = [(tool, _pattern(tool.question)) for tool in tools if tool.question]
    calls = []
    for sentence in split_sentences(query):
        text = _REFERENCE.sub(_TOKEN, _OPENER.sub("", sentence.strip()).rstrip(".?! "))
        text, extras = _split_extras(text)
        best = None
        for tool, (regex, literal) in patterns:
            found = regex.fullmatch(text)
            if found and (best is None or literal > best[2]):
                best = (tool, found, literal)
        if best is None:
            continue
        tool, found, _ = best
        arguments = {k: v for k, v in found.groupdict().items()}
        for name in tool.spec.properties:
            spoken = name.replace("_", " ")
            for extra in extras:
                if extra.lower().startswith(spoken + " "):
                    arguments.setdefault(name, extra[len(spoken) + 1 :])
        typed = {k: _cast(v, tool.spec.properties.get(k, {})) for k, v in arguments.items() if _TOKEN not in v}
        calls.append(ToolCall(tool.spec.name, {k: v for k, v in typed.items() if v is not None}))
    return tuple(calls)


def _pattern(question: str) -> tuple[re.Pattern, int]:
    parts = re.split(r"\{(\w+)\}", question)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(regex, re.I), sum(len(p) for p in parts[::2])


def _split_extras(text: str) -> tuple[str, list[str]]:
    found = re.search(r"\s*\(([^()]*)\)\s*$", text)
    if not found:
        return text, []
    return text[: found.start()], [e.strip() for e in found.group(1).split(",") if e.strip()]


def _cast(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False}.get(value.strip().lower())
        if kind == "array":
            items = [v.strip() for v in value.split(",") if v.strip()]
            return [_cast(v, schema.get("items", {})) for v in items]
    except ValueError:
        return None
    return value.strip()
