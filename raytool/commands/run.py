"""`raytool run`: the proxy agent on one request, with its trace."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from raytool.commands.common import agent_arguments, agent_runtime


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    run = sub.add_parser("run", help="run the proxy agent on one request and print its trace")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--query", help="the request (executable suites: cpn, travel, finance)")
    source.add_argument("--task-id", help="a task of --tasks, by id (its arguments and gold come with it)")
    run.add_argument("--tasks", type=Path, help="dataset dir the --task-id comes from (or whose tools --query uses)")
    run.add_argument("--world-seed", type=int, default=0, help="the suites' world for a --query")
    agent_arguments(run)
    run.add_argument("--json", action="store_true", help="print the result as JSON instead of the trace")
    run.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    import tempfile

    from raytool.agent.agent import ProxyAgent, task_domains
    from raytool.agent.trace import format_trace
    from raytool.envs.suites import SUITE_NAMES, get_suite
    from raytool.planner.domain_router import domain_pools
    from raytool.tools.dataset import ToolDataset

    if args.task_id and not args.tasks:
        raise ValueError("--task-id needs --tasks DIR")
    task = None
    if args.tasks:
        dataset = ToolDataset.load(args.tasks)
        catalogue = dataset.tools
        if args.task_id:
            task = next((t for t in dataset.tasks if t.id == args.task_id), None)
            if task is None:
                raise ValueError(f"{args.tasks}: no task with id {args.task_id!r}")
    else:
        catalogue = {t.name: t.spec for name in SUITE_NAMES for t in get_suite(name).tools.values()}
    pools = task_domains([task], catalogue) if task else domain_pools(list(catalogue.values()), list(SUITE_NAMES))
    config, teacher = agent_runtime(args)
    with tempfile.TemporaryDirectory(prefix="raytool-run-") as work:
        agent = ProxyAgent(config, catalogue, teacher, work, pools)
        try:
            agent.start()
            result = agent.run(args.query or "", world_seed=args.world_seed, task=task)
        finally:
            agent.close()
    if args.json:
        record = {"plan": result.plan.to_dict(), "outcome": result.outcome.record(), "jobs": result.jobs}
        print(json.dumps(record, default=str, indent=2))
    else:
        print(format_trace(result))
    return 0
