"""ToolAlpaca importer (tangqiaoyu/ToolAlpaca): `eval_simulated.json`, a list of APIs with OpenAPI docs.

Each API gives tools (one per `operationId` of its OpenAPI `Documentation`) and instructions, the i-th of
which has the golden action sequence `Golden_Answers[i]`. A task's candidates are its API's functions.
The golden answers follow ToolAlpaca's own conventions, converted as follows (counts in the report's notes):

  getDetails           ToolAlpaca's "ask the user for details" step, not an API: dropped (`ask_user_steps`)
  [Optional]name       a call of `name` marked optional
  ${x from name}       in Action_Input: a result reference to field x of the latest earlier call of `name`
  ${anything else}     kept as the literal string (a value the user must supply)
  unparseable input    Action_Input that is not JSON even after the above: arguments unknown (None)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from raytool.tools.call import ToolCall, result_ref
from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import UNKNOWN_TOOL, FieldError, RecordError, expect_type, require
from raytool.tools.files import read_json
from raytool.tools.importers.base import Collector, json_type
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

ASK_USER = "getDetails"
_OPTIONAL = "[Optional]"
_PLACEHOLDER = re.compile(r'"?\$\{([^}]*?)(?:\}|(?=,\s*"))"?')
_FROM = re.compile(r"^\s*(.+?)\s+from\s+([A-Za-z0-9_]+)\s*$")


def import_toolalpaca(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read a ToolAlpaca evaluation file (tools and tasks come from the same file)."""
    if tools:
        raise ValueError("format toolalpaca reads its tools from --src itself: drop --tools")
    src = Path(src)
    apis = read_json(src)
    if not isinstance(apis, list):
        raise RecordError(str(src), "", "", "expected a JSON list of APIs", "wrong_type")
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    tasks: list[Task] = []
    for i, api in enumerate(apis):
        specs = collect.run(str(src), f"index {i}", _api_tools, api)
        if specs is None:
            continue
        names = tuple(s.name for s in specs)
        for spec in specs:
            if spec.name in catalogue:
                collect.fail(
                    RecordError(str(src), f"index {i}", "Documentation", f"duplicate operationId {spec.name!r}")
                )
            catalogue[spec.name] = spec
        instructions = collect.run(str(src), f"index {i}", require, api, "Instructions", list)
        answers = collect.run(str(src), f"index {i}", require, api, "Golden_Answers", list)
        if instructions is None or answers is None:
            continue
        if len(answers) != len(instructions):
            msg = f"{len(answers)} golden answers for {len(instructions)} instructions"
            collect.fail(RecordError(str(src), f"index {i}", "Golden_Answers", msg))
            continue
        for j, (query, steps) in enumerate(zip(instructions, answers, strict=True)):
            where = f"index {i}, instruction {j}"
            task = collect.run(str(src), where, _task, api, j, query, steps, names, report)
            if task is not None:
                tasks.append(task)
    return ToolDataset(catalogue, tasks, {"format": "toolalpaca", "src": str(src)}, report)


def _api_tools(api: Any) -> list[ToolSpec]:
    require(api, "Name", str)
    category = api.get("Category", "")
    doc_text = require(api, "Documentation", str)
    try:
        doc = json.loads(doc_text)
    except json.JSONDecodeError as err:
        raise FieldError("Documentation", f"not valid OpenAPI JSON ({err.msg})", "truncated_json") from None
    paths = require(doc, "paths", dict, "Documentation.paths")
    specs = []
    for route, methods in paths.items():
        expect_type(methods, dict, f"Documentation.paths.{route}")
        for method, op in methods.items():
            field = f"Documentation.paths.{route}.{method}"
            expect_type(op, dict, field)
            name = require(op, "operationId", str, f"{field}.operationId")
            params = _parameters(op, field)
            returns = _response_schema(op)
            desc = str(op.get("description") or op.get("summary") or name)
            specs.append(ToolSpec(name=name, description=desc, parameters=params, returns=returns, domain=category))
    return specs


def _parameters(op: dict, field: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for k, p in enumerate(op.get("parameters", [])):
        expect_type(p, dict, f"{field}.parameters[{k}]")
        pname = require(p, "name", str, f"{field}.parameters[{k}].name")
        schema = dict(p.get("schema", {}))
        schema["type"] = json_type(schema.get("type", "string"), f"{field}.parameters[{k}].schema.type")
        if p.get("description"):
            schema["description"] = p["description"]
        properties[pname] = schema
        if p.get("required"):
            required.append(pname)
    body = op.get("requestBody", {}).get("content", {})
    for content in body.values():
        schema = content.get("schema", {})
        for pname, prop in schema.get("properties", {}).items():
            properties[pname] = _clean_schema(prop)
        required += [r for r in schema.get("required", []) if r in properties and r not in required]
    return {"type": "object", "properties": properties, "required": required}


def _response_schema(op: dict) -> dict[str, Any] | None:
    for code in ("200", "201", "default"):
        content = op.get("responses", {}).get(code, {}).get("content", {})
        for media in content.values():
            if isinstance(media, dict) and "schema" in media:
                return _clean_schema(media["schema"])
    return None


def _clean_schema(schema: Any) -> dict[str, Any]:
    """A JSON-schema dict whose `type` is a JSON-schema type (OpenAPI allows a few others)."""
    if not isinstance(schema, dict):
        return {"type": "string"}
    out = dict(schema)
    if "type" in out:
        out["type"] = json_type(out["type"], "schema.type")
    return out


def _task(api: dict, j: int, query: Any, steps: Any, names: tuple[str, ...], report: ImportReport) -> Task:
    api_name = api["Name"]
    expect_type(query, str, "Instructions")
    expect_type(steps, list, "Golden_Answers")
    calls: list[ToolCall] = []
    for k, step in enumerate(steps):
        field = f"Golden_Answers[{k}]"
        action = require(step, "Action", str, f"{field}.Action").strip()
        if action == ASK_USER:
            report.note("toolalpaca_conventions", "ask_user_steps")
            continue
        optional = action.startswith(_OPTIONAL)
        name = action.removeprefix(_OPTIONAL).strip()
        if name not in names:
            raise FieldError(
                f"{field}.Action", f"unknown tool {name!r} (API {api_name!r} has {list(names)})", UNKNOWN_TOOL
            )
        if optional:
            report.note("toolalpaca_conventions", "optional_steps")
        raw = require(step, "Action_Input", str, f"{field}.Action_Input")
        arguments = _arguments(raw, calls, report)
        calls.append(ToolCall.with_inferred_deps(name, arguments, optional))
    slug = re.sub(r"[^a-z0-9]+", "-", api_name.lower()).strip("-") or "api"
    return Task(
        id=f"toolalpaca-{slug}-{j}",
        query=query,
        calls=tuple(calls),
        tools=names,
        domain=str(api.get("Category", "")),
        source="toolalpaca",
    )


def _arguments(raw: str, earlier: list[ToolCall], report: ImportReport) -> dict[str, Any] | None:
    """Parse an Action_Input; `${x from tool}` placeholders become result references (module docstring)."""
    refs: dict[str, Any] = {}

    def swap(match: re.Match) -> str:
        token = f"__raytool_placeholder_{len(refs)}__"
        inner = match.group(1).strip()
        source = _FROM.match(inner)
        index = _latest(earlier, source.group(2)) if source else None
        if index is not None:
            refs[token] = result_ref(index, source.group(1).strip())
            report.note("toolalpaca_conventions", "result_references")
        else:
            refs[token] = "${" + inner + "}"
            report.note("toolalpaca_conventions", "user_placeholders")
        return json.dumps(token)

    try:
        parsed = json.loads(_PLACEHOLDER.sub(swap, raw) if raw.strip() else "{}")
    except json.JSONDecodeError:
        report.note("toolalpaca_conventions", "unparsed_arguments")
        return None
    if not isinstance(parsed, dict):
        report.note("toolalpaca_conventions", "unparsed_arguments")
        return None
    return _restore(parsed, refs)


def _restore(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in refs:
        return refs[value]
    if isinstance(value, list):
        return [_restore(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v, refs) for k, v in value.items()}
    return value


def _latest(calls: list[ToolCall], name: str) -> int | None:
    for index in range(len(calls) - 1, -1, -1):
        if calls[index].name == name:
            return index
    return None
