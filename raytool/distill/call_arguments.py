"""Teacher-written call arguments for `distill synth`, kept only where the request states them.

For every tool the teacher chose for a task, the teacher writes the call's arguments (`call_arguments_messages`,
the answer prefilled with `ARGUMENTS_PREFIX`); `stated_arguments` keeps a value only when

    the parameter is one of the tool's            else dropped: "unknown parameter"
    it is a scalar or a list of scalars           else "not a value" (objects are never read from text)
    its text occurs in the request                else "not stated" (the teacher made it up: the filler must
                                                       never learn to invent a value)
    it normalises to the parameter's JSON type    else the normaliser's reason ("enum", "integer", ...)

`teacher_call_dataset` turns the records into a dataset directory (`teacher_calls/` in the synth output) that
`raytool filler train --data` reads like gold calls, marked `info["arguments"] = "partial"`: a parameter the teacher
did not give (or whose value was dropped) is unknown, not "absent", so it gives the filler no example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raytool.filler.normalise import normalise
from raytool.teacher.parsing import extract_json
from raytool.tools.call import ToolCall
from raytool.tools.dataset import ToolDataset
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

ARGUMENTS_PREFIX = '{"'
PARTIAL = "partial"


def parse_arguments(continuation: str) -> dict[str, Any] | None:
    """The JSON object the teacher wrote after the prefilled `ARGUMENTS_PREFIX` (repaired if cut off), or None."""
    found = extract_json(ARGUMENTS_PREFIX + continuation)
    return found if isinstance(found, dict) else None


def stated_arguments(raw: dict[str, Any], spec: ToolSpec, query: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(kept, dropped): the teacher's values that pass the rules of the module docstring, and why the rest did not."""
    kept, dropped = {}, {}
    text = " ".join(query.lower().split())
    for name, value in raw.items():
        schema = spec.properties.get(name)
        if schema is None:
            dropped[str(name)] = "unknown parameter"
            continue
        schema = schema if isinstance(schema, dict) else {}
        items = value if isinstance(value, list) else [value]
        if not items or any(isinstance(v, (dict, list)) or v is None for v in items):
            dropped[name] = "not a value"
            continue
        said = [" ".join(str(v).lower().split()) for v in items]
        if any(not s or s not in text for s in said):
            dropped[name] = "not stated"
            continue
        parsed, reason = normalise(", ".join(str(v) for v in items), schema, name)
        if reason is not None:
            dropped[name] = reason
            continue
        kept[name] = parsed
    return kept, dropped


def teacher_call_dataset(records: Sequence[dict[str, Any]], tools: dict[str, ToolSpec], teacher: str) -> ToolDataset:
    """The synth records' teacher-written calls (kept values only) as a dataset over the tools they use."""
    tasks, used = [], {}
    for record in records:
        calls = tuple(ToolCall(c["name"], c["arguments"]) for c in record.get("teacher_calls") or () if c["arguments"])
        if calls:
            tasks.append(Task(record["task_id"], record["query"], calls, source="teacher"))
            used.update({c.name: tools[c.name] for c in calls})
    info = {"format": "teacher_calls", "arguments": PARTIAL, "teacher": teacher}
    return ToolDataset(used, tasks, info)
