"""The one config layer: YAML files (optionally under a section key), KEY=VALUE overrides, and the typed check
that turns a mapping into one of the project's settings dataclasses.

Every config kind — teacher, decider env, proposer, decider run, the main job's sections, the catalogue job, Tune
sweep files, Serve files — reports a value it cannot use in one shape, naming the file (or the flag), the key path
and what was expected:

    train.yaml: decider: unknown key 'iteration' (known: checkpoint_every, hidden, iterations, ...)
    train.yaml: proposer.batch_size: expected int, got 'eight' (str)
    teacher.yaml: teacher.backend: must be one of vllm, transformers, openai, synthetic, got 'vlm'

`settings_from(cls, record, where, path)` checks the keys against the dataclass's fields, each value against the
field's annotation (int, float, str, bool, tuples, lists, mappings, `X | None`, nested dataclasses; ints are
accepted for floats and lists for tuples), then builds it; a ValueError from the dataclass's own checks
(`__post_init__`) is re-raised in the same shape.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value that cannot be used: `<where>: <key path>: <what was expected>`."""


def config_error(where: str, path: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {path or '<top>'}: {message}")


def unknown_key(where: str, path: str, key: str, known: Sequence[str]) -> ConfigError:
    return config_error(where, path, f"unknown key {key!r} (known: {', '.join(sorted(known))})")


def check_keys(record: Mapping[str, Any], known: Sequence[str], where: str, path: str = "") -> None:
    """Every key of `record` is in `known` (the first stray one is the error)."""
    for key in record:
        if key not in known:
            raise unknown_key(where, path, key, known)


def settings_from(cls: type[T], record: Any, where: str = "<config>", path: str = "") -> T:
    """The dataclass `cls` from `record` (a mapping; None = all defaults), checked as the module docstring says."""
    if record is None:
        record = {}
    if not isinstance(record, Mapping):
        raise config_error(where, path, f"expected a mapping, got {shown(record)}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    check_keys(record, names, where, path)
    values = {key: _checked(value, hints[key], where, _join(path, key)) for key, value in record.items()}
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as err:
        raise config_error(where, path, str(err)) from None


def read_config(path: str | Path | None, section: str | None = None) -> dict[str, Any]:
    """The mapping in a YAML file (empty without a file); with `section`, the mapping under that key when the file
    has one, else the whole file (a file of one kind may be written bare or under its section key)."""
    import yaml

    if path is None:
        return {}
    text = Path(path).read_text(encoding="utf-8")
    try:
        record = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if record is None:
        return {}
    if not isinstance(record, Mapping):
        raise config_error(str(path), "", f"expected a mapping, got {shown(record)}")
    if section is not None and section in record:
        inner = record[section]
        if inner is not None and not isinstance(inner, Mapping):
            raise config_error(str(path), section, f"expected a mapping, got {shown(inner)}")
        return dict(inner or {})
    return dict(record)


def apply_overrides(record: Mapping[str, Any], items: Sequence[str], where: str = "--set") -> dict[str, Any]:
    """`record` with KEY=VALUE overrides applied (VALUE parsed as YAML; `a.b=1` sets a nested key)."""
    import yaml

    merged = dict(record)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{where}: expects KEY=VALUE, got {item!r}")
        target = merged
        *parents, leaf = key.split(".")
        for parent in parents:
            inner = target.get(parent)
            target[parent] = dict(inner) if isinstance(inner, Mapping) else {}
            target = target[parent]
        target[leaf] = yaml.safe_load(value)
    return merged


# -- the type check ------------------------------------------------------------------------------------------------


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def shown(value: Any) -> str:
    """A value as error messages show it: its repr (cut at 60 characters) and its type."""
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"


def _checked(value: Any, annotation: Any, where: str, path: str) -> Any:
    """`value` converted to `annotation` where that is lossless (int -> float, list -> tuple), else a ConfigError."""
    if annotation is Any:
        return value
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _checked(value, arg, where, path)
            except ConfigError as err:
                errors.append(err)
        raise errors[0] if len(errors) == 1 else _wrong(where, path, annotation, value)
    if dataclasses.is_dataclass(annotation):
        return settings_from(annotation, value, where, path)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _wrong(where, path, annotation, value)
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _wrong(where, path, annotation, value)
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _wrong(where, path, annotation, value)
    if annotation is str:
        if isinstance(value, str):
            return value
        raise _wrong(where, path, annotation, value)
    if origin in (dict, Mapping) or annotation is dict:
        if not isinstance(value, Mapping):
            raise _wrong(where, path, annotation, value)
        if len(args) == 2 and args[1] is not Any:
            return {k: _checked(v, args[1], where, _join(path, str(k))) for k, v in value.items()}
        return dict(value)
    if origin in (tuple, list, Sequence) or annotation in (tuple, list):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise _wrong(where, path, annotation, value)
        item = args[0] if args and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)) else Any
        items = [_checked(v, item, where, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple or annotation is tuple else items
    if isinstance(annotation, type):
        if isinstance(value, annotation):
            return value
        raise _wrong(where, path, annotation, value)
    return value  # a typing construct this check does not know (Literal, Callable, ...): the dataclass decides


def _wrong(where: str, path: str, annotation: Any, value: Any) -> ConfigError:
    return config_error(where, path, f"expected {_type_name(annotation)}, got {shown(value)}")


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return {dict: "mapping", tuple: "list", list: "list"}.get(annotation, annotation.__name__)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else ""
        )
    if origin in (dict, Mapping):
        return "mapping"
    if origin in (tuple, list, Sequence):
        return f"list of {_type_name(args[0])}" if args and args[0] is not Any else "list"
    return str(annotation)
