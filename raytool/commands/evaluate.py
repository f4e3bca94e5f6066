"""`raytool eval decider | proposer | agent | calls | ablation`: trained components against their baselines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from raytool.commands.common import agent_arguments, agent_runtime, skip_bad_argument, teacher_from_file, torch_threads


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    from raytool.tools.importers import FORMATS

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
    skip_bad_argument(peval)
    peval.set_defaults(run=_eval_proposer)
    aeval = evaluate.add_parser("agent", help="the proxy agent vs single-LLM ReAct / CoT / DFS, same teacher and tools")
    aeval.add_argument("--method", default="proxy,react,cot,dfs",
                       help="comma-separated: proxy, react, cot, dfs; react-own-args, cot-own-args, dfs-own-args: "
                            "the teacher writes the calls' values")  # fmt: skip
    aeval.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir with --format raytool)")
    aeval.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    aeval.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    aeval.add_argument("--out", required=True, type=Path, help="output dir: <method>/metrics.json, summary.md, plots/")
    agent_arguments(aeval)
    aeval.add_argument("--limit", type=int, help="N tasks drawn with --seed (default: all)")
    aeval.add_argument("--seed", type=int, default=0, help="which tasks --limit draws")
    aeval.add_argument("--k", default="1,3,5", help="comma-separated Recall@k / Complete@k cut-offs")
    aeval.add_argument("--max-steps", type=int, default=8, help="calls per task for the baselines")
    skip_bad_argument(aeval)
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
    ceval.add_argument("--method", default="proposer+filler,oracle-tools",
                       help="comma-separated: proposer+filler, proxies, teacher, oracle-tools")  # fmt: skip
    ceval.add_argument("--proposer", type=Path, help="proposer checkpoint (default: the main job's)")
    ceval.add_argument("--filler", type=Path, help="filler checkpoint (default: the main job's)")
    ceval.add_argument("--decider", type=Path, help="decider run dir for --method proxies (default: the main job's)")
    ceval.add_argument(
        "--theta",
        type=float,
        default=0.5,
        help="call every tool with P(needed) >= theta (proxies: the decider calls only such tools; none: no call)",
    )
    ceval.add_argument("--need", type=float, default=0.0,
                       help="proxies: a request's job does not stop while a candidate with P(needed) >= need is "
                            "uncalled (ProxyConfig.need; 0: off, the decider alone decides when to stop)")  # fmt: skip
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
    skip_bad_argument(ceval)
    ceval.set_defaults(run=_eval_calls)
    ablate = evaluate.add_parser("ablation", help="the proxy agent with one part taken out at a time")
    ablate.add_argument("--data", required=True, type=Path, help="benchmark file (or dataset dir, --format raytool)")
    ablate.add_argument("--format", required=True, choices=(*FORMATS, "raytool"))
    ablate.add_argument("--tools", type=Path, help="tool file or folder, for formats that keep tools apart")
    ablate.add_argument("--out", required=True, type=Path, help="output dir (as `eval agent`), deciders/ retrained")
    agent_arguments(ablate)
    ablate.add_argument("--variants", default="",
                        help="comma-separated ablations (default: all of ablation.VARIANTS)")  # fmt: skip
    ablate.add_argument("--subtasks", type=Path, help="training sub-tasks (default: CHECKPOINT/agent/subtasks)")
    ablate.add_argument("--fp", type=Path, help="F_P for retrained deciders (default: CHECKPOINT/fp)")
    ablate.add_argument("--rationale-proposer", type=Path, help="a proposer trained with the rationale loss")
    ablate.add_argument("--unskilled-decider", type=Path, help="the decider trained without skills (no-skills)")
    ablate.add_argument("--limit", type=int, help="N tasks drawn with --seed (default: all)")
    ablate.add_argument("--seed", type=int, default=0, help="which tasks --limit draws")
    skip_bad_argument(ablate)
    ablate.set_defaults(run=_eval_ablation)


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


def _eval_agent(args: argparse.Namespace) -> int:
    from raytool.envs.natural import load_gold_plans
    from raytool.evaluation.agent import EvalConfig, evaluate_agent, sample_tasks
    from raytool.evaluation.proposer import load_eval_data

    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    ks = tuple(int(k) for k in args.k.split(",") if k.strip())
    data = load_eval_data(args.data, args.format, args.tools, skip_bad=args.skip_bad)
    dataset = sample_tasks(data, args.limit, args.seed)
    config, teacher = agent_runtime(args, baselines=any(m != "proxy" for m in methods))
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
        elif name == "proxies":
            import torch

            from raytool.agent.proxy import ProxyConfig, ProxyModel
            from raytool.evaluation.calls import ProxyCalls

            run = cache_dir() / "run"
            theta = next((m.theta for m in methods if isinstance(m, ProposerFiller)), args.theta)  # fitted, if so
            config = ProxyConfig(proposer=str(args.proposer or run / "proposer"), decider=str(args.decider or
                                 run / "decider"), filler=str(args.filler or default_dir()), theta=theta,
                                 need=args.need)  # fmt: skip
            proxy = ProxyModel("calls", config, threads=torch.get_num_threads())  # the other methods' threads
            methods.append(ProxyCalls(proxy, filler, dataset.tools, candidates))
        elif name == "oracle-tools":
            before = next((m for m in methods if isinstance(m, ProposerFiller)), None)
            methods.append(OracleTools(filler, dataset.tools, reuse=before))  # its fills where they are the same
        elif name == "teacher":
            prompt = _teacher_prompt(args, dataset, candidates, given_file)
            methods.append(TeacherCalls(teacher_from_file(args.teacher)[1], prompt))
        else:
            raise SystemExit(f"unknown method {name!r}; use proposer+filler, proxies, teacher, oracle-tools")
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


def _eval_ablation(args: argparse.Namespace) -> int:
    from raytool.evaluation.ablation import VARIANTS, ablation_configs
    from raytool.evaluation.agent import evaluate_agent, sample_tasks
    from raytool.evaluation.proposer import load_eval_data
    from raytool.paths import cache_dir

    root = args.checkpoint or cache_dir() / "run"
    dataset = sample_tasks(load_eval_data(args.data, args.format, args.tools, skip_bad=args.skip_bad), args.limit,
                           args.seed)  # fmt: skip
    config, teacher = agent_runtime(args)
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip()) or VARIANTS
    configs = ablation_configs(config, args.subtasks or root / "agent" / "subtasks", args.fp or root / "fp", args.out,
                               args.rationale_proposer, args.unskilled_decider, variants)  # fmt: skip
    meta = {"data": str(args.data), "format": args.format, "variants": configs}
    evaluate_agent(list(configs), dataset, args.out, teacher, configs.get("proxy", config), meta=meta)
    print((args.out / "summary.md").read_text())
    return 0
