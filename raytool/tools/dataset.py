"""`ToolDataset`: a tool catalogue and its tasks, stored as a directory of JSONL files.

Layout of a dataset directory (what `raytool data import --out DIR` writes):
    tools.jsonl     one `ToolSpec.to_dict()` per line
    tasks.jsonl     one `Task.to_dict()` per line (empty for a catalogue: `num_tasks` 0 in the manifest)
    manifest.json   format, sources, counts and the import report (skips by reason, notes)

Loading validates every line and names the file, line and field of the first bad one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raytool.tools.errors import UNKNOWN_TOOL, FieldError, RecordError
from raytool.tools.files import atomic_dir, iter_jsonl, read_json, write_jsonl_lines
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

TOOLS_FILE = "tools.jsonl"
TASKS_FILE = "tasks.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass
class ImportReport:
    """What an import did besides the records it kept.

    skipped: records dropped by `--skip-bad`, counted by reason (`truncated_json`, `unknown_tool`, ...).
    errors: the first few skipped records' messages, for the user to look at.
    notes: named counters of documented lenient conversions (e.g. MetaTool's name-resolution rules).
    """

    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, dict[str, int]] = field(default_factory=dict)

    def skip(self, err: RecordError, keep: int = 20) -> None:
        self.skipped[err.reason] += 1
        if len(self.errors) < keep:
            self.errors.append(str(err))

    def note(self, group: str, key: str, n: int = 1) -> None:
        self.notes.setdefault(group, {}).setdefault(key, 0)
        self.notes[group][key] += n

    def to_dict(self) -> dict[str, Any]:
        return {"skipped": dict(self.skipped), "errors": self.errors, "notes": self.notes}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> ImportReport:
        return cls(Counter(record.get("skipped", {})), list(record.get("errors", [])), dict(record.get("notes", {})))


@dataclass
class ToolDataset:
    """A catalogue (`tools`, by name) and the tasks over it; `info` says where it came from."""

    tools: dict[str, ToolSpec]
    tasks: list[Task]
    info: dict[str, Any] = field(default_factory=dict)
    report: ImportReport = field(default_factory=ImportReport)

    def check(self) -> None:
        """Raise `FieldError` for duplicate task ids or a call or candidate naming a tool not in the catalogue."""
        seen: set[str] = set()
        for i, task in enumerate(self.tasks):
            if task.id in seen:
                raise FieldError(f"tasks[{i}].id", f"duplicate task id {task.id!r}")
            seen.add(task.id)
            check_task_tools(task, self.tools)

    def save(self, out_dir: str | Path) -> Path:
        """Write the dataset directory atomically (see the module docstring); returns its path."""
        manifest = dict(self.info)
        manifest.update(num_tools=len(self.tools), num_tasks=len(self.tasks), report=self.report.to_dict())
        with atomic_dir(out_dir) as tmp:
            with (tmp / TOOLS_FILE).open("w", encoding="utf-8") as fh:
                write_jsonl_lines(fh, (t.to_dict() for t in self.tools.values()))
            with (tmp / TASKS_FILE).open("w", encoding="utf-8") as fh:
                write_jsonl_lines(fh, (t.to_dict() for t in self.tasks))
            (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        return Path(out_dir)

    @classmethod
    def load(cls, data_dir: str | Path) -> ToolDataset:
        """Read and validate a dataset directory written by `save`."""
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise FileNotFoundError(f"{data_dir}: not a dataset directory (run `raytool data import` first)")
        manifest = read_json(data_dir / MANIFEST_FILE) if (data_dir / MANIFEST_FILE).exists() else {}
        tools: dict[str, ToolSpec] = {}
        for lineno, record in _records(data_dir / TOOLS_FILE):
            spec = _parse(ToolSpec.from_dict, record, data_dir / TOOLS_FILE, lineno)
            if spec.name in tools:
                raise RecordError(str(data_dir / TOOLS_FILE), f"line {lineno}", "name", f"duplicate tool {spec.name!r}")
            tools[spec.name] = spec
        tasks: list[Task] = []
        ids: set[str] = set()
        catalogue_only = manifest.get("num_tasks") == 0  # a catalogue: tools, no tasks (an empty tasks file)
        for lineno, record in () if catalogue_only else _records(data_dir / TASKS_FILE):
            task = _parse(Task.from_dict, record, data_dir / TASKS_FILE, lineno)
            if task.id in ids:
                raise RecordError(str(data_dir / TASKS_FILE), f"line {lineno}", "id", f"duplicate task id {task.id!r}")
            _parse(lambda t: check_task_tools(t, tools), task, data_dir / TASKS_FILE, lineno)
            ids.add(task.id)
            tasks.append(task)
        report = ImportReport.from_dict(manifest.pop("report", {}))
        for key in ("num_tools", "num_tasks"):
            manifest.pop(key, None)
        return cls(tools, tasks, manifest, report)


def check_task_tools(task: Task, catalogue: dict[str, ToolSpec]) -> None:
    """Raise `FieldError` if a candidate or a gold call of `task` names a tool missing from `catalogue`."""
    for i, name in enumerate(task.tools):
        if name not in catalogue:
            raise FieldError(f"tools[{i}]", f"unknown tool {name!r}", UNKNOWN_TOOL)
    for i, call in enumerate(task.calls):
        if call.name not in catalogue:
            raise FieldError(f"calls[{i}].name", f"unknown tool {call.name!r}", UNKNOWN_TOOL)


def _records(path: Path):
    for lineno, record in iter_jsonl(path):
        if isinstance(record, RecordError):
            raise record
        yield lineno, record


def _parse(build, record: Any, path: Path, lineno: int):
    try:
        return build(record)
    except FieldError as err:
        raise RecordError.from_field(str(path), f"line {lineno}", err) from None
