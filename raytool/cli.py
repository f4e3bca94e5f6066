"""The `raytool` command line.

raytool data import --format seal_tools --src ../shared/data/seal_tools/dev.jsonl --out out/seal_dev
raytool data stats out/seal_dev
raytool decider fp --rank out/rank --out out/fp   # F_P on `raytool distill rank` labels
raytool tune --config tune_configs/decider_guidance.yaml   # Ray Tune sweep over lambda1 / lambda2 / sigma
raytool train            # the main job on the embedded default (grows with every stage of the pipeline)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from raytool.pipeline import STAGES, load_train_config
from raytool.tools.errors import RecordError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (RecordError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from raytool.tools.importers import FORMATS

    parser = argparse.ArgumentParser(prog="raytool", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(title="commands")

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
    inst.set_defaults(run=_distill_instructions)

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
    _skip_bad_argument(ptrain)
    ptrain.set_defaults(run=_proposer_train)

    decider_cmds = sub.add_parser("decider", help="the tool decider").add_subparsers(title="decider commands")
    fp = decider_cmds.add_parser("fp", help="train F_P, the policy reconstruction model, on `distill rank` labels")
    fp.add_argument("--rank", required=True, type=Path, nargs="+", help="`distill rank` output directories")
    fp.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    fp.add_argument("--epochs", type=int, help="training epochs (default: PolicyTrainConfig's)")
    fp.add_argument("--seed", type=int, default=0, help="weight init, minibatch order and the task split")
    fp.set_defaults(run=_decider_fp)
    dtrain = decider_cmds.add_parser("train", help="train the RLlib decider on a task set (resumable)")
    dtrain.add_argument("--tasks", required=True, type=Path, help="dataset dir (its candidates.jsonl, if present, "
                        "is the candidate source; else BM25)")  # fmt: skip
    dtrain.add_argument("--fp", type=Path, help="F_P checkpoint (pi_LLM); without it guidance compares to uniform")
    dtrain.add_argument("--out", required=True, type=Path, help="run directory (checkpoint, history, decider.json)")
    dtrain.add_argument("--config", type=Path, help="YAML of DeciderRunConfig fields (optionally under `decider:`)")
    dtrain.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="DeciderConfig.training fields, e.g. lambda1=0.1 sigma=0.3")  # fmt: skip
    dtrain.add_argument("--iterations", type=int, help="override the run's iterations")
    dtrain.add_argument("--top-p", type=int, default=5)
    dtrain.add_argument("--max-steps", type=int, default=8)
    dtrain.add_argument("--resume", action="store_true", help="continue from the run directory's checkpoint")
    dtrain.set_defaults(run=_decider_train)

    filler = sub.add_parser("filler", help="the argument filler").add_subparsers(title="filler commands")
    ftrain = filler.add_parser("train", help="train the argument filler on the gold calls of dataset directories")
    ftrain.add_argument("--data", required=True, type=Path, nargs="+", help="dataset dirs with gold arguments")
    ftrain.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    ftrain.add_argument("--epochs", type=int, help="training epochs (default: FillerTrainConfig's)")
    ftrain.add_argument("--encoder", choices=["minilm", "hashing"], default="minilm")
    ftrain.add_argument("--seed", type=int, default=0)
    ftrain.add_argument("--reader-epochs", type=int, help="span reader fine-tuning epochs, 0 = none (default: 4)")
    ftrain.set_defaults(run=_filler_train)

    planner = sub.add_parser("planner", help="the request planner").add_subparsers(title="planner commands")
    strain = planner.add_parser(
        "train-segmenter", help="train the distilled segmenter on builder requests (template and varied phrasing)"
    )
    strain.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    strain.add_argument("--tasks-per-level", type=int, help="builder tasks per level (default: the config's)")
    strain.add_argument("--epochs", type=int, help="training epochs (default: the config's)")
    strain.set_defaults(run=_segmenter_train)

    evaluate = sub.add_parser("eval", help="evaluate trained components").add_subparsers(title="eval commands")
    deval = evaluate.add_parser("decider", help="a trained decider vs teacher-only / proposer-greedy / oracle")
    deval.add_argument("--run-dir", required=True, type=Path, help="decider run directory (`decider train --out`)")
    deval.add_argument("--tasks", required=True, type=Path, help="held-out dataset dir")
    deval.add_argument(
        "--train-tasks", type=Path, help="tasks to fit proposer-greedy's threshold on (default: --tasks)"
    )
    deval.add_argument("--fp", type=Path, help="F_P checkpoint for the teacher-only row")
    deval.set_defaults(run=_eval_decider)
    peval = evaluate.add_parser("proposer", help="Recall@k / Complete@k of a proposer and the baselines")
    peval.add_argument("--checkpoint", required=True, type=Path, help="a proposer checkpoint directory")
    peval.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir with --format raytool)")
    peval.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    peval.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    peval.add_argument("--k", default="1,5,10", help="comma-separated cut-offs")
    peval.add_argument("--limit", type=int, help="only the first N tasks")
    peval.add_argument("--baselines", default="bm25,minilm_zero_shot,bm25_segmented",
                       help="comma-separated baselines to run beside the proposer ('' for none)")  # fmt: skip
    peval.add_argument("--lexical-weight", type=float, help="override the checkpoint's fitted BM25 fusion weight")
    peval.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    _skip_bad_argument(peval)
    peval.set_defaults(run=_eval_proposer)
    aeval = evaluate.add_parser("agent", help="the proxy agent vs single-LLM ReAct / CoT / DFS, same teacher and tools")
    aeval.add_argument("--method", default="proxy,react,cot,dfs", help="comma-separated: proxy, react, cot, dfs")
    aeval.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir with --format raytool)")
    aeval.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    aeval.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    aeval.add_argument("--out", required=True, type=Path, help="output dir: <method>/metrics.json, summary.md, plots/")
    _agent_arguments(aeval)
    aeval.add_argument("--limit", type=int, help="N tasks drawn with --seed (default: all)")
    aeval.add_argument("--seed", type=int, default=0, help="which tasks --limit draws")
    aeval.add_argument("--k", default="1,3,5", help="comma-separated Recall@k / Complete@k cut-offs")
    aeval.add_argument("--max-steps", type=int, default=8, help="calls per task for the baselines")
    _skip_bad_argument(aeval)
    aeval.set_defaults(run=_eval_agent)
    ceval = evaluate.add_parser(
        "calls", help="request -> complete calls, Seal-Tools' official metrics, methods side by side"
    )
    ceval.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir with --format raytool)")
    ceval.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    ceval.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    ceval.add_argument("--candidates", choices=["pool", "given"], default="given",
                       help="pool: the whole catalogue; given: the benchmark's own candidates per query")  # fmt: skip
    ceval.add_argument("--given", type=Path, help="Seal-Tools for_finetune/<split>.json (default: found beside --data)")
    ceval.add_argument("--method", default="proposer+filler,oracle-tools", help="comma-separated methods")
    ceval.add_argument("--proposer", type=Path, help="proposer checkpoint (default: the main job's)")
    ceval.add_argument("--filler", type=Path, help="filler checkpoint (default: the main job's)")
    ceval.add_argument("--theta", type=float, default=0.5, help="call every tool with P(needed) >= theta")
    ceval.add_argument("--fit-theta", type=Path, metavar="DEV_DATA",
                       help="fit theta for the best Tool F1 on a dev file of the same format (its given candidates "
                            "beside it, as for --data); never the test file")  # fmt: skip
    ceval.add_argument("--teacher", type=Path, help="teacher config YAML for --method teacher (default: embedded)")
    ceval.add_argument("--irrelevant", type=Path, nargs="*", default=None, metavar="DATA:FORMAT",
                       help="other benchmarks' queries (e.g. metatool.csv:metatool) + built-in chit-chat: the share "
                            "answered with no call; no values: chit-chat only")  # fmt: skip
    ceval.add_argument("--irrelevant-limit", type=int, default=200, help="queries taken from each --irrelevant file")
    ceval.add_argument("--limit", type=int, help="first N tasks (default: all)")
    ceval.add_argument("--out", required=True, type=Path, help="output dir: summary.md, summary.json, predictions")
    _skip_bad_argument(ceval)
    ceval.set_defaults(run=_eval_calls)
    ablate = evaluate.add_parser("ablation", help="the proxy agent with one part taken out at a time")
    ablate.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir, --format raytool)")
    ablate.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    ablate.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    ablate.add_argument("--out", required=True, type=Path, help="output dir (as `eval agent`), deciders/ retrained")
    _agent_arguments(ablate)
    ablate.add_argument("--variants", default="proxy,no-skills,no-planner,no-js,no-tau,rationale-loss",
                        help="comma-separated ablations (see raytool.evaluation.ablation)")  # fmt: skip
    ablate.add_argument("--subtasks", type=Path, help="training sub-tasks (default: CHECKPOINT/agent/subtasks)")
    ablate.add_argument("--fp", type=Path, help="F_P for retrained deciders (default: CHECKPOINT/fp)")
    ablate.add_argument("--rationale-proposer", type=Path, help="a proposer trained with the rationale loss")
    ablate.add_argument("--unskilled-decider", type=Path, help="the decider trained without skills (no-skills)")
    ablate.add_argument("--limit", type=int, help="N tasks drawn with --seed (default: all)")
    ablate.add_argument("--seed", type=int, default=0, help="which tasks --limit draws")
    _skip_bad_argument(ablate)
    ablate.set_defaults(run=_eval_ablation)

    run = sub.add_parser("run", help="run the proxy agent on one request and print its trace")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--query", help="the request (executable suites: cpn, travel, finance)")
    source.add_argument("--task-id", help="a task of --tasks, by id (its arguments and gold come with it)")
    run.add_argument("--tasks", type=Path, help="dataset dir the --task-id comes from (or whose tools --query uses)")
    run.add_argument("--world-seed", type=int, default=0, help="the suites' world for a --query")
    _agent_arguments(run)
    run.add_argument("--json", action="store_true", help="print the result as JSON instead of the trace")
    run.set_defaults(run=_run)

    skills = sub.add_parser("skills", help="skill composition").add_subparsers(title="skills commands")
    mine = skills.add_parser("mine", help="mine reusable skills (macro-actions) from successful trajectories")
    mine.add_argument("--trajectories", required=True, nargs="+", type=Path, help="trajectories.jsonl files")
    mine.add_argument("--tools", required=True, type=Path, help="dataset dir whose tools the trajectories call")
    mine.add_argument("--out", required=True, type=Path, help="skills file to write (JSON)")
    mine.add_argument("--min-support", type=int, default=3, help="successful trajectories a skill must appear in")
    mine.add_argument("--max-len", type=int, default=3, help="tools per skill at most")
    mine.set_defaults(run=_skills_mine)

    serve = sub.add_parser("serve", help="deploy the proxies behind the router with Ray Serve (a serve/*.yaml file)")
    serve.add_argument("--config", type=Path, required=True, help="Serve config (serve/*.yaml)")
    serve.add_argument(
        "--detach",
        action="store_true",
        help="return once deployed (it runs on in the RAY_ADDRESS cluster); default: until Ctrl+C",
    )
    serve.set_defaults(run=_serve)

    tune = sub.add_parser("tune", help="Ray Tune sweep of the decider's guidance weights (lambda1, lambda2, sigma)")
    tune.add_argument("--config", type=Path, required=True, help="sweep file (tune_configs/*.yaml; see docs/tune.md)")
    again = tune.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="restore an interrupted sweep and finish it")
    again.add_argument("--fresh", action="store_true", help="delete the sweep's earlier results first")
    tune.add_argument("--name", help="experiment name (default: the file's `name:`)")
    tune.add_argument("--storage", help="experiments folder (default: the file's `storage:`, else $RAYTOOL_CACHE/tune)")
    tune.add_argument("--samples", type=int, help="override search.num_samples")
    tune.set_defaults(run=_tune)

    train = sub.add_parser("train", help="run the main job on the embedded default")
    train.add_argument("--data-dir", type=Path, help="shared benchmark data (default: shared/data beside the repo)")
    train.add_argument("--out", type=Path, help="where artifacts go (default: $RAYTOOL_CACHE/run)")
    train.add_argument("--teacher", type=Path, help="teacher config YAML (default: the embedded model on vLLM)")
    train.add_argument("--config", type=Path,
                       help="YAML with optional sections `proposer:` (ProposerConfig fields), `evaluation:` "
                            "(`limit`: test tasks, `baselines`: list), `decider_stages:` (DeciderStages fields), "
                            "`fp:` (PolicyTrainConfig fields), `decider:` (DeciderRunConfig fields); "
                            "defaults: the embedded default")  # fmt: skip
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
    return parser


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


def _segmenter_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from raytool.planner.segmenter_train import SegmenterTrainConfig, train_segmenter

    torch_threads()
    config = SegmenterTrainConfig()
    if args.tasks_per_level:
        config = replace(config, tasks_per_level=args.tasks_per_level)
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    meta = train_segmenter(args.out, config)
    print(json.dumps(meta["metrics"], indent=2))
    print(f"wrote {args.out}")
    return 0


def _envs_natural(args: argparse.Namespace) -> int:
    from raytool.envs.natural import write_natural
    from raytool.tools.dataset import ToolDataset
    from raytool.tools.stats import stats_table

    dirs = write_natural(args.out)
    print(stats_table({d.name: ToolDataset.load(d) for d in dirs}))
    print(f"wrote {dirs[0]} and {dirs[1]} (each with plans.jsonl: the gold sub-tasks)")
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


def _teacher(path: Path | None):
    """The teacher from a YAML file (keys of `TeacherConfig`, optionally under `teacher:`), Ray started if needed."""
    from raytool.teacher.backend import TeacherConfig, make_teacher

    config = TeacherConfig.from_file(path)
    if config.backend == "vllm":
        _ray_init(log_to_driver=False)
    return config, make_teacher(config)


def _ray_init(log_to_driver: bool = True) -> None:
    """Connect to the cluster in RAY_ADDRESS (set for `ray job submit` jobs), else start a local one of our own."""
    import ray

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or "local", include_dashboard=False, log_to_driver=log_to_driver)


def _distill_synth(args: argparse.Namespace) -> int:
    from raytool.distill.synth import SynthConfig, summary_table, synthesize
    from raytool.tools.dataset import ToolDataset

    dataset = ToolDataset.load(args.tasks)
    config, teacher = _teacher(args.teacher)
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
    config, teacher = _teacher(args.teacher)
    try:
        records = rank_states(states, ToolDataset.load(args.tasks).tools, args.out, teacher, rank)
    finally:
        teacher.close()
    print(f"[distill] {len(records)} pi_LLM labels written to {args.out}")
    return 0


def _distill_instructions(args: argparse.Namespace) -> int:
    from raytool.distill.instructions import InstructionConfig, synthesize_instructions
    from raytool.tables import format_table

    catalogue = None
    if args.tools:
        from raytool.evaluation.proposer import load_eval_data

        catalogue = load_eval_data(args.tools, args.format)
    _, teacher = _teacher(args.teacher)
    try:
        if catalogue is not None:
            from raytool.distill.catalogue_tasks import DATASET, CatalogueTaskConfig, synthesize_catalogue_tasks

            config = CatalogueTaskConfig(num=args.num, multi_share=args.multi_share, seed=args.seed)
            summary = synthesize_catalogue_tasks(catalogue, teacher, args.out, config)
            out = args.out / DATASET
        else:
            summary = synthesize_instructions(InstructionConfig(args.suite, args.level, args.num, args.seed), teacher,
                                              args.out)  # fmt: skip
            out = args.out
    finally:
        teacher.close()
    print(format_table(["metric", "value"], [(k, json.dumps(v) if isinstance(v, dict) else v)
                                             for k, v in summary.items()]))  # fmt: skip
    print(f"wrote {out}")
    return 0


def _proposer_config(path: Path | None, overrides: list[str]):
    """ProposerConfig from a YAML file (keys optionally under `proposer:`) and KEY=VALUE overrides."""
    from raytool.proposer.config import ProposerConfig

    return ProposerConfig.from_file(path, overrides)


def _skip_bad_argument(parser: argparse.ArgumentParser) -> None:
    help_text = "skip records that cannot be understood (counted by reason) instead of stopping"
    parser.add_argument("--skip-bad", action="store_true", help=help_text)


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

        _ray_init()
        result = train_distributed(data, config, args.out, num_workers=args.workers,
                                   cpus_per_worker=max(config.threads / args.workers, 0.5))  # fmt: skip
    else:
        result = train_proposer(data, config, args.out)
    shown = {k: v for k, v in result.metrics.items() if isinstance(v, float)}
    print(format_table(["metric", "value"], list(shown.items())))
    print(f"wrote {args.out}")
    return 0


def _decider_fp(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.decider.policy_train import (
        PolicyTrainConfig,
        load_rank_records,
        metrics_table,
        train_policy_reconstruction,
    )

    records, env = load_rank_records(args.rank)
    config = PolicyTrainConfig(seed=args.seed)
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    print(f"[decider] {len(records):,} pi_LLM labels from {len(args.rank)} rank dir(s); env {env}")
    metrics = train_policy_reconstruction(records, config, args.out, env=env)
    print(metrics_table(metrics))
    print(
        f"{metrics['train_states']:,} train states ({metrics['train_tasks']:,} tasks), {metrics['heldout_states']:,} "
        f"held-out ({metrics['heldout_tasks']:,} tasks); best epoch {metrics['best_epoch']}, "
        f"{metrics['train_seconds']:.1f}s"
    )
    print(f"wrote {args.out}")
    return 0


def _filler_train(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.filler.train import FillerTrainConfig, train_filler

    config = FillerTrainConfig(seed=args.seed)
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    if args.reader_epochs is not None:
        config = dataclasses.replace(config, reader_epochs=args.reader_epochs)
    metrics = train_filler(args.data, args.out, config, args.encoder)
    held = metrics["heldout_accuracy"]
    print(
        f"[filler] {metrics['train_requests']:,} train / {metrics['heldout_requests']:,} held-out requests; "
        f"held-out option accuracy {held.get('all', float('nan')):.3f} (value {held.get('value', float('nan')):.3f}, "
        f"absent {held.get('absent', float('nan')):.3f}); examples {metrics['examples']}; "
        f"{metrics['prepare_seconds'] + metrics['seconds']:.0f}s"
    )
    if "reader" in metrics:
        read, acc = metrics["reader"], metrics["reader"]["heldout_accuracy"]
        print(
            f"[filler] span reader: held-out top option accuracy {acc.get('all', float('nan')):.3f}"
            f" (value {acc.get('value', float('nan')):.3f}); {read['seconds']:.0f}s"
        )
    print(f"wrote {args.out}")
    return 0


def _decider_train(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.decider.candidates import decider_env_config
    from raytool.decider.train import DeciderRunConfig, train_decider

    run = DeciderRunConfig.from_file(args.config, args.set)
    run = dataclasses.replace(run, iterations=args.iterations or run.iterations)
    env = decider_env_config(args.tasks, args.top_p, args.max_steps)
    summary = train_decider(env, args.fp, run, args.out, resume=args.resume)
    print(f"trained {summary['iterations']} iterations in {summary['train_seconds']:.0f} s; wrote {args.out}")
    return 0


def _eval_decider(args: argparse.Namespace) -> int:
    from raytool.decider.candidates import decider_env_config
    from raytool.decider.train import SUMMARY, load_module
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation import decider as ev
    from raytool.tools.files import read_json

    env_settings = read_json(args.run_dir / SUMMARY)["env"] if (args.run_dir / SUMMARY).exists() else {}
    shape = env_settings.get("top_p", 5), env_settings.get("max_steps", 8)
    train_env = ToolDeciderEnv(decider_env_config(args.train_tasks or args.tasks, *shape))
    baselines, threshold = ev.baseline_policies(train_env, args.fp)
    env = ToolDeciderEnv(decider_env_config(args.tasks, *shape))
    print(
        ev.decider_table(
            ev.evaluate_policies(env, {"decider": ev.module_policy(load_module(args.run_dir)), **baselines})
        )
    )
    print(f"{len(env.tasks)} tasks from {args.tasks}; proposer-greedy threshold {threshold}")
    return 0


def _eval_proposer(args: argparse.Namespace) -> int:
    import json

    from raytool.evaluation.proposer import evaluate, load_eval_data, results_table
    from raytool.proposer.proposer import ToolProposer

    try:
        ks = [int(k) for k in args.k.split(",") if k.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise ValueError(f"--k must be positive integers, got {args.k!r}")
    dataset = load_eval_data(args.data, args.format, args.tools, args.limit, args.skip_bad)
    proposer = ToolProposer.load(args.checkpoint)
    baselines = [b for b in args.baselines.split(",") if b.strip()]
    log = (lambda message: print(message, file=sys.stderr)) if args.json else print
    result = evaluate(dataset, ks, proposer, baselines, log=log, lexical_weight=args.lexical_weight)
    result |= {"data": str(args.data), "format": args.format, "checkpoint": str(args.checkpoint),
               "import_report": dataset.report.to_dict()}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(results_table(result))
        print(f"{result['tasks']:,} tasks, pool: each task's candidates or all {result['tools']:,} tools")
    return 0


def _agent_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", type=Path, help="main-job output with proposer/ and proxies/decider/ ($RAYTOOL_CACHE/run)"
    )
    parser.add_argument("--proposer", type=Path, help="proposer checkpoint (default: CHECKPOINT/proposer)")
    parser.add_argument("--decider", type=Path, help="decider run dir (default: CHECKPOINT/proxies/decider)")
    parser.add_argument("--skills", type=Path, help="skills file the decider may choose from (`skills mine`)")
    parser.add_argument("--filler", type=Path, help="argument filler (default: CHECKPOINT/filler when it exists)")
    parser.add_argument("--gold-arguments", action="store_true",
                        help="ORACLE: argument values from the tasks' gold calls instead of the filler")  # fmt: skip
    parser.add_argument("--teacher", type=Path, help="teacher config YAML (default: the embedded model on vLLM)")
    parser.add_argument("--planner", default="auto", choices=("auto", "always", "never"),
                        help="decompose with several domains (auto: the segmenter when there is one, else the "
                             "teacher), always with the teacher, never (the rule)")  # fmt: skip
    parser.add_argument("--segmenter", type=Path,
                        help="distilled planner segmenter (default: CHECKPOINT/segmenter when it exists)")  # fmt: skip
    parser.add_argument("--sequential", action="store_true", help="run the proxies in-process, one after another")


def _agent_config(args: argparse.Namespace):
    from raytool.agent.agent import AgentConfig
    from raytool.agent.proxy import ProxyConfig
    from raytool.paths import cache_dir
    from raytool.planner.planner import PlannerConfig

    root = args.checkpoint or cache_dir() / "run"
    decider = root / "proxies" / "decider"  # the main job's proxy decider; else its whole-task decider
    proxy = ProxyConfig(
        proposer=str(args.proposer or root / "proposer"),
        decider=str(args.decider or (decider if decider.is_dir() else root / "decider")),
        skills=str(args.skills or ""),
        filler=_filler_path(args, root),
    )
    for what, path in (("proposer", proxy.proposer), ("decider", proxy.decider)):
        if not Path(path).is_dir():
            raise FileNotFoundError(f"{path}: no {what} checkpoint (run `raytool train` or pass --{what})")
    segmenter = Path(args.segmenter or root / "segmenter")
    if args.segmenter and not (segmenter / "segmenter.json").exists():
        raise FileNotFoundError(f"{segmenter}: no segmenter checkpoint (run `raytool planner train-segmenter`)")
    found = (segmenter / "segmenter.json").exists()
    planner = PlannerConfig(mode=args.planner, segmenter=str(segmenter) if found else "")
    return AgentConfig(proxy=proxy, planner=planner, parallel=not args.sequential)


def _filler_path(args: argparse.Namespace, root: Path) -> str:
    """The filler the proxies read argument values with: --filler (which must exist), else the main job's when it
    exists; "" with --gold-arguments."""
    if getattr(args, "gold_arguments", False):
        return ""
    path = Path(args.filler or root / "filler")
    if not (path / "filler.json").exists():
        if args.filler:
            raise FileNotFoundError(f"{path}: no filler checkpoint (run `raytool filler train`)")
        return ""
    return str(path)


def _agent_runtime(args: argparse.Namespace, baselines: bool = False):
    """(agent config, teacher) with Ray started for the proxy actors. The teacher (a vLLM engine by default: tens of
    seconds to start) only when something asks it: the planner (unless `--planner never`) or a baseline."""
    config = _agent_config(args)
    _ray_init(log_to_driver=False)
    planner_asks = args.planner == "always" or (args.planner == "auto" and not config.planner.segmenter)
    return config, (_teacher(args.teacher)[1] if baselines or planner_asks else None)


def _eval_agent(args: argparse.Namespace) -> int:
    from raytool.envs.natural import load_gold_plans
    from raytool.evaluation.agent import EvalConfig, evaluate_agent, sample_tasks
    from raytool.evaluation.proposer import load_eval_data

    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    ks = tuple(int(k) for k in args.k.split(",") if k.strip())
    data = load_eval_data(args.data, args.format, args.tools, skip_bad=args.skip_bad)
    dataset = sample_tasks(data, args.limit, args.seed)
    config, teacher = _agent_runtime(args, baselines=any(m != "proxy" for m in methods))
    meta = {"data": str(args.data), "format": args.format, "import_report": data.report.to_dict()}
    gold_plans = load_gold_plans(args.data) if args.format == "raytool" and args.data.is_dir() else None
    eval_config = EvalConfig(ks=ks, max_steps=args.max_steps, seed=args.seed)
    evaluate_agent(methods, dataset, args.out, teacher, config, eval_config, meta, gold_plans=gold_plans)
    print((args.out / "summary.md").read_text())
    return 0


def _eval_calls(args: argparse.Namespace) -> int:
    from raytool.evaluation.calls import OracleTools, ProposerFiller, TeacherCalls, evaluate_calls
    from raytool.evaluation.proposer import load_eval_data
    from raytool.filler.checkpoint import default_dir
    from raytool.filler.filler import ArgumentFiller
    from raytool.paths import cache_dir

    torch_threads()
    dataset = load_eval_data(args.data, args.format, args.tools, args.limit, args.skip_bad)
    given_file = args.given or _given_file(args.data)
    candidates = _call_candidates(dataset, args.candidates, given_file)
    filler = ArgumentFiller.load(args.filler or default_dir())
    methods, names = [], [m.strip() for m in args.method.split(",") if m.strip()]
    for name in names:
        if name == "proposer+filler":
            from raytool.proposer.proposer import ToolProposer

            proposer = ToolProposer.load(args.proposer or cache_dir() / "run" / "proposer")
            method = ProposerFiller(proposer, filler, dataset.tools, candidates, args.theta)
            if args.fit_theta:
                dev = load_eval_data(args.fit_theta, args.format, args.tools, skip_bad=args.skip_bad)
                if dev.tools.keys() != dataset.tools.keys():
                    raise SystemExit(f"{args.fit_theta}: its catalogue differs from --data's")
                dev_candidates = _call_candidates(dev, args.candidates, _given_file(args.fit_theta))
                print(f"[eval calls] theta fitted on {args.fit_theta}: {method.fit_theta(dev.tasks, dev_candidates)}")
            methods.append(method)
        elif name == "oracle-tools":
            methods.append(OracleTools(filler, dataset.tools))
        elif name == "teacher":
            prompt = _teacher_prompt(args, dataset, candidates, given_file)
            methods.append(TeacherCalls(_teacher(args.teacher)[1], prompt))
        else:
            raise SystemExit(f"unknown method {name!r}; use proposer+filler, teacher, oracle-tools")
    irrelevant = None
    if args.irrelevant is not None:
        from raytool.evaluation.calls import CHIT_CHAT, irrelevant_tasks

        queries = list(CHIT_CHAT)
        for item in args.irrelevant:
            path, _, fmt = str(item).rpartition(":")
            other = load_eval_data(Path(path), fmt, None, args.irrelevant_limit)
            queries += [t.query for t in other.tasks]
        irrelevant = irrelevant_tasks(queries)
    evaluate_calls(methods, dataset, args.out, irrelevant=irrelevant or (), import_report=dataset.report)
    print((args.out / "summary.md").read_text())
    return 0


def _given_file(data: Path) -> Path:
    """Where a benchmark file's own candidate lists are: Seal-Tools' `for_finetune/<split>.json` beside it."""
    return data.parent / "for_finetune" / f"{data.stem}.json"


def _call_candidates(dataset, setting: str, given_file: Path):
    """The tool names a task's calls are chosen from: `pool` (the catalogue); `given`: the benchmark's own lists
    (`given_file`, checked against the tasks and the catalogue), else the tasks' own `tools`. An irrelevant request
    (`irrelevant-<i>`) gets a real request's candidates."""
    from raytool.evaluation.calls import given_candidates

    if setting == "pool":
        pool = sorted(dataset.tools)
        return lambda task: pool
    if given_file.exists():
        given = given_candidates(given_file)
        missing = [t.id for t in dataset.tasks if t.id not in given]
        if missing:
            raise SystemExit(f"{given_file}: no candidates for {len(missing)} tasks, e.g. {missing[0]!r}")
        unknown = sorted({n for t in dataset.tasks for n in given[t.id] if n not in dataset.tools})
        if unknown:
            raise SystemExit(f"{given_file}: candidates not in the catalogue, e.g. {unknown[0]!r}")
        real = [t.id for t in dataset.tasks]

        def candidates(task):
            if task.id.startswith("irrelevant-"):
                return given[real[int(task.id.split("-")[1]) % len(real)]]
            return given[task.id]

        return candidates
    if not all(t.tools for t in dataset.tasks):
        raise SystemExit(f"--candidates given: no {given_file} and the tasks list no candidates; use pool")
    own = {t.id: t.tools for t in dataset.tasks}
    real = [t.id for t in dataset.tasks]
    return lambda task: own.get(task.id) or own[real[int(task.id.split("-")[1]) % len(real)]]


def _teacher_prompt(args: argparse.Namespace, dataset, candidates, given_file: Path):
    """The teacher's prompt per task: the benchmark's own (`given` with a for_finetune file), else Seal-Tools'
    format over the candidates (the proposer's top 5 for `pool`)."""
    from raytool.evaluation.calls import given_prompts, seal_prompt

    def own(task):
        return seal_prompt(task.query, [dataset.tools[n] for n in candidates(task)])

    if args.candidates == "given":
        prompts = given_prompts(given_file) if given_file.exists() else {}
        return lambda task: prompts.get(task.id) or own(task)
    from raytool.paths import cache_dir
    from raytool.proposer.proposer import ToolProposer

    proposer = ToolProposer.load(args.proposer or cache_dir() / "run" / "proposer")
    index = proposer.index(list(dataset.tools.values()))
    return lambda task: seal_prompt(
        task.query, [dataset.tools[n] for n in proposer.propose(task.query, index, 5).names]
    )


def torch_threads() -> None:
    import torch

    torch.set_num_threads(1)


def _eval_ablation(args: argparse.Namespace) -> int:
    from raytool.evaluation.ablation import ablation_configs
    from raytool.evaluation.agent import evaluate_agent, sample_tasks
    from raytool.evaluation.proposer import load_eval_data
    from raytool.paths import cache_dir

    root = args.checkpoint or cache_dir() / "run"
    dataset = sample_tasks(load_eval_data(args.data, args.format, args.tools, skip_bad=args.skip_bad), args.limit,
                           args.seed)  # fmt: skip
    config, teacher = _agent_runtime(args)
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    configs = ablation_configs(config, args.subtasks or root / "agent" / "subtasks", args.fp or root / "fp", args.out,
                               args.rationale_proposer, args.unskilled_decider, variants)  # fmt: skip
    meta = {"data": str(args.data), "format": args.format, "variants": configs}
    evaluate_agent(list(configs), dataset, args.out, teacher, configs.get("proxy", config), meta=meta)
    print((args.out / "summary.md").read_text())
    return 0


def _run(args: argparse.Namespace) -> int:
    import json
    import tempfile

    from raytool.agent.agent import ProxyAgent, task_domains
    from raytool.agent.trace import format_trace
    from raytool.envs.suites import SUITE_NAMES, get_suite
    from raytool.planner.router import domain_pools
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
    config, teacher = _agent_runtime(args)
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


def _skills_mine(args: argparse.Namespace) -> int:
    from raytool.skills.mining import mine_command

    summary = mine_command(args.trajectories, args.tools, args.out, args.min_support, args.max_len)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import time

    from raytool.serving.config import RAYTOOL_IMPORT, check_serve_config, deploy, load_serve_config

    config = load_serve_config(args.config)
    record = config.model_dump(exclude_unset=True)
    for app in record["applications"]:  # checkpoint paths as absolute paths: replicas run elsewhere
        if app.get("import_path") == RAYTOOL_IMPORT:
            for key in ("proposer", "decider", "filler"):
                if app["args"].get(key):
                    app["args"][key] = str(Path(app["args"][key]).expanduser().resolve())
            for own in (app["args"].get("proxies") or {}).values():
                own.update({k: str(Path(v).expanduser().resolve()) for k, v in own.items()})
            catalogues = app["args"].get("catalogues") or {}
            catalogues.update({k: str(Path(v).expanduser().resolve()) for k, v in catalogues.items()})
    config = check_serve_config(record, str(args.config))
    _ray_init(log_to_driver=False)
    from ray import serve

    try:
        deploy(config)
        http = config.http_options
        for app in config.applications:
            print(f"[serve] {app.name}: http://{http.host}:{http.port}{app.route_prefix}", flush=True)
        if args.detach:
            return 0
        while True:
            time.sleep(1)
    except KeyboardInterrupt:  # Ctrl+C while deploying or serving
        print("[serve] shutting down", flush=True)
        serve.shutdown()
    return 0


def _tune(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.tune.space import load_sweep
    from raytool.tune.sweep import SweepInterrupted, run_sweep

    sweep = load_sweep(args.config)
    search = {**sweep.search, **({"num_samples": args.samples} if args.samples else {})}
    sweep = dataclasses.replace(sweep, name=args.name or sweep.name, storage=args.storage or sweep.storage,
                                search=search)  # fmt: skip
    try:
        run_sweep(sweep, resume=args.resume, fresh=args.fresh, connect=lambda: _ray_init(log_to_driver=False))
    except SweepInterrupted as err:
        print(f"[tune] interrupted: {err}", file=sys.stderr)
        return 130
    return 0


def _train(args: argparse.Namespace) -> int:
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.paths import cache_dir, shared_data_dir
    from raytool.tools.shared import import_shared
    from raytool.tools.stats import stats_table

    if args.tools:
        return _train_catalogue(args)
    out = args.out or cache_dir() / "run"
    data_dir = args.data_dir or shared_data_dir()
    print(f"[train] stage 1/{STAGES}: import the shared benchmarks from {data_dir} into {out / 'datasets'}")
    datasets = import_shared(data_dir, out / "datasets")
    print(stats_table(datasets))
    print(f"[train] stage 2/{STAGES}: build verifiable level-2 tasks on the executable suites into {out / 'envs'}")
    built = {}
    for suite in SUITE_NAMES:
        dataset = build_verified(BuildConfig((suite,), level=2, num_tasks=50, seed=0))
        built[f"{suite}_l2"] = dataset
        dataset.save(out / "envs" / f"{suite}_l2")
    print(stats_table(built))
    from raytool.distill.synth import SynthConfig, summary_table, synthesize

    if (out / "synth" / "summary.json").exists():
        print(f"[train] stage 3/{STAGES}: {out / 'synth'} exists, skipping")
        summary = json.loads((out / "synth" / "summary.json").read_text())
    else:
        what = "teacher tool choices and rationales for 50 Seal-Tools tasks"
        print(f"[train] stage 3/{STAGES}: {what} into {out / 'synth'}")
        config, teacher = _teacher(args.teacher)
        try:
            # arguments=False: Seal-Tools dev has gold arguments, which the filler (stage 4) trains on
            synth = SynthConfig(limit=50, shard_size=10, arguments=False)
            summary = synthesize(datasets["seal_tools_dev"], out / "synth", teacher, synth)
        finally:
            teacher.close()
    print(summary_table(summary))
    settings = load_train_config(args.config)
    _train_proposer_stage(datasets, out, settings)
    _train_filler_stage(out, settings, data_dir)
    _train_decider_stages(out, settings, args)
    print(f"[train] done: artifacts in {out}")
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
    _ray_init(log_to_driver=False)
    run_catalogue_job(args.tools, args.format, out, lambda: _teacher(args.teacher)[1], config, cache_dir() / "run")
    return 0


def _train_decider_stages(out: Path, settings: dict, args: argparse.Namespace) -> None:
    from raytool import pipeline

    stages = pipeline.DeciderStages.from_sections(settings)
    paths = pipeline.build_decider_tasks(out, out / "proposer", stages)

    def make_teacher():
        return _teacher(args.teacher)[1]

    rank_dir = pipeline.label_states(out, paths["train"], stages, make_teacher)
    fp_dir = pipeline.train_fp(out, rank_dir, stages)
    run_dir = pipeline.train_decider_stage(out, paths["train"], fp_dir, stages, args.resume)
    pipeline.evaluate_stage(paths, fp_dir, run_dir, stages)
    agent = pipeline.AgentStages.from_sections(settings)
    requests = pipeline.build_agent_tasks(out, agent)
    segmenter = pipeline.train_segmenter_stage(out, settings.get("segmenter") or {})
    proxy_dir = pipeline.train_proxies_stage(out, requests["train"], fp_dir, stages, agent, str(segmenter))
    pipeline.agent_eval_stage(out, requests["test"], proxy_dir, agent, make_teacher, stages.filler(out), str(segmenter))


def _train_filler_stage(out: Path, settings: dict, data_dir: Path) -> None:
    """Stage 4 (cont.): the argument filler on the gold calls of Seal-Tools dev and the suites' level-1 to 4 tasks
    (skipped when its checkpoint exists), then its calls on Seal-Tools test_in_domain (given candidates, and gold
    tools as an oracle row)."""
    from raytool.evaluation.calls import OracleTools, ProposerFiller, evaluate_calls, given_candidates
    from raytool.filler.checkpoint import is_current
    from raytool.filler.filler import ArgumentFiller
    from raytool.filler.train import FillerTrainConfig, train_filler
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    ckpt = out / "filler"
    data = [out / "datasets" / "seal_tools_dev"] + [out / "envs" / f"{s}_l2" for s in ("cpn", "finance", "travel")]
    section = dict(settings.get("filler") or {})  # checked by pipeline.check_train_config
    max_tasks = section.pop("max_tasks", None)  # per dataset (tests); encoder: minilm or hashing (tests)
    encoder = section.pop("encoder", "minilm")  # the rest are FillerTrainConfig fields
    suite_tasks = section.pop("suite_tasks", 90)
    config = FillerTrainConfig(**section)
    if is_current(ckpt, reader=encoder == "minilm" and config.reader_epochs > 0):
        print(f"[train] stage 4/{STAGES}: filler checkpoint {ckpt} exists, skipping training")
    else:
        if (ckpt / "filler.json").exists():
            print(f"[train] stage 4/{STAGES}: {ckpt} is out of date (other features, or no span reader): retraining")
        data += _filler_suite_tasks(out, suite_tasks)
        print(
            f"[train] stage 4/{STAGES}: train the argument filler on the gold calls of {len(data)} datasets into {ckpt}"
        )
        train_filler(data, ckpt, config, encoder, max_tasks=max_tasks)
    test = ToolDataset.load(out / "datasets" / "seal_tools_test")
    limit = (settings.get("evaluation") or {}).get("limit") or len(test.tasks)
    test = ToolDataset(test.tools, test.tasks[:limit])
    given_file = data_dir / "seal_tools" / "for_finetune" / "test_in_domain.json"
    given = given_candidates(given_file)
    filler = ArgumentFiller.load(ckpt)
    methods = [
        ProposerFiller(ToolProposer.load(out / "proposer"), filler, test.tools, lambda task: given[task.id]),
        OracleTools(filler, test.tools),
    ]
    print(
        f"[train] complete calls on Seal-Tools test_in_domain ({len(test.tasks)} tasks, the benchmark's 5 candidates)"
    )
    evaluate_calls(methods, test, out / "calls_eval")
    print((out / "calls_eval" / "summary.md").read_text())


# (level, seed) of the suites' tasks the filler also trains on: every suite's templates at levels 1, 3 and 4, seeds
# apart from the decider's (10, 11) and the agent's (20, 21) held-out tasks
FILLER_SUITE_LEVELS = ((1, 31), (3, 33), (4, 34))


def _filler_suite_tasks(out: Path, count: int) -> list[Path]:
    """Verified level-1, 3 and 4 tasks over all suites for the filler (`count` per level; built once): the level-2
    tasks alone left it weak on the templates of longer requests (an enum value beside another one, multi-word
    names, values after "Separately,")."""
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES

    paths = []
    for level, seed in FILLER_SUITE_LEVELS:
        path = out / "envs" / f"filler_l{level}"
        if not (path / "tasks.jsonl").exists():
            config = BuildConfig(tuple(SUITE_NAMES), level=level, num_tasks=count, seed=seed)
            build_verified(config, log=lambda _: None).save(path)
        paths.append(path)
    return paths


def _train_proposer_stage(datasets: dict, out: Path, settings: dict) -> None:
    """Stage 4: the proposer on Seal-Tools dev (skipped when its checkpoint exists), then test_in_domain."""
    from raytool.evaluation.proposer import BASELINES, evaluate, results_table
    from raytool.proposer.config import ProposerConfig
    from raytool.proposer.data import load_records
    from raytool.proposer.proposer import ToolProposer
    from raytool.proposer.train import prepare_data, train_proposer
    from raytool.tools.dataset import ToolDataset

    ckpt = out / "proposer"
    dev, test = datasets["seal_tools_dev"], datasets["seal_tools_test"]
    if (ckpt / "proposer.json").exists():
        print(f"[train] stage 4/{STAGES}: proposer checkpoint {ckpt} exists, skipping training")
    else:
        print(f"[train] stage 4/{STAGES}: train the proposer on Seal-Tools dev ({len(dev.tasks)} tasks) into {ckpt}")
        config = ProposerConfig.from_dict(settings.get("proposer") or {})
        train_proposer(prepare_data(dev.tasks, dev.tools, config, load_records([out / "synth"])), config, ckpt)
    evaluation = settings.get("evaluation") or {}
    test = ToolDataset(test.tools, test.tasks[: evaluation.get("limit") or len(test.tasks)])
    print(f"[train] proposer on Seal-Tools test_in_domain ({len(test.tasks)} tasks, all {len(test.tools):,} tools)")
    result = evaluate(test, (1, 5, 10), ToolProposer.load(ckpt), evaluation.get("baselines", BASELINES))
    print(results_table(result))


if __name__ == "__main__":
    sys.exit(main())
