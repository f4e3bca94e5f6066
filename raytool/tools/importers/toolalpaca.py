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
from raytool.tools.importers.base import Collector
from raytool.tools.importers.openapi import openapi_tools
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
        specs = collect.run(str(src), f"index {i}", _api_tools, api, report)
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


def _api_tools(api: Any, report: ImportReport) -> list[ToolSpec]:
    """The API's tools from its OpenAPI `Documentation` (`raytool.tools.importers.openapi`); strict within one API."""
    require(api, "Name", str)
    doc_text = require(api, "Documentation", str)
    try:
        doc = json.loads(doc_text)
    except json.JSONDecodeError as err:
        raise FieldError("Documentation", f"not valid OpenAPI JSON ({err.msg})", "truncated_json") from None
    expect_type(doc, dict, "Documentation")
    category = str(api.get("Category", ""))
    try:
        return openapi_tools(doc, report, Collector(report, False), "", category, "", "Documentation.")
    except RecordError as err:  # strict within the API: the caller names the file and the API's index
        raise FieldError(err.field, err.message, err.reason) from None


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
