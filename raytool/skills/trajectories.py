"""Agent trajectories, as the evaluation harness writes them: the input of skill mining.

One JSON object per line (JSONL):

    {"task_id": "travel-L2-s2-0", "success": true, "source": "decider",
     "calls": [{"name": "quote_flight_fare", "arguments": {"flight_id": "BR133"}, "status": "valid"},
               {"name": "book_flight", "arguments": {"fare_id": {"$ref": 0, "path": "fare_id"}}, "status": "valid"}]}

`status` is the reward's classification (`valid`, `invalid`, `malformed`, `repeated`); an argument value
`{"$ref": i, "path": "a.b[0].c"}` (anywhere inside the arguments) is field `path` of call i's output, i an
earlier call of the same trajectory (`raytool.tools.call`). `source` (the policy that acted) defaults to "".
Errors name the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytool.envs.reward import INVALID, MALFORMED, REPEATED, VALID
from raytool.tools.call import REF_KEY, iter_refs, map_refs, result_ref
from raytool.tools.errors import FieldError, RecordError, expect_type, require
from raytool.tools.files import iter_jsonl

STATUSES = (VALID, INVALID, MALFORMED, REPEATED)


@dataclass(frozen=True)
class TrajectoryCall:
    """One call an agent made: tool, arguments (possibly holding result references) and its status."""

    name: str
    arguments: dict[str, Any]
    status: str


@dataclass(frozen=True)
class Trajectory:
    """One episode of one task: whether it succeeded, which policy acted, and its calls in order."""

    task_id: str
    success: bool
    source: str
    calls: tuple[TrajectoryCall, ...]

    @classmethod
    def from_dict(cls, record: Any) -> Trajectory:
        """Parse and check one record (module docstring); `FieldError` names the bad field."""
        expect_type(record, dict, "")
        calls = require(record, "calls", list)
        source = record.get("source", "")
        expect_type(source, str, "source")
        return cls(
            task_id=require(record, "task_id", str),
            success=require(record, "success", bool),
            source=source,
            calls=tuple(_call(c, i) for i, c in enumerate(calls)),
        )


def load_trajectories(paths: Iterable[str | Path]) -> list[Trajectory]:
    """Every trajectory of the JSONL files, in order; `RecordError` (a ValueError) names file:line and field."""
    out = []
    for path in paths:
        for lineno, record in iter_jsonl(path):
            if isinstance(record, RecordError):
                raise record
            try:
                out.append(Trajectory.from_dict(record))
            except FieldError as err:
                raise RecordError.from_field(str(path), f"line {lineno}", err) from None
    return out


def valid_calls(trajectory: Trajectory) -> list[TrajectoryCall]:
    """The valid calls only, in order, their references renumbered; a reference to a dropped call becomes null
    (its output never existed)."""
    index: dict[int, int] = {}
    kept: list[TrajectoryCall] = []
    for i, call in enumerate(trajectory.calls):
        if call.status == VALID:
            index[i] = len(kept)
            kept.append(TrajectoryCall(call.name, _renumber(call.arguments, index), call.status))
    return kept


def _renumber(value: Any, index: dict[int, int]) -> Any:
    def move(ref: dict[str, Any]) -> Any:
        new = index.get(ref[REF_KEY])
        return None if new is None else result_ref(new, ref.get("path", ""))

    return map_refs(value, move)


def _call(record: Any, i: int) -> TrajectoryCall:
    where = f"calls[{i}]"
    try:
        expect_type(record, dict, "")
        name = require(record, "name", str)
        if not name:
            raise FieldError("name", "empty tool name")
        arguments = require(record, "arguments", dict)
        status = require(record, "status", str)
        if status not in STATUSES:
            raise FieldError("status", f"expected one of {', '.join(STATUSES)}, got {status!r}")
        for name_, value in arguments.items():
            for ref in iter_refs(value):
                _check_ref(ref, i, f"arguments.{name_}")
    except FieldError as err:
        raise err.nested(where) from None
    return TrajectoryCall(name, arguments, status)


def _check_ref(ref: dict[str, Any], i: int, field: str) -> None:
    target = ref[REF_KEY]
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < i:
        raise FieldError(f"{field}.{REF_KEY}", f"expected the index of one of the {i} earlier calls, got {target!r}")
    if not isinstance(ref.get("path", ""), str):
        raise FieldError(f"{field}.path", f"expected a string path, got {ref.get('path')!r}")
