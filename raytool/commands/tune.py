"""`raytool tune`: the Ray Tune sweep of the decider's guidance weights."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from raytool.commands.common import ray_init


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    tune = sub.add_parser("tune", help="Ray Tune sweep of the decider's guidance weights (lambda1, lambda2, sigma)")
    tune.add_argument("--config", type=Path, required=True, help="sweep file (tune_configs/*.yaml; see docs/tune.md)")
    again = tune.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="restore an interrupted sweep and finish it")
    again.add_argument("--fresh", action="store_true", help="delete the sweep's earlier results first")
    tune.add_argument("--name", help="experiment name (default: the file's `name:`)")
    tune.add_argument("--storage", help="experiments folder (default: the file's `storage:`, else $RAYTOOL_CACHE/tune)")
    tune.add_argument("--samples", type=int, help="override search.num_samples")
    tune.set_defaults(run=_tune)


def _tune(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.tune.space import load_sweep
    from raytool.tune.sweep import SweepInterrupted, run_sweep

    sweep = load_sweep(args.config)
    search = {**sweep.search, **({"num_samples": args.samples} if args.samples else {})}
    sweep = dataclasses.replace(sweep, name=args.name or sweep.name, storage=args.storage or sweep.storage,
                                search=search)  # fmt: skip
    try:
        run_sweep(sweep, resume=args.resume, fresh=args.fresh, connect=lambda: ray_init(log_to_driver=False))
    except SweepInterrupted as err:
        print(f"[tune] interrupted: {err}", file=sys.stderr)
        return 130
    return 0
