"""`ToolSpec`: one tool in the OpenAI function-calling shape, plus its result schema and domain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from raytool.tools.errors import FieldError, expect_type, require

# JSON-schema types a parameter may declare.
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
# Benchmarks' tool names are kept verbatim (Seal-Tools has "requestFirst Aid Assistance"), so a name is any
# printable text up to 128 characters; `openai_name` gives the form OpenAI accepts ([A-Za-z0-9_-]{1,64}).
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
_OPENAI_BAD = re.compile(r"[^A-Za-z0-9_\-]")


@dataclass(frozen=True)
class ToolSpec:
    """A callable tool.

    name: unique within a catalogue; kept as the source spells it (see `openai_name`).
    description: what the tool does, in natural language.
    parameters: a JSON-schema object `{"type": "object", "properties": {...}, "required": [...]}`.
    returns: optional JSON schema of the result (later calls may consume its fields).
    domain: the tool's field or category (e.g. "Finance/Banking"); "" when unknown.
    """

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}, "required": []})
    returns: dict[str, Any] | None = None
    domain: str = ""

    def __post_init__(self) -> None:
        validate_tool_fields(self.name, self.description, self.parameters, self.returns, self.domain)

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.parameters.get("properties", {}))

    @property
    def openai_name(self) -> str:
        """The name with characters OpenAI rejects replaced by `_`, at most 64 characters."""
        return _OPENAI_BAD.sub("_", self.name)[:64]

    def to_openai(self) -> dict[str, Any]:
        """The `tools=[...]` entry of an OpenAI chat-completions request."""
        return {
            "type": "function",
            "function": {"name": self.openai_name, "description": self.description, "parameters": self.parameters},
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description, "parameters": self.parameters}
        if self.returns is not None:
            out["returns"] = self.returns
        if self.domain:
            out["domain"] = self.domain
        return out

    @classmethod
    def from_dict(cls, record: Any) -> ToolSpec:
        """Build from `to_dict()` output (or an OpenAI `{"type": "function", "function": {...}}` entry)."""
        expect_type(record, dict, "")
        if record.get("type") == "function" and isinstance(record.get("function"), dict):
            record = record["function"]
        unknown = set(record) - {"name", "description", "parameters", "returns", "domain"}
        if unknown:
            raise FieldError(sorted(unknown)[0], "unknown field of a tool")
        return cls(
            name=require(record, "name", str),
            description=require(record, "description", str),
            parameters=record.get("parameters", {"type": "object", "properties": {}, "required": []}),
            returns=record.get("returns"),
            domain=record.get("domain", ""),
        )


def validate_tool_fields(name: Any, description: Any, parameters: Any, returns: Any, domain: Any) -> None:
    """Raise `FieldError` on the first field of a tool that is malformed."""
    expect_type(name, str, "name")
    if not _NAME.match(name):
        raise FieldError("name", f"{name!r} is not a valid tool name (1-128 printable characters)")
    expect_type(description, str, "description")
    expect_type(domain, str, "domain")
    expect_type(parameters, dict, "parameters")
    if parameters.get("type") != "object":
        raise FieldError("parameters.type", f"must be 'object', got {parameters.get('type')!r}")
    props = parameters.get("properties", {})
    expect_type(props, dict, "parameters.properties")
    for pname, schema in props.items():
        expect_type(schema, dict, f"parameters.properties.{pname}")
        ptype = schema.get("type")
        if ptype is not None and ptype not in JSON_TYPES:
            raise FieldError(f"parameters.properties.{pname}.type", f"{ptype!r} is not a JSON-schema type")
    required = parameters.get("required", [])
    expect_type(required, list, "parameters.required")
    for i, pname in enumerate(required):
        if pname not in props:
            raise FieldError(f"parameters.required[{i}]", f"{pname!r} is not among the properties")
    if returns is not None:
        expect_type(returns, dict, "returns")
