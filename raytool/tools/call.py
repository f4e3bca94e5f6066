"""`ToolCall`: one call of a tool; an argument may reference the result of an earlier call.

A reference is the JSON object `{"$ref": i, "path": "field"}`: the field `path` of the result of call `i`
(0-based, within the same task; `path` "" is the whole result). It may sit anywhere inside the arguments,
also inside lists and nested objects. Keeping references as plain JSON makes the JSONL round trip lossless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from raytool.tools.errors import FieldError, expect_type, require

REF_KEY = "$ref"


def result_ref(call: int, path: str = "") -> dict[str, Any]:
    """The argument value that stands for field `path` of the result of earlier call `call`."""
    return {REF_KEY: call, "path": path}


def is_result_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF_KEY in value


def map_refs(value: Any, fn: Callable[[dict[str, Any]], Any]) -> Any:
    """`value` with every result reference inside it replaced by `fn(reference)`, depth first."""
    if is_result_ref(value):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_refs(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_refs(v, fn) for v in value]
    return value


def iter_refs(value: Any) -> Iterator[dict[str, Any]]:
    """Every result reference inside an argument value, depth first."""
    if is_result_ref(value):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_refs(v)


@dataclass(frozen=True)
class ToolCall:
    """A call of tool `name`.

    arguments: JSON-native values, possibly holding result references; None when the gold data gives the
        tool only (MetaTool, ToolBench relevant-API sets), so argument-level metrics skip this call.
    depends_on: indices of earlier calls in the same sequence whose results this call needs; it includes
        every call its arguments reference.
    optional: the gold marks the call as optional (ToolAlpaca's `[Optional]` steps).
    """

    name: str
    arguments: dict[str, Any] | None = None
    depends_on: tuple[int, ...] = ()
    optional: bool = False

    def __post_init__(self) -> None:
        expect_type(self.name, str, "name")
        if not self.name:
            raise FieldError("name", "empty tool name")
        if self.arguments is not None:
            expect_type(self.arguments, dict, "arguments")
        expect_type(self.depends_on, tuple, "depends_on")
        for i, dep in enumerate(self.depends_on):
            expect_type(dep, int, f"depends_on[{i}]")
        expect_type(self.optional, bool, "optional")
        missing = sorted(set(self.referenced_calls()) - set(self.depends_on))
        if missing:
            raise FieldError("depends_on", f"arguments reference calls {missing} that depends_on does not list")

    @classmethod
    def with_inferred_deps(cls, name: str, arguments: dict[str, Any] | None, optional: bool = False) -> ToolCall:
        """A call whose `depends_on` is exactly the calls its arguments reference."""
        deps = sorted({ref[REF_KEY] for ref in iter_refs(arguments or {}) if isinstance(ref[REF_KEY], int)})
        return cls(name, arguments, tuple(deps), optional)

    def referenced_calls(self) -> list[int]:
        """Indices of the calls whose results the arguments reference."""
        out = []
        for ref in iter_refs(self.arguments or {}):
            index = ref[REF_KEY]
            if isinstance(index, bool) or not isinstance(index, int):
                raise FieldError(f"arguments.{REF_KEY}", f"expected a call index, got {index!r}", "wrong_type")
            out.append(index)
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "arguments": self.arguments}
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        if self.optional:
            out["optional"] = True
        return out

    def to_openai(self, call_id: str) -> dict[str, Any]:
        """The OpenAI tool-call shape (`arguments` is a JSON string, as the API sends it)."""
        arguments = json.dumps(self.arguments or {})
        return {"id": call_id, "type": "function", "function": {"name": self.name, "arguments": arguments}}

    @classmethod
    def from_dict(cls, record: Any) -> ToolCall:
        expect_type(record, dict, "")
        depends = record.get("depends_on", [])
        expect_type(depends, list, "depends_on")
        return cls(
            name=require(record, "name", str),
            arguments=require(record, "arguments", (dict, type(None))),
            depends_on=tuple(depends),
            optional=record.get("optional", False),
        )
