"""Errors raised on bad input: each names the file, the line or index, and the field."""

from __future__ import annotations

# Reasons, used as keys of the skip report of `--skip-bad` imports.
TRUNCATED_JSON = "truncated_json"
BAD_ENCODING = "bad_encoding"
WRONG_TYPE = "wrong_type"
MISSING_FIELD = "missing_field"
UNKNOWN_TOOL = "unknown_tool"
INVALID_VALUE = "invalid_value"
EMPTY_FILE = "empty_file"


class FieldError(ValueError):
    """A problem with one field of one record; the reader adds the file and location."""

    def __init__(self, field: str, message: str, reason: str = INVALID_VALUE) -> None:
        super().__init__(f"field '{field}': {message}")
        self.field = field
        self.message = message
        self.reason = reason

    def nested(self, prefix: str) -> FieldError:
        """The same error with `prefix` put before the field path (`calls[2]` + `name`)."""
        sep = "" if self.field.startswith("[") else "."
        return FieldError(f"{prefix}{sep}{self.field}" if self.field else prefix, self.message, self.reason)


class RecordError(ValueError):
    """A bad record in an input file: `path:location: field 'x': message`."""

    def __init__(self, path: str, location: str, field: str, message: str, reason: str = INVALID_VALUE) -> None:
        where = f"{path}:{location}" if location else str(path)
        text = f"{where}: field '{field}': {message}" if field else f"{where}: {message}"
        super().__init__(text)
        self.path = str(path)
        self.location = location
        self.field = field
        self.message = message
        self.reason = reason

    @classmethod
    def from_field(cls, path: str, location: str, err: FieldError) -> RecordError:
        return cls(path, location, err.field, err.message, err.reason)


def expect_type(value: object, types: type | tuple[type, ...], field: str) -> None:
    """Raise a `FieldError` naming `field` unless `value` is an instance of `types` (bool is not an int)."""
    names = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in names:
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        expected = " or ".join(t.__name__ for t in names)
        raise FieldError(field, f"expected {expected}, got {type(value).__name__} {_short(value)}", WRONG_TYPE)


def require(record: dict, key: str, types: type | tuple[type, ...], field: str | None = None) -> object:
    """`record[key]`, checked for presence and type; errors name `field` (default `key`)."""
    name = field or key
    if not isinstance(record, dict):
        raise FieldError("", f"expected a JSON object, got {type(record).__name__}", WRONG_TYPE)
    if key not in record:
        raise FieldError(name, "missing", MISSING_FIELD)
    value = record[key]
    expect_type(value, types, name)
    return value


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
