"""OpenAI `tools` importer: a function-calling tool list as a catalogue (no tasks).

    raytool data import --format openai_tools --src tools.json --out data/my_tools

Accepted shapes (JSON or YAML): a list of `{"type": "function", "function": {name, description, parameters}}`
entries or of bare `{name, description, parameters}` functions; a chat-completions request body (`{"tools": [...]}`)
or the legacy `{"functions": [...]}`. Built-in tools that are not functions (`{"type": "web_search"}`) cannot be
called through a schema: each is skipped and counted (`quirks.non_function_tool_skipped`); a function without a
description gets its name (`quirks.missing_description`). Parameter schemas are normalised and checked as every
catalogue's are (`raytool.tools.importers.schema`); `strict` is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import WRONG_TYPE, RecordError, expect_type, require
from raytool.tools.files import read_document
from raytool.tools.importers.base import QUIRKS, Collector, add_tool
from raytool.tools.importers.schema import normalise_parameters
from raytool.tools.spec import ToolSpec


def import_openai_tools(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read an OpenAI tools list (module docstring) as a catalogue."""
    if tools:
        raise ValueError("format openai_tools reads its tools from --src itself: drop --tools")
    src = Path(src)
    doc = read_document(src)
    entries, key = _entries(doc)
    if entries is None:
        raise RecordError(str(src), "", "tools", "expected a list of tools, or an object with `tools`", WRONG_TYPE)
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]" if key else f"index {i}"
        add_tool(catalogue, collect.run(str(src), where, function_tool, entry, report), collect, str(src), where)
    return ToolDataset(catalogue, [], {"format": "openai_tools", "src": str(src)}, report)


def function_tool(entry: Any, report: ImportReport, domain: str = "") -> ToolSpec | None:
    """A `ToolSpec` from one OpenAI tools entry; None (counted) for a built-in tool that is not a function."""
    expect_type(entry, dict, "")
    prefix = ""
    if "type" in entry and entry["type"] != "function":
        report.note(QUIRKS, "non_function_tool_skipped")
        return None
    if isinstance(entry.get("function"), dict):
        entry, prefix = entry["function"], "function."
    name = require(entry, "name", str, f"{prefix}name")
    description = entry.get("description")
    if not description:
        report.note(QUIRKS, "missing_description")
        description = name
    expect_type(description, str, f"{prefix}description")
    parameters = normalise_parameters(entry.get("parameters"), f"{prefix}parameters", report)
    return ToolSpec(name=name, description=description, parameters=parameters, domain=domain)


def _entries(doc: Any) -> tuple[list | None, str]:
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, dict):
        for key in ("tools", "functions"):
            if isinstance(doc.get(key), list):
                return doc[key], key
    return None, ""
