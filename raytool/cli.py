"""The `raytool` command line.

The parser is built from the command groups of `raytool.commands` (one module per group: its parser and handlers).

raytool data import --format seal_tools --src ../shared/data/seal_tools/dev.jsonl --out out/seal_dev
raytool data stats out/seal_dev
raytool decider fp --rank out/rank --out out/fp   # F_P on `raytool distill rank` labels
raytool tune --config tune_configs/decider_guidance.yaml   # Ray Tune sweep over lambda1 / lambda2 / sigma
raytool train            # the main job on the embedded default
"""

from __future__ import annotations

import argparse
import sys

from raytool.commands import (
    data,
    decider,
    distill,
    envs,
    evaluate,
    filler,
    planner,
    proposer,
    run,
    serve,
    skills,
    train,
    tune,
)
from raytool.config import ConfigError
from raytool.tools.errors import RecordError

# in `raytool --help` order
GROUPS = (data, envs, distill, proposer, decider, filler, planner, evaluate, run, skills, serve, tune, train)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (RecordError, ConfigError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="raytool", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(title="commands")
    for group in GROUPS:
        group.register(sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())
