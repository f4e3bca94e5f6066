"""Stage 1: the shared benchmarks (Seal-Tools, MetaTool, ToolAlpaca, StableToolBench) imported from their original
formats into dataset directories."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.tools.dataset import ToolDataset


def import_benchmarks(out: Path, data_dir: Path) -> dict[str, ToolDataset]:
    """Every shared benchmark into `out/datasets/<name>` (always re-imported: it takes about a second)."""
    from raytool.tools.shared import import_shared
    from raytool.tools.stats import stats_table

    say(1, f"import the shared benchmarks from {data_dir} into {out / 'datasets'}")
    datasets = import_shared(data_dir, out / "datasets")
    print(stats_table(datasets))
    return datasets
