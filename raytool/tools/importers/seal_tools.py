"""Seal-Tools importer (fairyshine/Seal-Tools): `tool.jsonl` plus a task file (`dev.jsonl`, `test_in_domain.jsonl`).

Tasks use the whole catalogue as their pool. A call lists the ids of the results it produces
(`"responses": ["API_call_1", "API_call_2"]`, one per field of the tool's response schema, in order); a later
parameter whose value is such an id becomes a result reference to that call and field.

Quirks, converted and counted in the report's notes (`quirks`): a result id that no *earlier* call produces (a
forward or dangling reference) stays the literal string (`dangling_reference_as_literal`); a parameter type that is
no JSON type becomes a string (`unknown_type_as_string`, the original kept in the schema).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from raytool.tools.call import ToolCall, result_ref
from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import UNKNOWN_TOOL, FieldError, RecordError, expect_type, require
from raytool.tools.files import iter_jsonl
from raytool.tools.importers.base import QUIRKS, Collector, json_type, typed
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

_RESULT_ID = re.compile(r"^API_call_(\d+)$")


def import_seal_tools(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read a Seal-Tools task file; `tools` defaults to `tool.jsonl` beside it."""
    src = Path(src)
    tools_path = Path(tools) if tools else src.parent / "tool.jsonl"
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    for lineno, record in iter_jsonl(tools_path):
        if isinstance(record, RecordError):
            collect.fail(record)
            continue
        spec = collect.run(str(tools_path), f"line {lineno}", _tool, record, report)
        if spec is not None:
            if spec.name in catalogue:
                collect.fail(
                    RecordError(str(tools_path), f"line {lineno}", "api_name", f"duplicate tool {spec.name!r}")
                )
                continue
            catalogue[spec.name] = spec
    tasks = []
    for lineno, record in iter_jsonl(src):
        if isinstance(record, RecordError):
            collect.fail(record)
            continue
        task = collect.run(str(src), f"line {lineno}", _task, record, catalogue, report)
        if task is not None:
            tasks.append(task)
    info = {"format": "seal_tools", "src": str(src), "tools_src": str(tools_path)}
    return ToolDataset(catalogue, tasks, info, report)


def _tool(record: Any, report: ImportReport) -> ToolSpec:
    name = require(record, "api_name", str)
    params = require(record, "parameters", dict)
    properties = {}
    for pname, schema in params.items():
        expect_type(schema, dict, f"parameters.{pname}")
        prop = typed(require(schema, "type", str, f"parameters.{pname}.type"), f"parameters.{pname}.type", report)
        if "description" in schema:
            prop["description"] = require(schema, "description", str, f"parameters.{pname}.description")
        properties[pname] = prop
    required = record.get("required", [])
    expect_type(required, list, "required")
    for i, pname in enumerate(required):
        if pname not in properties:
            raise FieldError(f"required[{i}]", f"{pname!r} is not a parameter")
    responses = record.get("responses", {})
    expect_type(responses, dict, "responses")
    returns = {"type": "object", "properties": {}}
    for rname, schema in responses.items():
        expect_type(schema, dict, f"responses.{rname}")
        rtype = json_type(schema.get("type", "str"), f"responses.{rname}.type", report)
        returns["properties"][rname] = {"type": rtype, "description": str(schema.get("description", ""))}
    return ToolSpec(
        name=name,
        description=require(record, "api_description", str),
        parameters={"type": "object", "properties": properties, "required": list(required)},
        returns=returns,
        domain=str(record.get("field", "")),
    )


def _task(record: Any, catalogue: dict[str, ToolSpec], report: ImportReport) -> Task:
    task_id = require(record, "id", str)
    calling = require(record, "calling", list)
    producers: dict[str, tuple[int, str]] = {}  # result id -> (call index, response field)
    calls = []
    for i, raw in enumerate(calling):
        expect_type(raw, dict, f"calling[{i}]")
        name = require(raw, "api", str, f"calling[{i}].api")
        if name not in catalogue:
            raise FieldError(f"calling[{i}].api", f"unknown tool {name!r} (not in the tool file)", UNKNOWN_TOOL)
        params = require(raw, "parameters", dict, f"calling[{i}].parameters")
        arguments = {k: _resolve(v, producers, report) for k, v in params.items()}
        calls.append(ToolCall.with_inferred_deps(name, arguments))
        fields = list((catalogue[name].returns or {}).get("properties", {}))
        for j, result_id in enumerate(raw.get("responses", [])):
            expect_type(result_id, str, f"calling[{i}].responses[{j}]")
            producers[result_id] = (i, fields[j] if j < len(fields) else "")
    parts = task_id.split("-")
    first = catalogue[calls[0].name].domain if calls else ""
    return Task(
        id=task_id,
        query=require(record, "query", str),
        calls=tuple(calls),
        domain=first.split("/")[0],
        difficulty=parts[-2] if len(parts) >= 3 else "",
        source="seal_tools",
    )


def _resolve(value: Any, producers: dict[str, tuple[int, str]], report: ImportReport) -> Any:
    """Replace result ids (`"API_call_3"`) of earlier calls by result references, recursively; an id no earlier
    call produced stays the literal string (a counted quirk)."""
    if isinstance(value, str) and _RESULT_ID.match(value):
        if value not in producers:
            report.note(QUIRKS, "dangling_reference_as_literal")
            return value
        call, path = producers[value]
        return result_ref(call, path)
    if isinstance(value, list):
        return [_resolve(v, producers, report) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, producers, report) for k, v in value.items()}
    return value
