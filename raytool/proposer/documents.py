"""The text a tool is embedded and matched by, and the segmentation of multi-part queries.

A tool document is `name: description Parameters: p1: description; p2: description` — parameter descriptions
carry most of the words users write ("for sample HYXj8XBrFKkO", "in the year 2021"). Multi-part queries
("Calculate ... Then, retrieve ... Finally, ...") are split into sentences so that every part gets its own
ranked list; a tool mentioned in one sentence is not drowned by the others.
"""

from __future__ import annotations

import re

from raytool.tools.spec import ToolSpec

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_MIN_SEGMENT_CHARS = 4


def tool_document(spec: ToolSpec) -> str:
    """`name: description Parameters: p: description; ...` (parameters in schema order)."""
    props = spec.properties.items()
    params = "; ".join(f"{name}: {schema.get('description', '')}".rstrip(": ") for name, schema in props)
    text = f"{spec.name}: {spec.description}"
    return f"{text} Parameters: {params}" if params else text


def split_query(query: str) -> list[str]:
    """The query's sentences (at least one: the whole query when it has a single sentence)."""
    parts = [p.strip() for p in _SENTENCE_END.split(query.strip())]
    parts = [p for p in parts if len(p) >= _MIN_SEGMENT_CHARS]
    return parts or [query.strip()]


def query_segments(query: str, history: tuple[str, ...] | list[str] = (), segment: bool = True) -> list[str]:
    """What the proposer embeds for a query: the whole query first, then its sentences when there are several.

    The history (names of tools already called) is appended to the whole query as `Called so far: a, b.`
    """
    whole = query.strip() + (f" Called so far: {', '.join(history)}." if history else "")
    parts = split_query(query) if segment else []
    return [whole, *parts] if len(parts) > 1 else [whole]
