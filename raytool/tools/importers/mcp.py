"""MCP importer: a Model Context Protocol server's `tools/list` answer as a catalogue (no tasks).

    raytool data import --format mcp --src tools_list.json --out data/my_server

Accepted shapes (JSON or YAML): the JSON-RPC response (`{"jsonrpc": "2.0", "id": 1, "result": {"tools": [...]}}`),
its `result` (`{"tools": [...], "nextCursor": ...}`), a list of such pages, or a bare list of tools. Each MCP tool
(`name`, `title`, `description`, `inputSchema`, `outputSchema`, `annotations`) becomes a `ToolSpec`: parameters from
`inputSchema`, the result schema from `outputSchema`; a tool without a description gets its title or name
(`quirks.missing_description`). A JSON-RPC error answer stops the import with the server's message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import WRONG_TYPE, RecordError, expect_type, require
from raytool.tools.files import read_document
from raytool.tools.importers.base import QUIRKS, Collector, add_tool
from raytool.tools.importers.schema import normalise_parameters, normalise_property
from raytool.tools.spec import ToolSpec


def import_mcp(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read an MCP `tools/list` answer (module docstring) as a catalogue."""
    if tools:
        raise ValueError("format mcp reads its tools from --src itself: drop --tools")
    src = Path(src)
    pages = _pages(read_document(src), str(src))
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    for p, page in enumerate(pages):
        for i, entry in enumerate(page):
            where = f"tools[{i}]" if len(pages) == 1 else f"page {p}, tools[{i}]"
            add_tool(catalogue, collect.run(str(src), where, mcp_tool, entry, report), collect, str(src), where)
    return ToolDataset(catalogue, [], {"format": "mcp", "src": str(src)}, report)


def mcp_tool(entry: Any, report: ImportReport, domain: str = "") -> ToolSpec:
    """A `ToolSpec` from one MCP tool definition."""
    expect_type(entry, dict, "")
    name = require(entry, "name", str)
    description = entry.get("description") or entry.get("title")
    if not entry.get("description"):
        report.note(QUIRKS, "missing_description")
    description = description or name
    expect_type(description, str, "description")
    parameters = normalise_parameters(entry.get("inputSchema"), "inputSchema", report)
    output = entry.get("outputSchema")
    returns = normalise_property(output, "outputSchema", report) if output is not None else None
    return ToolSpec(name=name, description=description, parameters=parameters, returns=returns, domain=domain)


def _pages(doc: Any, path: str) -> list[list]:
    """The tool lists of a `tools/list` answer, a list of answers, or a bare list of tools."""
    if isinstance(doc, list) and all(isinstance(d, dict) and ("result" in d or "tools" in d) for d in doc) and doc:
        return [page for d in doc for page in _pages(d, path)]
    if isinstance(doc, list):
        return [doc]
    if isinstance(doc, dict):
        if "error" in doc:
            error = doc["error"] if isinstance(doc["error"], dict) else {"message": doc["error"]}
            raise RecordError(path, "", "error", f"the server answered an error: {error.get('message', error)}")
        result = doc.get("result", doc)
        if isinstance(result, dict) and isinstance(result.get("tools"), list):
            return [result["tools"]]
    raise RecordError(path, "", "result.tools", "not an MCP tools/list answer (no `tools` list)", WRONG_TYPE)
