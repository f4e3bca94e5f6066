"""The deterministic argument binder: which values a chosen tool is called with.

The decider picks *which* tool and *when*; the binder fills the arguments, so the same rule serves task
generation (gold arguments are the binder's output) and every rollout. For each parameter of the chosen tool,
in the order of its schema:

  1. kind match on earlier outputs: if the parameter has a kind (`x-kind`) and an earlier successful call's
     output holds a field of that kind (per that tool's `returns` schema), the value is a reference to it.
     The latest such call wins; inside an output, the first field in depth-first order (lists: element 0).
  2. name match on the task: else, if the task's slots hold a value for the parameter's name (slots are
     the values the task's gold calls use, by (tool, parameter) first, then by parameter name), that value.
     A slot that is itself a reference to gold call j binds to the trajectory call matched to gold call j
     (omitted if none yet).
  3. otherwise the parameter is left out (a missing required one makes the call malformed).

With `stated_first` (the decider env's predicted arguments: the slots are what the filler read off the request), a
literal slot value comes before a kind match that points into a list (`positions[0].ticker`: the first of many is a
guess) when the literal is written like the list's value (`same_shape`: "BLZE" and "KRNL" are both a word in
capitals): a ticker the request names is not replaced by an earlier output's first position (a failed "sell BLZE"
followed by a positions lookup must not sell the account's first holding), while a literal of another shape is the
filler's misreading and the earlier output wins ("tr-104" is no city, "2025-09-29" no flight id). A kind match on a
single field still comes first: the filler may read a literal off another clause where the request means an
earlier output ("the tenant from step 1"); letting every literal win broke those (docs/agent.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from raytool.envs.docgen import KIND_KEY
from raytool.tools.call import REF_KEY, is_result_ref, result_ref
from raytool.tools.errors import FieldError
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

_EXAMPLE = re.compile(r'e\.g\.,?\s*"([^"]+)"')
_SERIAL = re.compile(r"([a-z]{2,4})-\d{2,}")  # a prefixed serial id: bk-0001, tr-101
_CODE = re.compile(r"[A-Z]{2,6}")  # a code in capitals: ACME, EUR, LIS


@dataclass(frozen=True)
class PastCall:
    """A call already made in the trajectory: its tool spec, and its output when it succeeded (else None)."""

    spec: ToolSpec
    ok: bool
    output: Any = None


def task_slots(task: Task) -> dict[Any, Any]:
    """The task's argument values, keyed by (tool, parameter) and by parameter; first occurrence wins."""
    slots: dict[Any, Any] = {}
    for call in task.calls:
        for key, value in (call.arguments or {}).items():
            slots.setdefault((call.name, key), value)
            slots.setdefault(key, value)
    return slots


def slots_for(slots: dict[Any, Any], tool: str) -> dict[str, Any]:
    """The name-keyed slots a call of `tool` binds from: its own (tool, parameter) values override."""
    out = {k: v for k, v in slots.items() if isinstance(k, str)}
    out.update({k[1]: v for k, v in slots.items() if isinstance(k, tuple) and k[0] == tool})
    return out


def bind_arguments(
    spec: ToolSpec,
    slots: dict[str, Any],
    history: Sequence[PastCall],
    gold_to_trajectory: dict[int, int] | None = None,
    stated_first: bool = False,
) -> dict[str, Any]:
    """Arguments for `spec` under the rules of the module docstring; references point into `history`."""
    arguments: dict[str, Any] = {}
    for name, schema in spec.properties.items():
        kind = schema.get(KIND_KEY)
        stated = stated_first and name in slots and not is_result_ref(slots[name])
        ref = latest_of_kind(history, kind) if kind else None
        if ref is not None and stated and "[" in ref["path"] and same_shape(slots[name], _value(history, ref)):
            ref = None  # a list's first element is a guess: the request's value of the same shape wins
        if ref is not None:
            arguments[name] = ref
        elif name in slots:
            value = slots[name]
            if is_result_ref(value):
                index = (gold_to_trajectory or {}).get(value[REF_KEY])
                if index is not None:
                    arguments[name] = result_ref(index, value.get("path", ""))
            else:
                arguments[name] = value
    return arguments


def same_shape(a: Any, b: Any) -> bool:
    """Whether two values are written alike: the same type and, for strings, the same pattern of character classes
    (runs of capitals, small letters, digits; other characters kept): "BLZE" ~ "KRNL", "tr-104" ~ "tr-101",
    "Singapore" ~ "Madrid", but not "tr-104" ~ "Singapore" nor "2025-09-29" ~ "BR176-2025-09-29"."""
    if isinstance(a, str) and isinstance(b, str):
        return _shape(a) == _shape(b)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return type(a) is type(b) or numbers


def example_of(schema: dict[str, Any]) -> str | None:
    """The example value a string parameter documents: its JSON Schema `examples[0]` / `example`, else the first
    quoted `e.g. "..."` of its description (the suites' and many OpenAPI documents' convention); None without one."""
    for key in ("examples", "example"):
        value = schema.get(key)
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str):
            return value
    match = _EXAMPLE.search(str(schema.get("description", "")))
    return match.group(1) if match else None


def kind_examples(specs: Sequence[ToolSpec]) -> dict[str, str]:
    """Kind (`x-kind`) -> the first example a parameter of that kind documents (`example_of`), over `specs`."""
    out: dict[str, str] = {}
    for spec in specs:
        for schema in spec.properties.values():
            example = example_of(schema)
            if example and schema.get(KIND_KEY):
                out.setdefault(schema[KIND_KEY], example)
    return out


def written_like_example(value: Any, schema: dict[str, Any], example: str | None = None, name: str = "") -> bool:
    """Whether a stated string value could be one of the parameter's values, judged by its documented example
    (`example_of`, else `example`: e.g. another parameter's of the same kind) where the example has a recognisable
    form: a prefixed serial id ("bk-0001") needs the same prefix ("tr-103" is no booking id); an identifier (`name`
    or its kind ends in "_id") whose example mixes letters and digits needs a value written alike (`same_shape`:
    "kepler-institute" is no node id like "par-dc1-n01", "2025-07-07" no flight id like "AT104-2025-03-10"); a code
    in capitals ("ACME") needs a value in capitals ("Ion Battery" is no ticker). Anything else (no example, a
    free-form one: "Lisbon", "acme-ai", "pytorch-2.3-cuda12"; enums, numbers, references) passes."""
    if not isinstance(value, str) or "enum" in schema:
        return True
    example = example_of(schema) or example
    if not example:
        return True
    serial = _SERIAL.fullmatch(example)
    if serial:
        return re.fullmatch(rf"{re.escape(serial.group(1))}-\d+", value.strip(), re.I) is not None
    identifier = name.endswith("_id") or str(schema.get(KIND_KEY, "")).endswith("_id")
    if identifier and any(c.isdigit() for c in example) and any(c.isalpha() for c in example):
        return same_shape(value.strip(), example)
    if _CODE.fullmatch(example):
        return _CODE.fullmatch(value.strip()) is not None
    return True


def taken_as_other_kind(value: Any, kind: str | None, earlier: Iterable[tuple[ToolSpec, dict[str, Any]]]) -> bool:
    """Whether a stated string `value` for a parameter of `kind` (`x-kind`) was already passed, by one of the
    `earlier` (spec, arguments) calls that succeeded, to a parameter of another kind: one mention names one thing, so
    "USD" taken as a `currency` is no `nationality` ("Brazil", whose example alone does not rule a code out).
    Parameters without a kind (most users' catalogues) never clash."""
    if not kind or not isinstance(value, str):
        return False
    key = value.strip().casefold()
    for spec, arguments in earlier:
        for name, used in arguments.items():
            other = spec.properties.get(name, {}).get(KIND_KEY)
            if other and other != kind and isinstance(used, str) and used.strip().casefold() == key:
                return True
    return False


def _shape(text: str) -> str:
    classes = ("A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c for c in text)
    return re.sub(r"(.)\1+", r"\1", "".join(classes))


def _value(history: Sequence[PastCall], ref: dict[str, Any]) -> Any:
    """The value a reference from `latest_of_kind` points at (its path was found in that very output)."""
    return resolve_path(history[ref[REF_KEY]].output, ref["path"])


def latest_of_kind(history: Sequence[PastCall], kind: str) -> dict[str, Any] | None:
    """A reference to the first field of `kind` in the latest successful output that has one."""
    for index in range(len(history) - 1, -1, -1):
        past = history[index]
        if past.ok and past.spec.returns is not None:
            path = find_kind(past.output, past.spec.returns, kind)
            if path is not None:
                return result_ref(index, path)
    return None


def find_kind(value: Any, schema: dict[str, Any], kind: str, path: str = "") -> str | None:
    """Path (`nodes[0].node_id`) of the first field of `kind` in `value`, depth first, guided by `schema`."""
    if schema.get(KIND_KEY) == kind:
        return path
    if isinstance(value, dict) and schema.get("type") == "object":
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                found = find_kind(item, props[key], kind, f"{path}.{key}" if path else key)
                if found is not None:
                    return found
    elif isinstance(value, list) and value and schema.get("type") == "array":
        return find_kind(value[0], schema.get("items", {}), kind, f"{path}[0]")
    return None


def resolve_path(value: Any, path: str) -> Any:
    """The value at `path` (as written by `find_kind`) inside `value`; KeyError/IndexError if absent."""
    if not path:
        return value
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


class UnresolvedReference(FieldError, LookupError):
    """An argument refers to an output that does not hold it: `field` names the argument, the message the call
    and the path. A `LookupError`, so a rollout counts the call as malformed like any bad lookup."""


def resolve_arguments(arguments: dict[str, Any], outputs: Sequence[Any]) -> dict[str, Any]:
    """Replace result references by the values they point at (`outputs[i]` is call i's output); a reference to a
    call not made yet or to a field its output lacks raises `UnresolvedReference` naming the argument."""

    def resolve(value: Any, where: str) -> Any:
        if is_result_ref(value):
            index, path = value[REF_KEY], value.get("path", "")
            if not isinstance(index, int) or not 0 <= index < len(outputs):
                raise UnresolvedReference(where, f"refers to call {index!r}; {len(outputs)} calls have outputs")
            try:
                return resolve_path(outputs[index], path)
            except (LookupError, TypeError, ValueError):
                raise UnresolvedReference(where, f"call {index}'s output has no field {path!r}") from None
        if isinstance(value, list):
            return [resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: resolve(v, f"{where}.{k}") for k, v in value.items()}
        return value

    return {k: resolve(v, f"arguments.{k}") for k, v in arguments.items()}
