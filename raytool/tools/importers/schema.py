"""Parameter schemas from users' catalogues: normalised to what `ToolSpec` holds, checked with `jsonschema`.

Catalogues in the wild declare things a `ToolSpec` cannot hold exactly. Each is mapped to the nearest thing and
counted in the report's notes (`quirks`), never rejected:

    unknown_type_as_string        a property type that is no JSON type ("file", "NUMBER OF ITEMS"): string,
                                  the original kept under `x-raytool-original-type`
    union_type_narrowed           a type list (["string", "null"]): its first non-null type, the list kept
    required_not_in_properties    a `required` name with no property: dropped from `required`
    parameters_type_added         a parameter schema without `"type": "object"` that has properties (or none)

What is broken — a schema that is not a JSON object, or one that JSON Schema itself rejects (`"required": "x"`,
`"minimum": "ten"`) — is a `FieldError` naming the schema path, checked by `jsonschema`'s Draft 2020-12
meta-schema rather than by hand.
"""

from __future__ import annotations

from typing import Any

from raytool.tools.dataset import ImportReport
from raytool.tools.errors import WRONG_TYPE, FieldError
from raytool.tools.importers.base import ORIGINAL_TYPE, QUIRKS, json_type
from raytool.tools.spec import JSON_TYPES

EMPTY = {"type": "object", "properties": {}, "required": []}


def normalise_parameters(schema: Any, field: str, report: ImportReport) -> dict[str, Any]:
    """A `ToolSpec.parameters` object from a catalogue's parameter schema (`None`: no parameters)."""
    if schema is None:
        return dict(EMPTY)
    if not isinstance(schema, dict):
        raise FieldError(field, f"expected a JSON-Schema object, got {type(schema).__name__}", WRONG_TYPE)
    out = dict(schema)
    if out.get("type") != "object":
        if "type" in out and out["type"] is not None:
            raise FieldError(f"{field}.type", f"a tool's parameters must be an object schema, got {out['type']!r}")
        report.note(QUIRKS, "parameters_type_added")
        out["type"] = "object"
    props = out.get("properties", {})
    if not isinstance(props, dict):
        raise FieldError(f"{field}.properties", f"expected an object, got {type(props).__name__}", WRONG_TYPE)
    out["properties"] = {name: normalise_property(p, f"{field}.properties.{name}", report) for name, p in props.items()}
    required = out.get("required", [])
    if not isinstance(required, list):
        raise FieldError(f"{field}.required", f"expected a list, got {type(required).__name__}", WRONG_TYPE)
    kept = [r for r in required if r in out["properties"]]
    if len(kept) < len(required):
        report.note(QUIRKS, "required_not_in_properties", len(required) - len(kept))
    out["required"] = kept
    check_schema(out, field)
    return out


def normalise_property(schema: Any, field: str, report: ImportReport) -> dict[str, Any]:
    """One property's schema with a JSON type (or none); nested properties and items likewise."""
    if isinstance(schema, bool):  # JSON Schema's `true` / `false` schemas
        return {}
    if not isinstance(schema, dict):
        raise FieldError(field, f"expected a JSON-Schema object, got {type(schema).__name__}", WRONG_TYPE)
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, list):
        options = [k for k in kind if k != "null"] or ["null"]
        report.note(QUIRKS, "union_type_narrowed")
        out[ORIGINAL_TYPE] = kind
        kind = options[0]
        out["type"] = kind
    if kind is not None and kind not in JSON_TYPES:
        mapped = json_type(kind, f"{field}.type", report)
        if mapped == "string" and ORIGINAL_TYPE not in out:
            out[ORIGINAL_TYPE] = kind
        out["type"] = mapped
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: normalise_property(v, f"{field}.properties.{k}", report)
                             for k, v in out["properties"].items()}  # fmt: skip
    if isinstance(out.get("items"), dict):
        out["items"] = normalise_property(out["items"], f"{field}.items", report)
    return out


def check_schema(schema: dict[str, Any], field: str) -> None:
    """Raise a `FieldError` at the offending path if `schema` is not valid JSON Schema (Draft 2020-12)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.path)
        raise FieldError(f"{field}{path}", f"not valid JSON Schema: {err.message}") from None
