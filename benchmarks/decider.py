"""Decider benchmark: LLM guidance ablations and baselines on executable suites and Seal-Tools multi-call tasks.

    python benchmarks/decider.py [--suites l2,l3,l4,seal] [--seeds 0,1,2] [--iterations 20]

Per suite: training and held-out test tasks, the trained proposer's candidates for both (`file:` candidate source),
teacher pi_LLM labels on training states (`distill rank`, the embedded teacher on vLLM, STOP scored) and F_P
trained on them. Then, per seed, four RLlib `Decider` runs on the training tasks with the same budget:

    unguided  lambda1 = lambda2 = 0 (multiplier off: sigma = ln 2)
    js        lambda1 = 0.1, sigma = 0.3 (learned multiplier)     tau   lambda2 = 0.01
    both      lambda1 = 0.1, lambda2 = 0.01, sigma = 0.3          (the `DeciderConfig` defaults)
    js, tau and both with the default trust (the referee, `trust="referee"`); `both-untrusted`: both with
    trust = "none" (guidance on every state: the decider before the referee), an ablation

and the fixed baselines teacher-only (argmax pi_LLM via F_P) and proposer-greedy (threshold fitted on the
training tasks). Success is measured greedily on the held-out tasks after every `--eval-every` iterations (the
curve) and at the end; the table gives mean +- std over seeds. The env-step ratio is: the first env-step count
at which a guided variant's mean curve reaches the unguided variant's final mean success, over the unguided
run's total env steps.

Suites: l2 (level 2, all three suites; the main job's tasks), l3 (level 3: 3-4 calls, nested arguments, 10
distractors), l4 (level 4: two suites per task, the multi-domain level), seal (Seal-Tools tasks with 2+ calls,
dev -> test_in_domain, schema-checked calls, the proposer's candidates over all 4,076 tools).
Argument values come from the main job's filler (`--arguments predicted`, the default) or the tasks' gold calls
(`--arguments gold`, an ORACLE; its runs are cached apart, in `runs-gold/`).
Everything is cached under $RAYTOOL_CACHE/bench/decider/<suite>/ (runs re-used; --fresh reruns them);
results.json and curves.png go there too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from raytool.decider.candidates import CANDIDATES_FILE, decider_env_config
from raytool.paths import cache_dir
from raytool.pipeline import DeciderStages, label_states, train_fp

sys.path.insert(0, str(Path(__file__).parent))

ROOT = cache_dir() / "bench" / "decider"
VARIANTS = {  # trust is explicit, so cached runs keep their meaning if the default changes
    "unguided": {"lambda1": 0.0, "lambda2": 0.0, "sigma": math.log(2), "trust": "none"},
    "js": {"lambda1": 0.1, "lambda2": 0.0, "sigma": 0.3, "trust": "referee"},
    "tau": {"lambda1": 0.0, "lambda2": 0.01, "sigma": math.log(2), "trust": "referee"},
    "both": {"lambda1": 0.1, "lambda2": 0.01, "sigma": 0.3, "trust": "referee"},
    "both-untrusted": {"lambda1": 0.1, "lambda2": 0.01, "sigma": 0.3, "trust": "none"},
}
LEVELS = {"l2": 2, "l3": 3, "l4": 4}


def build_suite(name: str, proposer) -> tuple[Path, Path]:
    """Train/test task dirs with candidates.jsonl."""
    root = ROOT / name
    dirs = root / "train", root / "test"
    if all((d / CANDIDATES_FILE).exists() for d in dirs):
        return dirs
    if name == "l2" and (cache_dir() / "run" / "envs" / "decider_train" / CANDIDATES_FILE).exists():
        return cache_dir() / "run" / "envs" / "decider_train", cache_dir() / "run" / "envs" / "decider_test"
    for split, directory in zip(("train", "test"), dirs, strict=True):
        write_task_set(name, split, 60 if split == "train" else 30, directory, proposer)
    return dirs


SPLIT_SEEDS = {"train": 20, "test": 21, "label": 40}  # builder seeds; Seal-Tools: dev for train/label, test_in_domain


def write_task_set(name: str, split: str, count: int, directory: Path, proposer, skip: int = 0) -> Path:
    """`count` tasks of suite `name` for `split` (SPLIT_SEEDS) into `directory`, with the proposer's candidates:
    builder tasks of the suite's level, or Seal-Tools multi-call tasks from the `skip`-th on."""
    from raytool.decider.candidates import write_candidates
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.tools.dataset import ToolDataset

    if name == "seal":
        from raytool.paths import shared_data_dir
        from raytool.tools.importers import import_dataset

        source = "test_in_domain" if split == "test" else "dev"
        data = import_dataset("seal_tools", shared_data_dir() / "seal_tools" / f"{source}.jsonl")
        data = ToolDataset(data.tools, [t for t in data.tasks if len(t.calls) >= 2][skip : skip + count])
    else:
        config = BuildConfig(tuple(SUITE_NAMES), level=LEVELS[name], num_tasks=count, seed=SPLIT_SEEDS[split])
        data = build_verified(config, log=lambda _: None)
    data.save(directory)
    write_candidates(proposer, ToolDataset.load(directory), directory / CANDIDATES_FILE)
    return directory


ARGUMENTS = {"mode": "predicted"}  # `--arguments`: "predicted" (the main job's filler) or "gold" (an ORACLE)


def env_config(tasks: Path) -> dict:
    """The env of `tasks`; argument values from the main job's filler unless `--arguments gold`."""
    from raytool.envs.decider_env import argument_settings

    predicted = ARGUMENTS["mode"] == "predicted"
    return decider_env_config(tasks) | argument_settings(cache_dir() / "run" / "filler" if predicted else "")


def runs_folder(eval_every: int = 4) -> str:
    """Cached runs per argument source: `runs/` (predicted), `runs-gold/` (the oracle); `-e<k>` added for an eval
    interval other than 4 iterations (a curve sampled differently is a different record)."""
    folder = "runs" if ARGUMENTS["mode"] == "predicted" else "runs-gold"
    return folder if eval_every == 4 else f"{folder}-e{eval_every}"


def label_and_fit(name: str, train: Path, teacher_factory) -> Path:
    """F_P for the suite: the main job's when the suite is its tasks, else stages 6-7 into ROOT/<suite>/{rank,fp}."""
    main_job = cache_dir() / "run"
    if train == main_job / "envs" / "decider_train" and (main_job / "fp" / "fp.json").exists():
        return main_job / "fp"  # the main job's F_P was trained on these very tasks
    stages = DeciderStages(rank_states=150)
    return train_fp(ROOT / name, label_states(ROOT / name, train, stages, teacher_factory), stages)


def run_variant(
    name, variant, seed, train, test, fp_dir, iterations, eval_every, fresh, root=None, training=None
) -> dict:
    """One RLlib run; greedy held-out success every `eval_every` iterations. Cached in `root` (default ROOT)
    `/<suite>/runs/`; `training`: the variant's settings (default VARIANTS[variant])."""
    from raytool.decider.train import DeciderRunConfig, decider_config, run_training
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import module_policy, rollout

    out = (root or ROOT) / name / runs_folder(eval_every) / f"{variant}-s{seed}.json"
    if out.exists() and not fresh:
        return json.loads(out.read_text())
    training = dict(training or VARIANTS[variant])
    start = training.pop("teacher_start", "never")  # the variants fix their settings; "audit" variants let F_P decide
    run = DeciderRunConfig(iterations=iterations, training=training, seed=seed, teacher_start=start)
    resolved, start_line = run_training(run, fp_dir)
    algo = decider_config(env_config(train), fp_dir, run, resolved).build_algo()
    test_env = ToolDeciderEnv(env_config(test))
    curve, start = [], time.perf_counter()
    try:
        for it in range(1, iterations + 1):
            result = algo.train()
            if it % eval_every == 0 or it == iterations:
                score = rollout(test_env, module_policy(algo.get_module()))
                steps = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
                learner = result.get("learners", {}).get("default_policy", {})
                curve.append(
                    {
                        "env_steps": steps,
                        **score,
                        "js": float(learner.get("decider/js_to_llm", math.nan)),
                        "tau_b": float(learner.get("decider/kendall_tau_b", math.nan)),
                    }
                )
    finally:
        algo.stop()
    record = {
        "variant": variant,
        "seed": seed,
        "training": resolved,
        "teacher_start": start_line,
        "arguments": ARGUMENTS["mode"],
        "curve": curve,
        "final": curve[-1],
        "seconds": round(time.perf_counter() - start, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record))
    print(
        f"[{name}] {variant} seed {seed}: success {curve[-1]['success']:.3f} reward {curve[-1]['reward']:.3f} "
        f"({record['seconds']:.0f} s)",
        flush=True,
    )
    return record


def baselines(train: Path, test: Path, fp_dir: Path) -> dict:
    from raytool.envs.decider_env import ToolDeciderEnv
    from raytool.evaluation.decider import baseline_policies, evaluate_policies

    policies, threshold = baseline_policies(ToolDeciderEnv(env_config(train)), fp_dir)
    results = evaluate_policies(ToolDeciderEnv(env_config(test)), policies)
    results["proposer-greedy"]["threshold"] = threshold
    return results


TIE = 1e-9  # seed means of the same success counts, summed in another order, must compare equal


def mean_curve(runs: list[dict]) -> tuple[list[float], list[float]]:
    """(env steps, held-out success) of the seed-mean learning curve, over the evaluations every run has."""
    points = len(min((r["curve"] for r in runs), key=len))
    steps = [float(np.mean([r["curve"][i]["env_steps"] for r in runs])) for i in range(points)]
    return steps, [float(np.mean([r["curve"][i]["success"] for r in runs])) for i in range(points)]


def first_reach(runs: list[dict], target: float) -> float | None:
    """Env steps at which the seed-mean curve first reaches `target` success (None: never)."""
    steps, mean = mean_curve(runs)
    return next((s for s, m in zip(steps, mean, strict=True) if m >= target - TIE), None)


def step_ratio(runs: dict[str, list[dict]]) -> dict[str, float | None]:
    """Env steps at which each guided variant's mean curve first reaches unguided's final mean success."""
    target = float(np.mean([r["final"]["success"] for r in runs["unguided"]]))
    total = float(np.mean([r["final"]["env_steps"] for r in runs["unguided"]]))
    hits = {variant: first_reach(runs[variant], target) for variant in ("js", "tau", "both")}
    return {variant: None if hit is None else hit / total for variant, hit in hits.items()}


def plot(results: dict, path: Path) -> None:
    """Held-out success vs env steps (mean over seeds) per suite; baselines as dashed lines."""
    from plotting import line_panels

    panels = []
    for suite, result in results.items():
        lines = []
        for variant, runs in result["runs"].items():
            steps, mean = mean_curve(runs)
            lines.append({"label": variant, "x": steps, "y": mean})
        hlines = [
            {"label": f"{name} {result['baselines'][name]['success']:.2f}", "y": result["baselines"][name]["success"]}
            for name in ("teacher-only", "proposer-greedy")
        ]
        panels.append(
            {"title": suite, "xlabel": "env steps", "ylabel": "held-out success", "lines": lines, "hlines": hlines}
        )
    line_panels(path, panels)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every decider benchmark shares: suites, seeds, iterations, eval interval, --fresh."""
    parser.add_argument("--suites", default="l2,l3,l4,seal")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=4)
    parser.add_argument("--fresh", action="store_true", help="rerun RL runs even when their results exist")
    parser.add_argument("--arguments", choices=("predicted", "gold"), default="predicted",
                        help="the main job's filler, or the gold values (an ORACLE)")  # fmt: skip


def start(args: argparse.Namespace):
    """(the main job's proposer, the seeds): one thread, a local Ray of our own."""
    import ray
    import torch

    from raytool.proposer.proposer import ToolProposer

    torch.set_num_threads(1)
    ARGUMENTS["mode"] = args.arguments
    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    return ToolProposer.load(cache_dir() / "run" / "proposer"), [int(s) for s in args.seeds.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--variants", default="unguided,js,tau,both")
    args = parser.parse_args()

    from raytool.tables import format_table
    from raytool.teacher.backend import TeacherConfig, make_teacher

    proposer, seeds = start(args)
    results = {}
    for suite in args.suites.split(","):
        train, test = build_suite(suite, proposer)
        fp_dir = label_and_fit(suite, train, lambda: make_teacher(TeacherConfig()))
        runs = {
            v: [
                run_variant(suite, v, s, train, test, fp_dir, args.iterations, args.eval_every, args.fresh)
                for s in seeds
            ]
            for v in args.variants.split(",")
        }
        results[suite] = {"runs": runs, "baselines": baselines(train, test, fp_dir)}
        if {"unguided", "js", "tau", "both"} <= set(runs):
            results[suite]["step_ratio"] = step_ratio(runs)
    rows = []
    for suite, result in results.items():
        for variant, runs in result["runs"].items():
            succ = [r["final"]["success"] for r in runs]
            reward = [r["final"]["reward"] for r in runs]
            calls = [r["final"]["calls"] for r in runs]
            ratio = result.get("step_ratio", {}).get(variant)
            rows.append(
                [
                    suite,
                    variant,
                    f"{np.mean(succ):.3f} ± {np.std(succ):.3f}",
                    f"{np.mean(reward):.3f} ± {np.std(reward):.3f}",
                    f"{np.mean(calls):.2f}",
                    "-" if variant == "unguided" else ("not reached" if ratio is None else f"{ratio:.2f}"),
                ]
            )
        for name, base in result["baselines"].items():
            rows.append([suite, name, f"{base['success']:.3f}", f"{base['reward']:.3f}", f"{base['calls']:.2f}", ""])
    print(format_table(["suite", "policy", "held-out success", "reward", "calls/task", "steps to unguided"], rows))
    print(f"mean ± std over seeds {seeds}; {args.iterations} iterations x 128 env steps per run; "
          f"{args.arguments} argument values")  # fmt: skip
    ROOT.mkdir(parents=True, exist_ok=True)
    tag = "" if args.arguments == "predicted" else "-gold"
    (ROOT / f"results{tag}.json").write_text(json.dumps(results, indent=1))
    plot(results, ROOT / f"curves{tag}.png")
    print(f"wrote {ROOT / f'results{tag}.json'} and {ROOT / f'curves{tag}.png'}")


if __name__ == "__main__":
    main()
