"""What every importer shares: strict-or-skip handling of bad records, and type-name mapping.

Quirks — values the project cannot represent exactly but can map to the nearest thing — are not errors: they are
converted and counted in the report's notes under `QUIRKS` (`raytool data stats` and every `eval` command print
them). A parameter type that is free text ("NUMBER OF ITEMS", RapidAPI's "ENUM (a|b)") becomes a string; its
original spelling is kept in the parameter's schema under `ORIGINAL_TYPE`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from raytool.tools.dataset import ImportReport
from raytool.tools.errors import FieldError, RecordError
from raytool.tools.spec import ToolSpec

T = TypeVar("T")

# Type names found in the benchmarks' parameter schemas -> JSON-schema types.
TYPE_NAMES = {
    "str": "string", "string": "string", "text": "string", "date": "string", "enum": "string",
    "int": "integer", "integer": "integer", "long": "integer",
    "float": "number", "number": "number", "double": "number",
    "bool": "boolean", "boolean": "boolean",
    "list": "array", "array": "array", "tuple": "array",
    "dict": "object", "object": "object", "json": "object",
    "null": "null", "none": "null",
}  # fmt: skip


QUIRKS = "quirks"  # the report's notes group of counted lenient conversions
ORIGINAL_TYPE = "x-raytool-original-type"  # a parameter schema's key for a type name that was mapped to string
UNKNOWN_TYPE = "unknown_type_as_string"


def json_type(name: Any, field: str, report: ImportReport | None = None) -> str:
    """Map a benchmark's type name (`str`, `NUMBER`, `DATE (YYYY-MM-DD)`) to a JSON-schema type.

    A name that is no known type is an error without `report`; with one it maps to "string" and is counted
    (`QUIRKS`, `UNKNOWN_TYPE`). Use `typed` to also keep the original spelling in the schema.
    """
    if not isinstance(name, str):
        raise FieldError(field, f"expected a type name, got {type(name).__name__}", "wrong_type")
    key = _type_key(name)
    if key in TYPE_NAMES:
        return TYPE_NAMES[key]
    if report is None:
        raise FieldError(field, f"unknown parameter type {name!r} (known: {', '.join(sorted(set(TYPE_NAMES)))})")
    report.note(QUIRKS, UNKNOWN_TYPE)
    return "string"


def typed(name: Any, field: str, report: ImportReport) -> dict[str, Any]:
    """`{"type": json_type(...)}`, plus `ORIGINAL_TYPE: name` when `name` was mapped to string as a quirk."""
    schema: dict[str, Any] = {"type": json_type(name, field, report)}
    if _type_key(name) not in TYPE_NAMES:
        schema[ORIGINAL_TYPE] = name
    return schema


def _type_key(name: str) -> str:
    """The lookup key of a type name: `DATE (YYYY-MM-DD)` -> `date`."""
    return name.strip().lower().split(" ")[0].split("(")[0]


def add_tool(catalogue: dict[str, ToolSpec], spec: ToolSpec | None, collect: Collector, path: str, where: str,
             field: str = "name") -> None:  # fmt: skip
    """Put `spec` into `catalogue` unless it is None (a skipped record); a second tool of the same name goes
    through `collect` (an error, or skipped and counted)."""
    if spec is None:
        return
    if spec.name in catalogue:
        collect.fail(RecordError(path, where, field, f"duplicate tool {spec.name!r}"))
        return
    catalogue[spec.name] = spec


class Collector:
    """Runs per-record conversions: strict mode raises the first `RecordError`, `skip_bad` counts it instead."""

    def __init__(self, report: ImportReport, skip_bad: bool) -> None:
        self.report = report
        self.skip_bad = skip_bad

    def run(self, path: str, location: str, build: Callable[..., T], *args: Any) -> T | None:
        """`build(*args)`, with a `FieldError` turned into a `RecordError` at `path:location`."""
        try:
            return build(*args)
        except FieldError as err:
            return self.fail(RecordError.from_field(str(path), location, err))
        except RecordError as err:
            return self.fail(err)

    def fail(self, err: RecordError) -> None:
        if not self.skip_bad:
            raise err
        self.report.skip(err)
        return None
