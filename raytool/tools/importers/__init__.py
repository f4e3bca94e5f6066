"""Importers from the benchmarks' original formats, and users' tool catalogues, into `ToolDataset`.

from raytool.tools.importers import import_dataset
ds = import_dataset("seal_tools", "../shared/data/seal_tools/dev.jsonl")
ds.save("out/seal_dev")
cat = import_dataset("openapi", "petstore.yaml")   # a catalogue: tools, no tasks

Benchmarks (tools and tasks): seal_tools, metatool, toolalpaca, toolbench. Catalogues (tools only, `CATALOGUES`):
openai_tools (an OpenAI `tools` list), mcp (an MCP server's `tools/list` answer), openapi (an OpenAPI 3.x or
Swagger 2 document). Values an importer cannot represent exactly are converted and counted in the report's notes
(`quirks`); only records that cannot be understood stop an import (or are skipped and counted with `skip_bad`).
"""

from __future__ import annotations

from pathlib import Path

from raytool.tools.dataset import ToolDataset
from raytool.tools.importers.mcp import import_mcp
from raytool.tools.importers.metatool import import_metatool
from raytool.tools.importers.openai_tools import import_openai_tools
from raytool.tools.importers.openapi import import_openapi
from raytool.tools.importers.seal_tools import import_seal_tools
from raytool.tools.importers.toolalpaca import import_toolalpaca
from raytool.tools.importers.toolbench import import_toolbench

IMPORTERS = {
    "seal_tools": import_seal_tools,
    "metatool": import_metatool,
    "toolalpaca": import_toolalpaca,
    "toolbench": import_toolbench,
    "openai_tools": import_openai_tools,
    "mcp": import_mcp,
    "openapi": import_openapi,
}
FORMATS = tuple(IMPORTERS)
CATALOGUES = ("openai_tools", "mcp", "openapi")  # formats with tools and no tasks


def import_dataset(fmt: str, src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Import `src` in format `fmt` (one of `FORMATS`); strict unless `skip_bad`. Checks the result."""
    if fmt not in IMPORTERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    dataset = IMPORTERS[fmt](src, tools=tools, skip_bad=skip_bad)
    dataset.check()
    if fmt in CATALOGUES:
        if not dataset.tools:
            raise ValueError(f"{src}: no tool could be imported (skipped: {dict(dataset.report.skipped)})")
        return dataset
    if not dataset.tasks:
        raise ValueError(f"{src}: no task could be imported (skipped: {dict(dataset.report.skipped)})")
    return dataset
