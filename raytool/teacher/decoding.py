"""JSON Schemas for constrained decoding (vLLM structured outputs, the OpenAI backend's `response_format`).

    bounded(schema)          a parameter's schema as decoding needs it: type, enum, bounds; strings and lists capped
    arguments_schema(spec)   one call's arguments object: the tool's parameters, its required ones, nothing else

A tool's own schema can carry what a grammar compiler rejects or what lets a small model run away (free text
without bound, `$ref`s, formats it does not know); only the keys below are kept.
"""

from __future__ import annotations

from typing import Any

from raytool.tools.spec import ToolSpec

_KEPT = ("type", "enum", "minimum", "maximum", "items", "format")


def bounded(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema for decoding: its type, enum and bounds; strings at most 60 characters, lists 5 items."""
    out = {k: v for k, v in schema.items() if k in _KEPT}
    if out.get("type") == "string" and "enum" not in out:
        out["maxLength"] = min(int(schema.get("maxLength", 60)), 60)
    if out.get("type") == "array" and isinstance(out.get("items"), dict):
        out["items"] = bounded(out["items"])
        out["maxItems"] = 5
    return out or {"type": "string", "maxLength": 60}


def arguments_schema(spec: ToolSpec) -> dict[str, Any]:
    """The arguments of one call of `spec`: each parameter `bounded`, the required ones required, no others."""
    properties = {name: bounded(schema if isinstance(schema, dict) else {}) for name, schema in spec.properties.items()}
    return {"type": "object", "properties": properties, "required": [n for n in spec.required if n in properties],
            "additionalProperties": False}  # fmt: skip
