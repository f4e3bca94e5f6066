"""`raytool eval agent`: the proxy agent and the single-LLM baselines in one harness, on any supported data.

    raytool eval agent --method proxy,react,cot,dfs --data PATH --format FORMAT [--tools PATH] --out DIR

Every method gets the same tasks, the same teacher, the same tools, the same candidates (the proposer's top-p
for the request, `candidates.jsonl`), the same argument binder and the same verifiable reward:

    proxy   the planner (one teacher call per multi-domain request) + per-domain proposer/decider proxies as
            Ray actors (`raytool.agent.agent.ProxyAgent`)
    react   one teacher call per step (`raytool.agent.react`)
    cot     one teacher call writes a reasoned plan, then it runs (`raytool.agent.cot`)
    dfs     depth-first search with backtracking, one teacher call per expanded node (`raytool.agent.dfs`)

The baselines bind argument values with the proxies' filler, so they differ from the proxy in tool choice alone.
`react-own-args`, `cot-own-args` and `dfs-own-args` are the same methods with the teacher writing every call's
values itself (one more teacher call per tool call, `raytool.agent.own_arguments`): one LLM doing the whole job.

Per task: tool selection (Recall@k / Complete@k of the tools the method called, in call order, against the gold
tools), plan accuracy (exact match of the successful calls' tool sequence — as a multiset when the gold is
unordered — and call F1: calls matched to gold calls, arguments compared where the gold has them), for the proxy
on data with gold sub-tasks (a `plans.jsonl` beside the tasks: `raytool envs natural`) the decomposition's
segmentation F1, domain and dependency accuracy (`raytool.evaluation.plan_metrics`), task success
and reward (the verifiable reward; `success` is reported for executable tasks only), and efficiency (teacher
calls and tokens, tool calls, decisions; wall seconds under `timing`, as they vary run to run). Means come with
95% confidence intervals (`raytool.evaluation.stats`).

Out: `DIR/<method>/metrics.json`, `DIR/<method>/trajectories.jsonl` (mined by `raytool skills mine`),
`DIR/summary.md` + `summary.json` (all methods in DIR), `DIR/plots/metrics.png`.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raytool.agent.outcome import Outcome
from raytool.evaluation.stats import summarise
from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text

BASELINES = ("react", "cot", "dfs")
OWN_ARGUMENTS = "-own-args"  # a baseline's suffix: the teacher writes the calls' values
METHODS = ("proxy", *BASELINES, *(b + OWN_ARGUMENTS for b in BASELINES))
BINARY = {"success", "exact_match", "plan_exact"} | {f"complete@{k}" for k in range(1, 21)}


@dataclass(frozen=True)
class EvalConfig:
    """Harness settings.

    ks: cut-offs of Recall@k / Complete@k.
    top_p / max_steps: candidates per step and calls per episode for the baselines (the proxy uses its
        decider's own settings).
    cot_plan_tools: candidates shown to the CoT planner.
    dfs_branching / dfs_budget: DFS children per node and teacher calls per task (0 = 2 x max_steps).
    seed: which tasks a `limit` samples (and nothing else: every method is greedy).
    """

    ks: tuple[int, ...] = (1, 3, 5)
    top_p: int = 5
    max_steps: int = 8
    cot_plan_tools: int = 8
    dfs_branching: int = 2
    dfs_budget: int = 0
    seed: int = 0


@dataclass
class MethodRun:
    method: str
    outcomes: list[Outcome]
    teacher_calls: list[int]
    teacher_tokens: list[int]
    wall_s: list[float]
    elapsed_s: float
    extra: dict[str, Any] = field(default_factory=dict)
    plans: list[Any] | None = None  # the proxy's `Plan` per task (None for the baselines)


def sample_tasks(dataset: ToolDataset, limit: int | None, seed: int) -> ToolDataset:
    """`limit` tasks drawn with `seed` (kept in dataset order); all tasks without a limit."""
    tasks = dataset.tasks
    if limit and limit < len(tasks):
        keep = sorted(random.Random(seed).sample(range(len(tasks)), limit))
        tasks = [tasks[i] for i in keep]
    return ToolDataset(dataset.tools, tasks, dataset.info, dataset.report)


def prepare_tasks(dataset: ToolDataset, work_dir: Path, proposer, config: EvalConfig) -> Path:
    """The tasks as a dataset directory with the proposer's candidates (the env's `file:` source)."""
    from raytool.decider.candidates import CANDIDATES_FILE, write_candidates

    folder = Path(work_dir) / "tasks"
    dataset.save(folder)
    write_candidates(proposer, dataset, folder / CANDIDATES_FILE, k=max(config.top_p + config.max_steps, 16))
    return folder


def baseline_env(tasks_dir: Path, config: EvalConfig, feature_cache: Path, filler: str = ""):
    """The single-LLM baselines' env: the proxies' candidates and tools, and their argument source (`filler`, the
    proxies' filler checkpoint; "" = the tasks' gold values, as for proxies without a filler: an ORACLE)."""
    from raytool.decider.candidates import CANDIDATES_FILE
    from raytool.envs.decider_env import ToolDeciderEnv, argument_settings

    return ToolDeciderEnv({
        "tasks": str(tasks_dir), "top_p": config.top_p, "max_steps": config.max_steps,
        "candidate_source": f"file:{Path(tasks_dir) / CANDIDATES_FILE}", "feature_cache": str(feature_cache),
        **argument_settings(filler),
    })  # fmt: skip


def run_baseline(method: str, env, teacher, config: EvalConfig, log: Callable = print) -> MethodRun:
    """ReAct, CoT or DFS (`method`, with `OWN_ARGUMENTS` when the teacher writes the values) on every task of
    `env`, all tasks' teacher calls batched per round."""
    from raytool.agent.cot import cot_episode
    from raytool.agent.dfs import dfs_episode
    from raytool.agent.react import react_episode
    from raytool.envs.sandbox import InlineExecutor
    from raytool.teacher.lockstep import drive

    envs = []
    for _ in env.tasks:  # one env per task in flight: shared data and features, own executor and episode state
        clone = copy.copy(env)
        clone.executor = InlineExecutor() if env.executor is not None else None
        envs.append(clone)
    base, own = method.removesuffix(OWN_ARGUMENTS), method.endswith(OWN_ARGUMENTS)
    if base == "react":
        episodes = [react_episode(e, i, own) for i, e in enumerate(envs)]
    elif base == "cot":
        episodes = [cot_episode(e, i, config.cot_plan_tools, own_arguments=own) for i, e in enumerate(envs)]
    elif base == "dfs":
        episodes = [dfs_episode(e, i, config.dfs_branching, config.dfs_budget or None, own) for i, e in enumerate(envs)]
    else:
        raise ValueError(f"unknown baseline {method!r}; choose one of {', '.join(METHODS[1:])}")
    start = time.perf_counter()
    outcomes, ledgers = drive(episodes, teacher, log)
    elapsed = time.perf_counter() - start
    for clone in envs:
        clone.close()
    return MethodRun(method, outcomes, [g.teacher_calls for g in ledgers], [g.teacher_tokens for g in ledgers],
                     [g.wall_s for g in ledgers], elapsed)  # fmt: skip


def run_proxy(agent, dataset: ToolDataset, name: str = "proxy") -> MethodRun:
    """The proxy agent on every task (planning batched, jobs per domain on the proxies)."""
    agent.start()
    start = time.perf_counter()
    results = agent.run_tasks(dataset.tasks)
    elapsed = time.perf_counter() - start
    plans: dict[str, int] = {}
    for r in results:
        plans[r.plan.source] = plans.get(r.plan.source, 0) + 1
    return MethodRun(
        name, [r.outcome for r in results], [r.ledger.teacher_calls for r in results],
        [r.ledger.teacher_tokens for r in results], [r.wall_s for r in results], elapsed, {"plan_sources": plans},
        [r.plan for r in results],
    )  # fmt: skip


def task_metrics(task, outcome: Outcome, ks: Sequence[int]) -> dict[str, float]:
    """The per-task quality figures (module docstring)."""
    gold = [c.name for c in task.calls]
    gold_set = set(gold)
    selected = list(dict.fromkeys(c["name"] for c in outcome.calls))
    metrics: dict[str, float] = {}
    for k in ks:
        hits = len(gold_set & set(selected[:k]))
        metrics[f"recall@{k}"] = hits / len(gold_set) if gold_set else 0.0
        metrics[f"complete@{k}"] = float(bool(gold_set) and hits == len(gold_set))
    done = [c["name"] for c in outcome.calls if c["status"] == "valid"]
    metrics["exact_match"] = float(done == gold if task.ordered else sorted(done) == sorted(gold))
    precision = outcome.matched / len(outcome.calls) if outcome.calls else 0.0
    recall = outcome.matched / len(gold) if gold else 0.0
    metrics["call_f1"] = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    if task.env is not None:
        metrics["success"] = float(outcome.success)
    metrics["reward"] = outcome.reward
    metrics["tool_calls"] = float(outcome.info.get("tool_calls", len(outcome.calls)))
    metrics["decisions"] = float(outcome.decisions)
    return metrics


def method_metrics(
    run: MethodRun, dataset: ToolDataset, config: EvalConfig, meta: dict[str, Any], gold_plans: dict | None = None
) -> dict[str, Any]:
    """The `metrics.json` record of one method run; `gold_plans`: task id -> its gold sub-tasks, scored against
    the run's plans where it has them."""
    from raytool.evaluation.plan_metrics import plan_scores

    per_task: dict[str, list[float]] = {}
    plans = run.plans or [None] * len(run.outcomes)
    for task, outcome, calls, tokens, plan in zip(dataset.tasks, run.outcomes, run.teacher_calls, run.teacher_tokens,
                                                  plans, strict=True):  # fmt: skip
        values = task_metrics(task, outcome, config.ks) | {
            "teacher_calls": float(calls),
            "teacher_tokens": float(tokens),
        }
        if plan is not None and gold_plans and task.id in gold_plans:
            values |= plan_scores(plan.subtasks, gold_plans[task.id])
        for name, value in values.items():
            per_task.setdefault(name, []).append(value)
    timing = summarise({"wall_s": run.wall_s}, set())
    elapsed = round(run.elapsed_s / max(len(run.outcomes), 1), 6)  # the whole run over its tasks: no interval
    timing["elapsed_s_per_task"] = {"mean": elapsed, "ci95": [elapsed, elapsed], "n": len(run.outcomes)}
    return {
        "method": run.method, **meta, "tasks": len(dataset.tasks), "seed": config.seed,
        "metrics": summarise(per_task, BINARY & set(per_task)), "timing": timing, **run.extra,
    }  # fmt: skip


def write_method(out_dir: Path, record: dict[str, Any], run: MethodRun) -> Path:
    folder = Path(out_dir) / run.method
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(dict(o.record(), source=run.method), default=str) + "\n" for o in run.outcomes]
    atomic_write_text(folder / "trajectories.jsonl", "".join(lines))
    atomic_write_text(folder / "metrics.json", json.dumps(record, indent=2) + "\n")
    return folder / "metrics.json"


def write_report(out_dir: Path) -> tuple[Path, Path, Path | None]:
    """`summary.md`, `summary.json` and `plots/metrics.png` over every method in `out_dir`."""
    from raytool.evaluation.plots import bar_panels
    from raytool.evaluation.report import load_results, write_summary

    results = load_results(out_dir)
    md, js = write_summary(out_dir, results)
    plot = Path(out_dir) / "plots" / "metrics.png"
    plot.parent.mkdir(parents=True, exist_ok=True)
    bar_panels(plot, results)
    return md, js, plot


def evaluate_agent(
    methods: Sequence[str],
    dataset: ToolDataset,
    out_dir: Path,
    teacher,
    agent_config,
    config: EvalConfig = EvalConfig(),
    meta: dict[str, Any] | None = None,
    log: Callable = print,
    gold_plans: dict | None = None,
) -> list[dict[str, Any]]:
    """Run every method on `dataset` into `out_dir` (module docstring); returns their metrics records.

    `agent_config` is the proxy agent's `AgentConfig`; its proposer also makes the baselines' candidates.
    Method names other than the four are proxy variants and need `meta["variants"][name]` (an `AgentConfig`).
    """
    from raytool.agent.agent import ProxyAgent, task_domains
    from raytool.proposer.proposer import ToolProposer

    unknown = [m for m in methods if m not in METHODS and m not in (meta or {}).get("variants", {})]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    out_dir = Path(out_dir)
    work = out_dir / "work"
    meta = dict(meta or {})
    variants = meta.pop("variants", {})
    meta.setdefault("teacher", getattr(teacher, "model_name", "") if teacher is not None else "")
    records = []
    env = None
    for method in methods:
        log(f"[eval] {method} on {len(dataset.tasks)} tasks")
        if method in METHODS[1:]:
            if env is None:
                proposer = ToolProposer.load(agent_config.proxy.proposer, threads=1)
                tasks_dir = prepare_tasks(dataset, work, proposer, config)
                env = baseline_env(tasks_dir, config, work / "features", agent_config.proxy.filler)
            run = run_baseline(method, env, teacher, config, log)
        else:
            pools = task_domains(dataset.tasks, dataset.tools)
            agent = ProxyAgent(variants.get(method, agent_config), dataset.tools, teacher, work / method, pools, log)
            try:
                run = run_proxy(agent, dataset, method)
            finally:
                agent.close()
        record = method_metrics(run, dataset, config, meta, gold_plans)
        write_method(out_dir, record, run)
        m = record["metrics"]
        log(
            f"[eval] {method}: "
            + ", ".join(
                f"{k} {m[k]['mean']:.3f}" for k in ("success", "call_f1", "segmentation_f1", "teacher_calls") if k in m
            )
            + f", wall {record['timing']['wall_s']['mean']:.3f}s/task"
        )
        records.append(record)
    if env is not None:
        env.close()
    write_report(out_dir)
    return records
