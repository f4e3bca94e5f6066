"""What every importer shares: strict-or-skip handling of bad records, and type-name mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from raytool.tools.dataset import ImportReport
from raytool.tools.errors import FieldError, RecordError

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


def json_type(name: Any, field: str) -> str:
    """Map a benchmark's type name (`str`, `NUMBER`, `DATE (YYYY-MM-DD)`) to a JSON-schema type."""
    if not isinstance(name, str):
        raise FieldError(field, f"expected a type name, got {type(name).__name__}", "wrong_type")
    key = name.strip().lower().split(" ")[0].split("(")[0]
    if key not in TYPE_NAMES:
        raise FieldError(field, f"unknown parameter type {name!r} (known: {', '.join(sorted(set(TYPE_NAMES)))})")
    return TYPE_NAMES[key]


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
