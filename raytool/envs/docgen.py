"""Document generation: a tool's `ToolSpec` from its Python signature, type annotations and docstring.

Mapping (JSON schema): str -> string, int -> integer, float -> number, bool -> boolean, list[T] -> array of T,
dict[str, T] -> object, TypedDict -> object with properties and required keys, Literal[...] -> enum,
`X | None` -> X (the parameter is optional). `Annotated` metadata adds `x-kind` (`Kind`) and
`minimum`/`maximum` (`Range`). The description is the docstring's first paragraph; parameter and result
field descriptions come from its Google-style `Args:` section and from `#:` comments are not used.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin, get_type_hints

from raytool.envs.suite import Kind, Range
from raytool.tools.spec import ToolSpec

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
KIND_KEY = "x-kind"


def spec_from_function(fn: Callable, name: str | None = None, domain: str = "") -> ToolSpec:
    """The `ToolSpec` of a suite tool `fn(world, **params)`."""
    hints = get_type_hints(fn, include_extras=True)
    doc = inspect.getdoc(fn) or ""
    summary, arg_docs = _parse_docstring(doc)
    if not summary:
        raise ValueError(f"tool {fn.__name__!r} needs a docstring (its first paragraph is the tool's description)")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in list(inspect.signature(fn).parameters.values())[1:]:
        if param.name not in hints:
            raise ValueError(f"tool {fn.__name__!r}: parameter {param.name!r} has no type annotation")
        schema = schema_of(hints[param.name])
        if param.name in arg_docs:
            schema["description"] = arg_docs[param.name]
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif param.default is not None:
            schema["default"] = param.default
        properties[param.name] = schema
    returns = schema_of(hints["return"]) if "return" in hints else None
    parameters = {"type": "object", "properties": properties, "required": required}
    return ToolSpec(
        name=name or fn.__name__, description=summary, parameters=parameters, returns=returns, domain=domain
    )


def schema_of(tp: Any) -> dict[str, Any]:
    """JSON schema of a type annotation (see the module docstring for the mapping)."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        base, *extras = get_args(tp)
        schema = schema_of(base)
        for extra in extras:
            if isinstance(extra, Kind):
                schema[KIND_KEY] = extra.name
            elif isinstance(extra, Range):
                schema["minimum"], schema["maximum"] = extra.lo, extra.hi
        return schema
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin is Literal:
        values = list(get_args(tp))
        return {"type": _SCALARS[type(values[0])], "enum": values}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported union {tp!r}: use one type or `X | None`")
        return schema_of(options[0])
    if origin is list:
        (item,) = get_args(tp) or (Any,)
        return {"type": "array", "items": schema_of(item) if item is not Any else {}}
    if origin is dict:
        args = get_args(tp)
        return {"type": "object", "additionalProperties": schema_of(args[1]) if args else {}}
    if typing.is_typeddict(tp):
        hints = get_type_hints(tp, include_extras=True)
        props = {key: schema_of(value) for key, value in hints.items()}
        return {"type": "object", "properties": props, "required": sorted(tp.__required_keys__)}
    if tp is Any or tp is dict:
        return {"type": "object"}
    if tp is list:
        return {"type": "array", "items": {}}
    raise TypeError(f"cannot document type {tp!r}")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(first paragraph as one line, {param: description}) from a Google-style docstring."""
    paragraphs = doc.strip().split("\n\n")
    summary = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    args: dict[str, str] = {}
    match = re.search(r"^Args:\s*\n((?:[ \t]+.*\n?)+)", doc, flags=re.MULTILINE)
    if match:
        current = None
        for line in match.group(1).splitlines():
            item = re.match(r"^\s{2,8}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
            if item:
                current = item.group(1)
                args[current] = item.group(2).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
    return summary, args
