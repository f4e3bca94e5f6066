"""`raytool envs build | list | natural`: the executable suites, their verified tasks and the natural-language test
set."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    envs = sub.add_parser("envs", help="executable tool suites and generated tasks").add_subparsers(
        title="envs commands"
    )
    build = envs.add_parser("build", help="build verifiable tasks on the executable suites")
    build.add_argument("--suite", required=True, help="suite name, comma-separated names, or 'all'")
    build.add_argument("--level", type=int, default=1, help="complexity level 1-4")
    build.add_argument("--num-tasks", type=int, default=100)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--out", required=True, type=Path, help="output dataset directory (replaced atomically)")
    build.add_argument(
        "--verify", choices=("inline", "process"), default="inline", help="executor for the replay check"
    )
    build.add_argument("--integration-walks", type=int, default=100, help="random walks for function integration")
    build.add_argument(
        "--phrasing", type=float, default=0.0, help="share of requests in varied natural language, not the template"
    )
    build.set_defaults(run=_envs_build)
    envs.add_parser("list", help="list the suites, their tools per stage, and the levels").set_defaults(run=_envs_list)
    natural = envs.add_parser(
        "natural", help="write the hand-written natural-language test set and its templated twins as dataset dirs"
    )
    natural.add_argument("--out", required=True, type=Path, help="writes OUT/natural and OUT/templated")
    natural.set_defaults(run=_envs_natural)


def _envs_build(args: argparse.Namespace) -> int:
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.tools.stats import stats_table

    suites = SUITE_NAMES if args.suite == "all" else tuple(s.strip() for s in args.suite.split(","))
    config = BuildConfig(
        suites, args.level, args.num_tasks, args.seed, integration_walks=args.integration_walks, phrasing=args.phrasing
    )
    dataset = build_verified(config, args.verify)
    dataset.save(args.out)
    print(stats_table({args.out.name: dataset}))
    print(f"wrote {args.out}")
    return 0


def _envs_list(args: argparse.Namespace) -> int:
    from collections import Counter

    from raytool.envs.levels import LEVELS
    from raytool.envs.suites import SUITE_NAMES, get_suite
    from raytool.tables import format_table

    rows = []
    for name in SUITE_NAMES:
        suite = get_suite(name)
        per_stage = Counter(t.stage for t in suite.tools.values())
        stages = ", ".join(f"{stage} {per_stage[stage]}" for stage in suite.stages)
        rows.append([name, suite.domain, len(suite.tools), stages])
    print(format_table(["suite", "domain", "tools", "tools per stage"], rows))
    level_rows = [
        [
            s.level,
            f"{s.min_calls}-{s.max_calls}",
            ", ".join(sorted(s.param_types)),
            s.max_output_depth,
            s.distractors,
            s.domains,
        ]
        for s in LEVELS.values()
    ]
    print(format_table(["level", "calls", "parameter types", "max depth", "distractors", "domains"], level_rows))
    return 0


def _envs_natural(args: argparse.Namespace) -> int:
    from raytool.envs.natural import write_natural
    from raytool.tools.dataset import ToolDataset
    from raytool.tools.stats import stats_table

    dirs = write_natural(args.out)
    print(stats_table({d.name: ToolDataset.load(d) for d in dirs}))
    print(f"wrote {dirs[0]} and {dirs[1]} (each with plans.jsonl: the gold sub-tasks)")
    return 0
