"""`raytool data import | stats`: benchmark files in their original formats, and dataset tables."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    from raytool.tools.importers import FORMATS

    data = sub.add_parser("data", help="import and inspect tool-use datasets").add_subparsers(title="data commands")
    imp = data.add_parser("import", help="import a benchmark file from its original format")
    imp.add_argument("--format", required=True, choices=FORMATS)
    imp.add_argument("--src", required=True, type=Path, help="the benchmark file (tasks)")
    imp.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    imp.add_argument("--out", required=True, type=Path, help="output dataset directory (replaced atomically)")
    imp.add_argument("--skip-bad", action="store_true", help="skip malformed records and report counts by reason")
    imp.set_defaults(run=_data_import)
    stats = data.add_parser("stats", help="print a table of tools, tasks, calls per task and domains")
    stats.add_argument("dirs", nargs="+", type=Path, help="dataset directories written by `data import`")
    stats.set_defaults(run=_data_stats)


def _data_import(args: argparse.Namespace) -> int:
    from raytool.tools.importers import import_dataset
    from raytool.tools.stats import stats_table

    dataset = import_dataset(args.format, args.src, tools=args.tools, skip_bad=args.skip_bad)
    dataset.save(args.out)
    print(stats_table({args.out.name: dataset}))
    if dataset.report.errors:
        print("first skipped records:", *dataset.report.errors[:5], sep="\n  ")
    print(f"wrote {args.out}")
    return 0


def _data_stats(args: argparse.Namespace) -> int:
    from raytool.tools.dataset import ToolDataset
    from raytool.tools.stats import stats_table

    print(stats_table({d.name: ToolDataset.load(d) for d in args.dirs}))
    return 0
