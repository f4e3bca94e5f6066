"""Macro-actions for the decider env: skills (tool sequences mined by `raytool.skills`) offered like tools.

A macro is a named sequence of at least two tools. `ToolDeciderEnv` (with `skills=<file>`) offers it among the
candidates right before its first tool; choosing it is one decision that runs its tools in order through the
binder, whose kind rule passes each output on to the next call: that is the skill's data flow.

The skills file is written by `raytool skills mine` (`raytool.skills.library.save_skills`), one JSON object:

    {"version": 1,
     "skills": [{"name": "skill:quote_flight_fare>book_flight", "tools": ["quote_flight_fare", "book_flight"],
                 "dataflow": [{"from": 0, "path": "fare_id", "to": 1, "param": "fare_id"}],
                 "support": 7, "doc": "Runs quote_flight_fare then book_flight, ..."}],
     "source": {...}}

The env reads only `name`, `tools` and `doc`; `read_skill_records` checks those (errors name the file, the
skill's index and the field) and hands the records on, so `raytool.skills` checks its own fields on top. Tool
names unknown to a dataset are not an error: the env offers a macro only when all its tools are in the task's pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytool.tools.errors import MISSING_FIELD, WRONG_TYPE, RecordError
from raytool.tools.files import read_json

SKILLS_VERSION = 1


@dataclass(frozen=True)
class Macro:
    """A macro-action.

    name: unique among the macros and distinct from every tool name (`skill:a>b` by convention).
    tools: the tools it runs, in order; at least two.
    doc: what it does, in natural language (generated from the tools' docs by `raytool.skills`).
    """

    name: str
    tools: tuple[str, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a macro needs a name")
        if len(self.tools) < 2:
            raise ValueError(f"macro {self.name!r} needs at least 2 tools, got {list(self.tools)}")


def read_skill_records(path: str | Path) -> list[dict[str, Any]]:
    """The `skills` records of a skills file, with `name`, `tools` and `doc` checked (module docstring)."""
    path = Path(path)
    document = read_json(path)
    if not isinstance(document, dict):
        raise RecordError(str(path), "", "", f"expected a JSON object, got {type(document).__name__}", WRONG_TYPE)
    if document.get("version") != SKILLS_VERSION:
        raise RecordError(str(path), "", "version", f"expected {SKILLS_VERSION}, got {document.get('version')!r}")
    records = document.get("skills")
    if not isinstance(records, list):
        raise RecordError(str(path), "", "skills", "expected a list of skills", MISSING_FIELD)
    names: set[str] = set()
    for i, record in enumerate(records):
        _check_record(path, i, record, names)
    return records


def load_macros(path: str | Path) -> list[Macro]:
    """The macros of a skills file, in file order; `ValueError` naming file, skill index and field if malformed."""
    return [Macro(record["name"], tuple(record["tools"]), record.get("doc", "")) for record in read_skill_records(path)]


def _check_record(path: Path, i: int, record: Any, names: set[str]) -> None:
    def fail(field: str, message: str, reason: str = WRONG_TYPE) -> RecordError:
        return RecordError(str(path), "", f"skills[{i}]{field}", message, reason)

    if not isinstance(record, dict):
        raise fail("", f"expected a JSON object, got {type(record).__name__}")
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise fail(".name", f"expected a non-empty string, got {name!r}")
    if name in names:
        raise fail(".name", f"duplicate skill name {name!r}")
    names.add(name)
    tools = record.get("tools")
    if not isinstance(tools, list):
        raise fail(".tools", f"expected a list of tool names, got {type(tools).__name__}")
    if len(tools) < 2:
        raise fail(".tools", "needs at least 2 tool names")
    for j, tool in enumerate(tools):
        if not isinstance(tool, str) or not tool:
            raise fail(f".tools[{j}]", f"expected a non-empty tool name, got {tool!r}")
    if not isinstance(record.get("doc", ""), str):
        raise fail(".doc", f"expected a string, got {type(record['doc']).__name__}")
