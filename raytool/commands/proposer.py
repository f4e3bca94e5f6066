"""`raytool proposer train`: the tool proposer, locally or on Ray Train workers."""

from __future__ import annotations

import argparse
from pathlib import Path

from raytool.commands.common import ray_init, skip_bad_argument


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    from raytool.tools.importers import FORMATS

    proposer = sub.add_parser("proposer", help="the tool proposer").add_subparsers(title="proposer commands")
    ptrain = proposer.add_parser("train", help="train a proposer (locally, or on N Ray Train workers)")
    ptrain.add_argument("--data", required=True, type=Path, nargs="+", help="training data: files or dataset dirs")
    ptrain.add_argument("--format", default="raytool", choices=(*FORMATS, "raytool"),
                        help="format of --data ('raytool': directories written by `data import`)")  # fmt: skip
    ptrain.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    ptrain.add_argument("--catalogue", type=Path, help="a dataset whose tools are the negatives' catalogue")
    ptrain.add_argument("--synth", type=Path, nargs="*", default=[], help="`distill synth` output dirs (rationales)")
    ptrain.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    ptrain.add_argument("--config", type=Path, help="YAML of ProposerConfig fields (optionally under `proposer:`)")
    ptrain.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override config fields")
    ptrain.add_argument("--workers", type=int, default=0, help="Ray Train workers (0: the local loop)")
    skip_bad_argument(ptrain)
    ptrain.set_defaults(run=_proposer_train)


def _proposer_config(path: Path | None, overrides: list[str]):
    """ProposerConfig from a YAML file (keys optionally under `proposer:`) and KEY=VALUE overrides."""
    from raytool.proposer.config import ProposerConfig

    return ProposerConfig.from_file(path, overrides)


def _proposer_train(args: argparse.Namespace) -> int:
    from raytool.evaluation.proposer import load_eval_data
    from raytool.proposer.data import load_records
    from raytool.proposer.train import prepare_data, train_proposer
    from raytool.tables import format_table

    config = _proposer_config(args.config, args.set)
    datasets = [load_eval_data(path, args.format, args.tools, skip_bad=args.skip_bad) for path in args.data]
    catalogue = load_eval_data(args.catalogue, "raytool").tools if args.catalogue else {}
    for dataset in datasets:
        catalogue = {**catalogue, **dataset.tools}
    tasks = [t for d in datasets for t in d.tasks]
    data = prepare_data(tasks, catalogue, config, load_records(args.synth))
    print(f"[proposer] {len(tasks):,} tasks over {len(catalogue):,} tools; config: {config.to_dict()}")
    if args.workers:
        from raytool.proposer.ray_train import train_distributed

        ray_init()
        result = train_distributed(data, config, args.out, num_workers=args.workers,
                                   cpus_per_worker=max(config.threads / args.workers, 0.5))  # fmt: skip
    else:
        result = train_proposer(data, config, args.out)
    shown = {k: v for k, v in result.metrics.items() if isinstance(v, float)}
    print(format_table(["metric", "value"], list(shown.items())))
    print(f"wrote {args.out}")
    return 0
