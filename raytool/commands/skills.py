"""`raytool skills mine`: reusable skills (macro-actions) from successful trajectories."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    skills = sub.add_parser("skills", help="skill composition").add_subparsers(title="skills commands")
    mine = skills.add_parser("mine", help="mine reusable skills (macro-actions) from successful trajectories")
    mine.add_argument("--trajectories", required=True, nargs="+", type=Path, help="trajectories.jsonl files")
    mine.add_argument("--tools", required=True, type=Path, help="dataset dir whose tools the trajectories call")
    mine.add_argument("--out", required=True, type=Path, help="skills file to write (JSON)")
    mine.add_argument("--min-support", type=int, default=3, help="successful trajectories a skill must appear in")
    mine.add_argument("--max-len", type=int, default=3, help="tools per skill at most")
    mine.set_defaults(run=_skills_mine)


def _skills_mine(args: argparse.Namespace) -> int:
    from raytool.skills.mining import mine_command

    summary = mine_command(args.trajectories, args.tools, args.out, args.min_support, args.max_len)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0
