"""`raytool train`: the main job on the embedded default, or (`--tools`) the catalogue job."""

from __future__ import annotations

import argparse
from pathlib import Path

from raytool.commands.common import ray_init, teacher_from_file, torch_threads
from raytool.pipeline import load_train_config
from raytool.pipeline.settings import NO_FILE


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    from raytool.tools.importers import FORMATS

    train = sub.add_parser("train", help="run the main job on the embedded default")
    train.add_argument("--data-dir", type=Path, help="shared benchmark data (default: shared/data beside the repo)")
    train.add_argument("--out", type=Path, help="where artifacts go (default: $RAYTOOL_CACHE/run)")
    train.add_argument("--teacher", type=Path, help="teacher config YAML (default: the embedded model on vLLM)")
    train.add_argument("--config", type=Path,
                       help="YAML with optional sections, one per stage (raytool.pipeline: suites, synth, proposer, "
                            "evaluation, filler, decider_stages, fp, decider, agent, segmenter; catalogue: --tools), "
                            "all checked before any stage runs; defaults: the embedded default")  # fmt: skip
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the decider from its last checkpoint (other stages skip finished artifacts)",
    )
    train.add_argument(
        "--tools",
        type=Path,
        help="your own catalogue instead of the benchmarks: the catalogue job (raytool.train_catalogue) "
        "writes tasks, proposer, decider and a serve.yaml for it; settings: `catalogue:` section",
    )
    train.add_argument("--format", default="raytool", choices=(*FORMATS, "raytool"),
                       help="format of --tools (openai_tools, mcp, openapi, ...; raytool: a dataset dir)")  # fmt: skip
    train.add_argument("--examples", type=Path, help="with --tools: your own example tasks (JSONL of Task records)")
    train.set_defaults(run=_train)


def _train(args: argparse.Namespace) -> int:
    from raytool.paths import cache_dir, shared_data_dir
    from raytool.pipeline import MainJob, run_main_job

    if args.tools:
        return _train_catalogue(args)
    settings = load_train_config(args.config)  # every section checked before any stage runs
    job = MainJob(out=args.out or cache_dir() / "run", data_dir=args.data_dir or shared_data_dir(), settings=settings,
                  make_teacher=lambda: teacher_from_file(args.teacher)[1], resume=args.resume,
                  where=str(args.config or NO_FILE))  # fmt: skip
    run_main_job(job)
    return 0


def _train_catalogue(args: argparse.Namespace) -> int:
    """`raytool train --tools`: the catalogue job (`raytool.train_catalogue`) into --out (default:
    $RAYTOOL_CACHE/catalogues/<name>)."""
    from raytool.paths import cache_dir
    from raytool.train_catalogue import CatalogueJobConfig, domain_name, run_catalogue_job

    settings = load_train_config(args.config)
    section = dict(settings.get("catalogue") or {})
    if args.examples:
        section["examples"] = str(args.examples)
    config = CatalogueJobConfig.from_dict(section)
    out = args.out or cache_dir() / "catalogues" / (config.name or domain_name(args.tools))
    torch_threads()
    ray_init(log_to_driver=False)
    run_catalogue_job(
        args.tools, args.format, out, lambda: teacher_from_file(args.teacher)[1], config, cache_dir() / "run"
    )
    return 0
