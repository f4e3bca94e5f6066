"""`raytool distill synth | rank | instructions`: teacher-made distillation data (sharded, resumable)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from raytool.commands.common import teacher_from_file


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    from raytool.tools.importers import FORMATS

    distill = sub.add_parser("distill", help="teacher-made distillation data").add_subparsers(title="distill commands")
    synth = distill.add_parser("synth", help="teacher tool choices with rationales for every task (sharded, resumable)")
    synth.add_argument("--tasks", required=True, type=Path, help="a dataset directory (`raytool data import` output)")
    synth.add_argument("--out", required=True, type=Path, help="output directory (re-running resumes)")
    synth.add_argument("--teacher", type=Path, help="teacher config YAML (default: the embedded model on vLLM)")
    synth.add_argument("--limit", type=int, help="only the first N tasks")
    synth.add_argument("--shard-size", type=int, default=25)
    synth.add_argument("--num-candidates", type=int, default=8)
    synth.add_argument("--no-arguments", action="store_true",
                       help="no teacher-written call arguments (teacher_calls/)")  # fmt: skip
    synth.set_defaults(run=_distill_synth)
    rank = distill.add_parser("rank", help="pi_LLM labels for sampled decider states")
    rank.add_argument("--tasks", required=True, type=Path, help="a dataset directory")
    rank.add_argument("--out", required=True, type=Path)
    rank.add_argument("--teacher", type=Path)
    rank.add_argument("--states", type=int, default=200)
    rank.add_argument("--top-p", type=int, default=5)
    rank.add_argument("--max-steps", type=int, default=8, help="the decider env's max_steps (shapes the observation)")
    rank.add_argument("--with-ranking", action="store_true", help="also ask for generated rankings")
    rank.add_argument("--shard-size", type=int, default=25)
    rank.set_defaults(run=_distill_rank)

    inst = distill.add_parser(
        "instructions", help="new instructions: verified ones for a suite, or teacher-written tasks for a catalogue"
    )
    target = inst.add_mutually_exclusive_group(required=True)
    target.add_argument("--suite", help="an executable suite (cpn, travel, finance)")
    target.add_argument("--tools", type=Path, help="a catalogue: a dataset dir, or a file with --format")
    inst.add_argument("--format", default="raytool", choices=(*FORMATS, "raytool"),
                      help="format of --tools (openai_tools, mcp, openapi, ...; raytool: a dataset dir)")  # fmt: skip
    inst.add_argument("--level", type=int, default=2)
    inst.add_argument("--num", type=int, default=50)
    inst.add_argument("--multi-share", type=float, default=0.5, help="--tools: share of two-call tasks")
    inst.add_argument("--seed", type=int, default=0)
    inst.add_argument("--out", required=True, type=Path)
    inst.add_argument("--teacher", type=Path)
    inst.add_argument("--segmenter", type=Path, help="--suite: a rewrite is used only when it reads as the gold plan")
    inst.add_argument("--proposer", type=Path, help="with --segmenter: each part ranks its gold tool first")
    inst.set_defaults(run=_distill_instructions)


def _distill_synth(args: argparse.Namespace) -> int:
    from raytool.distill.synth import SynthConfig, summary_table, synthesize
    from raytool.tools.dataset import ToolDataset

    dataset = ToolDataset.load(args.tasks)
    config, teacher = teacher_from_file(args.teacher)
    try:
        synth = SynthConfig(num_candidates=args.num_candidates, shard_size=args.shard_size, limit=args.limit,
                            workers=config.num_actors, arguments=not args.no_arguments)  # fmt: skip
        summary = synthesize(dataset, args.out, teacher, synth)
    finally:
        teacher.close()
    print(summary_table(summary))
    print(f"wrote {args.out}")
    return 0


def _distill_rank(args: argparse.Namespace) -> int:
    from raytool.decider.candidates import candidate_source
    from raytool.distill.rank import RankConfig, rank_states, sample_states
    from raytool.paths import cache_dir
    from raytool.tools.dataset import ToolDataset

    rank = RankConfig(  # the proposer's candidates (when written), as the decider env will see them
        num_states=args.states, top_p=args.top_p, max_steps=args.max_steps, with_ranking=args.with_ranking,
        shard_size=args.shard_size, candidate_source=candidate_source(args.tasks),
    )  # fmt: skip
    states = sample_states(args.tasks, rank, cache_dir() / "features")
    print(f"[distill] sampled {len(states)} decider states from {args.tasks}")
    config, teacher = teacher_from_file(args.teacher)
    try:
        records = rank_states(states, ToolDataset.load(args.tasks).tools, args.out, teacher, rank)
    finally:
        teacher.close()
    print(f"[distill] {len(records)} pi_LLM labels written to {args.out}")
    return 0


def _distill_instructions(args: argparse.Namespace) -> int:
    from raytool.distill.instructions import InstructionConfig, synthesize_instructions
    from raytool.tables import format_table

    if args.proposer and not args.segmenter:  # before the teacher starts
        raise ValueError("--proposer checks each sub-task the --segmenter reads: give both")
    catalogue = None
    if args.tools:
        from raytool.evaluation.proposer import load_eval_data

        catalogue = load_eval_data(args.tools, args.format)
    _, teacher = teacher_from_file(args.teacher)
    try:
        if catalogue is not None:
            from raytool.distill.catalogue_tasks import DATASET, CatalogueTaskConfig, synthesize_catalogue_tasks

            config = CatalogueTaskConfig(num=args.num, multi_share=args.multi_share, seed=args.seed)
            summary = synthesize_catalogue_tasks(catalogue, teacher, args.out, config)
            out = args.out / DATASET
        else:
            from raytool.planner.segmenter import Segmenter

            segmenter = Segmenter.load(args.segmenter) if args.segmenter else None
            proposer = None
            if args.proposer:
                from raytool.proposer.proposer import ToolProposer

                proposer = ToolProposer.load(args.proposer)
            summary = synthesize_instructions(InstructionConfig(args.suite, args.level, args.num, args.seed), teacher,
                                              args.out, segmenter=segmenter, proposer=proposer)  # fmt: skip
            out = args.out
    finally:
        teacher.close()
    print(format_table(["metric", "value"], [(k, json.dumps(v) if isinstance(v, dict) else v)
                                             for k, v in summary.items()]))  # fmt: skip
    print(f"wrote {out}")
    return 0
