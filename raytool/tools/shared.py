"""The real benchmark files in the shared data folder, by name, and a one-call import of all of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from raytool.tools.dataset import ToolDataset
from raytool.tools.importers import import_dataset


@dataclass(frozen=True)
class SharedSource:
    """One benchmark file: its format and its path relative to the shared data folder."""

    format: str
    src: str


SHARED_SOURCES = {
    "seal_tools_dev": SharedSource("seal_tools", "seal_tools/dev.jsonl"),
    "seal_tools_test": SharedSource("seal_tools", "seal_tools/test_in_domain.jsonl"),
    "metatool_single": SharedSource("metatool", "metatool/all_clean_data.dev.csv"),
    "metatool_multi": SharedSource("metatool", "metatool/multi_tool_query_golden.dev.json"),
    "toolalpaca": SharedSource("toolalpaca", "toolalpaca/eval_simulated.json"),
    "toolbench_g1": SharedSource("toolbench", "stabletoolbench/G1_instruction.json"),
}


def import_shared(
    data_dir: str | Path,
    out_root: str | Path | None = None,
    names: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, ToolDataset]:
    """Import each shared source (all by default); save each under `out_root/NAME` when given."""
    out: dict[str, ToolDataset] = {}
    for name in names or list(SHARED_SOURCES):
        source = SHARED_SOURCES[name]
        start = time.perf_counter()
        dataset = import_dataset(source.format, Path(data_dir) / source.src)
        if out_root is not None:
            dataset.save(Path(out_root) / name)
        elapsed = time.perf_counter() - start
        rate = len(dataset.tasks) / elapsed if elapsed > 0 else float("inf")
        counts = f"{len(dataset.tools):,} tools, {len(dataset.tasks):,} tasks"
        log(f"[data] {name}: {counts} in {elapsed:.2f}s ({rate:,.0f} tasks/s)")
        out[name] = dataset
    return out
