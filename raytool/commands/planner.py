"""`raytool planner train-segmenter`: the planner's distilled segmenter."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from raytool.commands.common import torch_threads


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    planner = sub.add_parser("planner", help="the request planner").add_subparsers(title="planner commands")
    strain = planner.add_parser(
        "train-segmenter", help="train the distilled segmenter on builder requests (template and varied phrasing)"
    )
    strain.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    strain.add_argument("--tasks-per-level", type=int, help="builder tasks per level (default: the config's)")
    strain.add_argument("--epochs", type=int, help="training epochs (default: the config's)")
    strain.add_argument("--heads", type=int, help="heads trained from different seeds and averaged (default: 3)")
    strain.set_defaults(run=_segmenter_train)


def _segmenter_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from raytool.planner.segmenter_train import SegmenterTrainConfig, train_segmenter

    torch_threads()
    config = SegmenterTrainConfig()
    if args.tasks_per_level:
        config = replace(config, tasks_per_level=args.tasks_per_level)
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    if args.heads:
        config = replace(config, heads=args.heads)
    meta = train_segmenter(args.out, config)
    print(json.dumps(meta["metrics"], indent=2))
    print(f"wrote {args.out}")
    return 0
