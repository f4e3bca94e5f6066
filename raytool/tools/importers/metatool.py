"""MetaTool / ToolE importer (HowieHwong/MetaTool): single-tool CSV rows and multi-tool golden queries.

`--src` is `all_clean_data.dev.csv` (`Query,Tool` rows, one gold tool each) or `multi_tool_query_golden.dev.json`
(`[{"query", "tool": [a, b]}]`, an unordered gold set). `--tools` is the folder holding `big_tool_des.json`,
`plugin_info.json` and `plugin_des.json` (default: the source's folder). The catalogue is every tool named
in `plugin_des.json` and `big_tool_des.json`; each name resolves to a description by the first rule that
matches, and the counts per rule are kept in the report (`raytool data stats` prints them):

  merged_tool          a key of big_tool_des.json (tools MetaTool merged from several plugins)
  plugin_model_name    exactly a plugin's `name_for_model` in plugin_info.json
  plugin_human_name    exactly a plugin's `name_for_human`
  normalized_name      equal to a plugin's model or human name after lower-casing and dropping non-alphanumerics
  plugin_des           a key of plugin_des.json only (its short description)
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from raytool.tools.call import ToolCall
from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import MISSING_FIELD, UNKNOWN_TOOL, FieldError, RecordError, expect_type, require
from raytool.tools.files import read_json, read_text
from raytool.tools.importers.base import Collector
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


def import_metatool(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read MetaTool single-tool CSV or multi-tool JSON against the tool description files."""
    src = Path(src)
    tools_dir = Path(tools) if tools else src.parent
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue = _catalogue(tools_dir, report)
    if src.suffix.lower() == ".csv":
        tasks = _single(src, catalogue, collect)
    else:
        tasks = _multi(src, catalogue, collect)
    info = {"format": "metatool", "src": str(src), "tools_src": str(tools_dir)}
    return ToolDataset(catalogue, tasks, info, report)


def _catalogue(tools_dir: Path, report: ImportReport) -> dict[str, ToolSpec]:
    merged = _string_map(tools_dir / "big_tool_des.json")
    plugin_des = _string_map(tools_dir / "plugin_des.json")
    plugins = read_json(tools_dir / "plugin_info.json")
    if not isinstance(plugins, list):
        raise RecordError(str(tools_dir / "plugin_info.json"), "", "", "expected a JSON list of plugins", "wrong_type")
    for i, plugin in enumerate(plugins):
        for key in ("name_for_model", "name_for_human", "description_for_model"):
            try:
                require(plugin, key, str)
            except FieldError as err:
                raise RecordError.from_field(str(tools_dir / "plugin_info.json"), f"index {i}", err) from None
    catalogue = {}
    for name in list(merged) + [n for n in plugin_des if n not in merged]:
        rule, description = _resolve(name, merged, plugins, plugin_des)
        report.note("name_resolution", rule)
        catalogue[name] = ToolSpec(name=name, description=description)
    return catalogue


def _resolve(name: str, merged: dict, plugins: list[dict], plugin_des: dict) -> tuple[str, str]:
    """(rule, description) for a tool name, by the first matching rule of the module docstring."""
    if name in merged:
        return "merged_tool", merged[name]
    for rule, key in (("plugin_model_name", "name_for_model"), ("plugin_human_name", "name_for_human")):
        for plugin in plugins:
            if plugin[key] == name:
                return rule, plugin["description_for_model"]
    for plugin in plugins:
        if _norm(name) in (_norm(plugin["name_for_model"]), _norm(plugin["name_for_human"])):
            return "normalized_name", plugin["description_for_model"]
    return "plugin_des", plugin_des[name]


def _single(src: Path, catalogue: dict[str, ToolSpec], collect: Collector) -> list[Task]:
    reader = csv.reader(io.StringIO(read_text(src)))
    header = next(reader)
    if [h.strip() for h in header[:2]] != ["Query", "Tool"]:
        raise RecordError(str(src), "line 1", "header", f"expected columns Query,Tool, got {header!r}", MISSING_FIELD)
    tasks = []
    for row in reader:
        lineno = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        task = collect.run(str(src), f"line {lineno}", _single_task, row, lineno, catalogue)
        if task is not None:
            tasks.append(task)
    return tasks


def _single_task(row: list[str], lineno: int, catalogue: dict[str, ToolSpec]) -> Task:
    if len(row) < 2:
        raise FieldError("Tool", "missing (the row has fewer than 2 columns)", MISSING_FIELD)
    query, tool = row[0].strip().strip('"').strip(), row[1].strip()
    name = _known(tool, catalogue, "Tool")
    return Task(
        id=f"metatool-single-{lineno}", query=query, calls=(ToolCall(name),), difficulty="single", source="metatool"
    )


def _multi(src: Path, catalogue: dict[str, ToolSpec], collect: Collector) -> list[Task]:
    records = read_json(src)
    if not isinstance(records, list):
        raise RecordError(str(src), "", "", "expected a JSON list of {query, tool} objects", "wrong_type")
    tasks = []
    for i, record in enumerate(records):
        task = collect.run(str(src), f"index {i}", _multi_task, record, i, catalogue)
        if task is not None:
            tasks.append(task)
    return tasks


def _multi_task(record: Any, index: int, catalogue: dict[str, ToolSpec]) -> Task:
    query = require(record, "query", str)
    names = require(record, "tool", list)
    calls = tuple(ToolCall(_known(n, catalogue, f"tool[{j}]")) for j, n in enumerate(names))
    return Task(
        id=f"metatool-multi-{index}", query=query, calls=calls, difficulty="multi", ordered=False, source="metatool"
    )


def _known(name: Any, catalogue: dict[str, ToolSpec], field: str) -> str:
    expect_type(name, str, field)
    clean = name.strip()
    if clean not in catalogue:
        raise FieldError(field, f"unknown tool {name!r} (not in big_tool_des.json or plugin_des.json)", UNKNOWN_TOOL)
    return clean


def _string_map(path: Path) -> dict[str, str]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise RecordError(str(path), "", "", "expected a JSON object of name -> description", "wrong_type")
    for key, value in data.items():
        if not isinstance(value, str):
            raise RecordError(
                str(path),
                f"key {key!r}",
                key,
                f"expected a string description, got {type(value).__name__}",
                "wrong_type",
            )
    return data


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
