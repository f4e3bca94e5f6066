"""ToolBench / StableToolBench importer (THUNLP-MT): `G1_instruction.json`-style query files.

Each query carries its candidate `api_list` (ToolBench API schema with required and optional parameters and
an optional `template_response`) and its gold set `relevant APIs` (unordered `[tool_name, api_name]` pairs,
no arguments). Tools are named as ToolBench names its functions, `{api}_for_{tool}` in lower snake case
(truncated to 64 characters). An API defined differently by two queries keeps its first definition; the
count is in the report's notes (`conflicting_definitions`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from raytool.tools.call import ToolCall
from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import UNKNOWN_TOOL, FieldError, RecordError, expect_type, require
from raytool.tools.files import read_json
from raytool.tools.importers.base import Collector, typed
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


def import_toolbench(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read a ToolBench-format instruction file (tools and tasks come from the same file)."""
    if tools:
        raise ValueError("format toolbench reads its tools from each query's api_list: drop --tools")
    src = Path(src)
    queries = read_json(src)
    if not isinstance(queries, list):
        raise RecordError(str(src), "", "", "expected a JSON list of queries", "wrong_type")
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    tasks = []
    for i, query in enumerate(queries):
        task = collect.run(str(src), f"index {i}", _task, query, catalogue, report)
        if task is not None:
            tasks.append(task)
    return ToolDataset(catalogue, tasks, {"format": "toolbench", "src": str(src)}, report)


def tool_name(tool: str, api: str) -> str:
    """ToolBench's function name for an API of a tool: `{api}_for_{tool}`, lower snake case, <= 64 chars."""
    return f"{_snake(api)}_for_{_snake(tool)}"[:64]


def _task(record: Any, catalogue: dict[str, ToolSpec], report: ImportReport) -> Task:
    api_list = require(record, "api_list", list)
    candidates = {}
    for j, api in enumerate(api_list):
        spec = _tool(api, f"api_list[{j}]", report)
        key = (api["tool_name"], api["api_name"])
        candidates[key] = spec.name
        known = catalogue.get(spec.name)
        if known is None:
            catalogue[spec.name] = spec
        elif known != spec:
            report.note("toolbench", "conflicting_definitions")
    calls = []
    for j, pair in enumerate(require(record, "relevant APIs", list)):
        field = f"relevant APIs[{j}]"
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise FieldError(field, f"expected [tool_name, api_name], got {pair!r}", "wrong_type")
        if tuple(pair) not in candidates:
            raise FieldError(field, f"{pair!r} is not in the query's api_list", UNKNOWN_TOOL)
        calls.append(ToolCall(candidates[tuple(pair)]))
    query_id = require(record, "query_id", (int, str))
    domains = {api.get("category_name", "") for api in api_list}
    return Task(
        id=f"toolbench-{query_id}",
        query=require(record, "query", str),
        calls=tuple(calls),
        tools=tuple(dict.fromkeys(candidates.values())),
        domain=domains.pop() if len(domains) == 1 else "",
        ordered=False,
        source="toolbench",
    )


def _tool(api: Any, field: str, report: ImportReport) -> ToolSpec:
    expect_type(api, dict, field)
    tool = require(api, "tool_name", str, f"{field}.tool_name")
    name = require(api, "api_name", str, f"{field}.api_name")
    properties: dict[str, Any] = {}
    required = []
    for kind in ("required_parameters", "optional_parameters"):
        params = require(api, kind, list, f"{field}.{kind}") if kind in api else []
        for k, p in enumerate(params):
            where = f"{field}.{kind}[{k}]"
            pname = require(p, "name", str, f"{where}.name")
            prop: dict[str, Any] = typed(require(p, "type", str, f"{where}.type"), f"{where}.type", report)
            if p.get("description"):
                prop["description"] = str(p["description"])
            if p.get("default") not in (None, ""):
                prop["default"] = p["default"]
            properties[pname] = prop
            if kind == "required_parameters":
                required.append(pname)
    description = str(api.get("api_description") or "").strip()
    return ToolSpec(
        name=tool_name(tool, name),
        description=f"{tool}: {description}" if description else f"{tool}: {name}",
        parameters={"type": "object", "properties": properties, "required": required},
        returns=_template_schema(api["template_response"]) if "template_response" in api else None,
        domain=str(api.get("category_name", "")),
    )


def _template_schema(template: Any) -> dict[str, Any]:
    """A JSON schema from ToolBench's response template (`{"name": "str", "items": [{..., "_list_length": 5}]}`)."""
    if isinstance(template, dict):
        props = {k: _template_schema(v) for k, v in template.items() if k != "_list_length"}
        return {"type": "object", "properties": props}
    if isinstance(template, list):
        return {"type": "array", "items": _template_schema(template[0]) if template else {}}
    if isinstance(template, str):
        key = template.strip().lower()
        return {"type": {"int": "integer", "float": "number", "bool": "boolean"}.get(key, "string")}
    return {"type": "string"}


def _snake(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", text.lower())).strip("_") or "x"
