"""When does LLM guidance pay off? The decider guided by teachers of controlled quality, against unguided RL.

    python benchmarks/guidance.py [--suites l2,l3,l4,seal] [--teachers 0.2,0.4,0.6,0.8,0.95,embedded]
                                  [--variants unguided,js,tau,both] [--seeds 0,1,2] [--iterations 32]
                                  [--label-tasks N]

A teacher of quality q (`raytool.teacher.synthetic.SyntheticTeacher`) ranks the gold next option first with
probability q, else a plausible wrong candidate. Its labels go through the same path as a real LLM's: `distill rank`
on sampled training states (`raytool.pipeline.label_states`), F_P trained on them (`train_fp`), and the RLlib
decider guided by that F_P. `embedded` is the real embedded teacher (SmolLM2-135M on vLLM; the F_P of
`benchmarks/decider.py`, built there when missing). Variants, as in `benchmarks/decider.py`:

    unguided  lambda1 = lambda2 = 0 (multiplier off)            js    lambda1 = 0.1, sigma = 0.3
    tau       lambda2 = 0.01                                     both  the `DeciderConfig` defaults
    both-untrusted  both with trust = "none"              both+qf  both with trust = "q_filter" (the guided critic
                                                                   judges; see `DeciderConfig.trust`)
    strong  both with lambda1 = 1.0 (ten times the default pull toward F_P)
    stop    both with guide_stop = True (STOP enters JS and the Kendall term: the teacher's "the task is done"
            guides too; the referee still filters the states where the critic rates the teacher lower)
    strong-stop  strong with guide_stop = True          kick-stop  stop with lambda1 = 5.0 (fifty times the default)
    explore-stop, kick-explore  stop / kick-stop exploring from a mixture with F_P: half of the behaviour policy at the
            first update, falling to none over 128 updates (4 iterations; `DeciderConfig.llm_exploration`)
    warm-stop, kick-warm  stop / kick-stop with a warm start: the actor imitates F_P for 500 Adam steps when learning
            starts (`DeciderConfig.llm_warm_start`; the critic and the env steps unchanged), on the replayed states
    distill-stop, kick-distill  the same warm start (2,000 steps, lr 0.01) on the states the teacher labelled, F_P's
            training data (`llm_warm_start_states`), not on the replay's, and before the first rollout
    distill-hold, kick-hold  distill-stop / kick-distill whose actor waits for the critic: its loss is off for the
            first 64 updates (2 iterations; `DeciderConfig.critic_warmup`), so the blank critic cannot pull it off F_P
    kick-fade  kick-hold whose pull fades: the JS weight starts at 5.0 and falls linearly to the default 0.1 over 256
            updates (8 iterations; `DeciderConfig.lambda1_boost`), held to the teacher early and let go after
    kick-hold-free  kick-hold with STOP left out of the guidance (`guide_stop` False, the default): the imitation and
            the pull cover the choice among the candidates; when to stop is learnt from the reward (for a teacher
            that rarely ranks `finish` first, as the embedded one)
    audit  the default run (`DeciderRunConfig.teacher_start="audit"`): kick-hold's start when F_P passes the teacher
            audit (its gold@1 on held-out labelled states beats the proposer's order by 0.1), else `both`; the table's
            "proposer order gold@1" and "audit" columns give the audit's figures and verdict (`raytool.decider.audit`)

Suites and tasks are `benchmarks/decider.py`'s (the trained proposer's candidates; the main job's proposer must
exist). The unguided runs do not read F_P and are shared by all teachers (and with `benchmarks/decider.py`).
Per run: greedy held-out success every `--eval-every` iterations. Reported per (suite, teacher, variant): final
held-out success mean and std over seeds, and the env steps at which the seed-mean curve first reaches unguided's
final mean success, over unguided's total env steps ("steps ratio"; target <= 0.6 for q >= 0.6; unguided's own row is
the step at which its curve first reaches its final value, the reference to read the others against), plus how well the
teacher and F_P agree with the gold option on held-out training states. Runs are cached under
$RAYTOOL_CACHE/bench/guidance/ (resumable; `--fresh` reruns); `results.json`, `guidance.png` (final success vs q)
and `curves.png` (seed-mean success vs env steps per suite and teacher) go there
(`results-t<N>.json`, `guidance-t<N>.png` with `--label-tasks N`: the synthetic teachers label states of N tasks of
their own, 5 per task, instead of 300 states of the decider's 60 training tasks).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import decider as decider_bench  # noqa: E402  (benchmarks/decider.py: suites, runs, step ratios)

from raytool.paths import cache_dir  # noqa: E402

ROOT = cache_dir() / "bench" / "guidance"
VARIANTS = dict(decider_bench.VARIANTS) | {
    "both+qf": {**decider_bench.VARIANTS["both"], "trust": "q_filter"},
    "strong": {**decider_bench.VARIANTS["both"], "lambda1": 1.0},
    "stop": {**decider_bench.VARIANTS["both"], "guide_stop": True},
}
VARIANTS |= {"strong-stop": {**VARIANTS["stop"], "lambda1": 1.0}, "kick-stop": {**VARIANTS["stop"], "lambda1": 5.0}}
EXPLORE = {"llm_exploration": 0.5, "llm_exploration_updates": 128}  # half of the first 4 iterations' steps from F_P
VARIANTS |= {"explore-stop": VARIANTS["stop"] | EXPLORE, "kick-explore": VARIANTS["kick-stop"] | EXPLORE}
WARM = {"llm_warm_start": 500}  # the actor imitates F_P for 500 Adam steps when learning starts
VARIANTS |= {"warm-stop": VARIANTS["stop"] | WARM, "kick-warm": VARIANTS["kick-stop"] | WARM}
RANK_WARM = {"llm_warm_start": 2000, "llm_warm_start_lr": 1e-2, "llm_warm_start_states": "rank"}  # F_P's states
VARIANTS |= {"distill-stop": VARIANTS["stop"] | RANK_WARM, "kick-distill": VARIANTS["kick-stop"] | RANK_WARM}
HOLD = {"critic_warmup": 64}  # the actor waits two iterations for the critic
VARIANTS |= {"distill-hold": VARIANTS["distill-stop"] | HOLD, "kick-hold": VARIANTS["kick-distill"] | HOLD}
FADE = {"lambda1": 0.1, "lambda1_boost": 4.9, "lambda1_boost_updates": 256}  # 5.0 at first, the default 0.1 by 8 its
VARIANTS |= {"kick-fade": VARIANTS["kick-hold"] | FADE, "kick-hold-free": VARIANTS["kick-hold"] | {"guide_stop": False}}
VARIANTS["audit"] = {"teacher_start": "audit"}  # the default: kick-hold when F_P passes the teacher audit, else both


def teacher_fp(suite: str, teacher: str, train: Path, label: LabelSet | None = None) -> tuple[Path, dict]:
    """F_P of a teacher on a suite's training states (or, with `label`, on 5 states per task of that set:
    `label_tasks`), and the teacher's / F_P's agreement with the gold option."""
    from raytool.pipeline import DeciderStages, label_states, train_fp
    from raytool.teacher.backend import TeacherConfig, make_teacher
    from raytool.teacher.synthetic import SyntheticTeacher

    if teacher == "embedded":
        fp_dir = decider_bench.label_and_fit(suite, train, lambda: make_teacher(TeacherConfig()))
    else:
        out = ROOT / suite / teacher_folder(teacher, label)
        stages = DeciderStages(rank_states=max(300, 5 * label.tasks) if label else 300)
        tasks = label.path if label else train
        fp_dir = train_fp(
            out, label_states(out, tasks, stages, lambda: SyntheticTeacher(float(teacher), seed=0)), stages
        )
    return fp_dir, agreement(fp_dir)


@dataclass(frozen=True)
class LabelSet:
    """Tasks a synthetic teacher labels instead of the decider's training tasks (`--label-tasks`): where, how many."""

    path: Path
    tasks: int


def teacher_folder(teacher: str, label: LabelSet | None) -> str:
    """`q<teacher>`, with `-t<N>` when the teacher labelled N tasks of their own (`label_tasks`)."""
    return f"q{teacher}" if label is None else f"q{teacher}-t{label.tasks}"


def label_tasks(suite: str, count: int, proposer) -> LabelSet:
    """Up to `count` tasks of the suite's kind that are neither its training nor its held-out tasks, for the teacher
    to label (`--label-tasks`): builder tasks of the same level at their own seed, or Seal-Tools dev multi-call tasks
    after the 60 the decider trains on. Labelling is offline and cheap next to RL, so an LLM can label far more
    states than the decider's own tasks hold; the decider still trains on its 60 tasks only."""
    from raytool.decider.candidates import CANDIDATES_FILE

    directory = ROOT / suite / f"label-{count}"
    if not (directory / CANDIDATES_FILE).exists():
        decider_bench.write_task_set(suite, "label", count, directory, proposer, skip=60)
    with (directory / "tasks.jsonl").open() as lines:  # Seal-Tools dev may hold fewer than `count`
        return LabelSet(directory, sum(1 for line in lines if line.strip()))


def agreement(fp_dir: Path) -> dict:
    """The teacher audit's figures F_P's fit wrote into fp.json (`raytool.decider.audit`): the shares of labelled
    states whose pi_LLM mode (all of them) and F_P mode (F_P's held-out tasks) are the gold option, the proposer
    order's on all of them, F_P's agreement with the teacher, and the verdict (NaN where the records have no gold)."""
    from raytool.decider.audit import TeacherAudit
    from raytool.tools.files import read_json

    metrics = read_json(fp_dir / "fp.json").get("metrics", {})
    audit = TeacherAudit.of_metrics(metrics)
    return {"teacher_gold_top1": audit.teacher_gold_top1, "fp_gold_top1": audit.fp_gold_top1,
            "fp_teacher_top1": metrics.get("top1_agreement", math.nan),
            "proposer_gold_top1": audit.proposer_gold_top1, "audit": audit.describe(),
            "trusted": audit.trusted}  # fmt: skip


def run(suite, teacher, variant, seed, train, test, fp_dir, args, label: LabelSet | None = None) -> dict:
    """One cached RLlib run (`benchmarks/decider.py`'s loop); unguided runs are shared across teachers."""
    root = None if variant == "unguided" else ROOT / "runs" / teacher_folder(teacher, label)
    training = dict(VARIANTS[variant])
    if training.get("llm_warm_start_states") == "rank":  # the states the teacher labelled (F_P's training data)
        training["llm_warm_start_states"] = str(fp_dir.parent / "rank")
    return decider_bench.run_variant(suite, variant, seed, train, test, fp_dir, args.iterations, args.eval_every,
                                     args.fresh, root=root, training=training)  # fmt: skip


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Per variant: final success mean/std and the steps ratio to unguided's final mean success."""
    base = runs["unguided"]
    target = float(np.mean([r["final"]["success"] for r in base]))
    total = float(np.mean([r["final"]["env_steps"] for r in base]))
    hits = {variant: decider_bench.first_reach(group, target) for variant, group in runs.items()}
    out = {}
    for variant, group in runs.items():
        final = [r["final"]["success"] for r in group]
        hit = hits[variant]
        out[variant] = {
            "success": float(np.mean(final)),
            "std": float(np.std(final)),
            "seeds": len(group),
            "steps_ratio": None if hit is None else hit / total,
            # the target's measure: env steps to unguided's final, over unguided's own (<= 0.6 for q >= 0.6)
            "steps_vs_unguided": None if hit is None or not hits["unguided"] else hit / hits["unguided"],
            "calls": float(np.mean([r["final"]["calls"] for r in group])),
        }
    return out


def plot(results: dict, path: Path) -> bool:
    """Final held-out success vs teacher quality per suite: one line per guided variant, unguided dashed (whether
    there was anything to plot)."""
    from plotting import line_panels

    panels = []
    for suite, by_teacher in results.items():
        if not all(teacher["summary"] for teacher in by_teacher.values()):
            continue  # summaries are read against unguided: without its runs there is nothing to plot
        qs = sorted(t for t in by_teacher if t != "embedded")
        variants = sorted({v for t in qs for v in by_teacher[t]["summary"]} - {"unguided"})
        lines = [{"label": v, "x": [float(q) for q in qs], "y": [by_teacher[q]["summary"][v]["success"] for q in qs]}
                 for v in variants if all(v in by_teacher[q]["summary"] for q in qs)]  # fmt: skip
        unguided = next(iter(by_teacher.values()))["summary"]["unguided"]["success"]
        hlines = [{"label": f"unguided {unguided:.2f}", "y": unguided}]
        if "embedded" in by_teacher and "both" in by_teacher["embedded"]["summary"]:
            value = by_teacher["embedded"]["summary"]["both"]["success"]
            hlines.append({"label": f"embedded teacher, both {value:.2f}", "y": value})
        panels.append({"title": suite, "xlabel": "teacher quality q", "ylabel": "held-out success", "lines": lines,
                       "hlines": hlines})  # fmt: skip
    if panels:
        line_panels(path, panels)
    return bool(panels)


def plot_curves(results: dict, path: Path) -> bool:
    """Seed-mean held-out success vs env steps, a panel per (suite, teacher), a line per variant (unguided's too),
    unguided's final mean dashed: where each curve crosses it is the steps ratio (whether there was anything)."""
    from plotting import line_panels

    panels = []
    for suite, by_teacher in results.items():
        for teacher, result in by_teacher.items():
            if not result["summary"]:
                continue
            lines = []
            for variant, runs in result["runs"].items():
                steps, mean = decider_bench.mean_curve(runs)
                lines.append({"label": f"{variant} ({len(runs)} seeds)", "x": steps, "y": mean})
            target = result["summary"]["unguided"]["success"]
            hlines = [{"label": f"unguided final {target:.3f}", "y": target}]
            panels.append({"title": f"{suite}, teacher {teacher}", "xlabel": "env steps", "ylabel": "held-out success",
                           "lines": lines, "hlines": hlines})  # fmt: skip
    if panels:
        line_panels(path, panels, columns=max(len(by_teacher) for by_teacher in results.values()))  # rows of suites
    return bool(panels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    decider_bench.add_run_arguments(parser)
    parser.add_argument("--teachers", default="0.2,0.4,0.6,0.8,0.95,embedded")
    parser.add_argument("--variants", default="unguided,js,tau,both")
    parser.add_argument("--label-tasks", type=int, default=0,
                        help="synthetic teachers label states of this many tasks of their own (not the decider's "
                        "training tasks); 0: the training tasks, 300 states")  # fmt: skip
    args = parser.parse_args()

    from raytool.tables import format_table

    proposer, seeds = decider_bench.start(args)
    variants = args.variants.split(",")
    tag = f"-t{args.label_tasks}" if args.label_tasks else ""
    results: dict = {}
    rows = []
    for suite in args.suites.split(","):
        train, test = decider_bench.build_suite(suite, proposer)
        results[suite] = {}
        label = label_tasks(suite, args.label_tasks, proposer) if args.label_tasks else None
        for teacher in args.teachers.split(","):
            own = None if teacher == "embedded" else label  # the embedded teacher labels the training tasks
            fp_dir, agree = teacher_fp(suite, teacher, train, own)
            runs = {v: [run(suite, teacher, v, s, train, test, fp_dir, args, own) for s in seeds] for v in variants}
            summary = summarise(runs) if "unguided" in runs else {}
            results[suite][teacher] = {"agreement": agree, "summary": summary, "runs": runs}
            for variant, row in summary.items():
                ratio, versus = row["steps_ratio"], row["steps_vs_unguided"]
                rows.append([
                    suite, teacher, f"{agree['teacher_gold_top1']:.2f}", f"{agree['fp_gold_top1']:.2f}",
                    f"{agree.get('proposer_gold_top1', math.nan):.2f}", "yes" if agree.get("trusted") else "no",
                    variant,
                    f"{row['success']:.3f} ± {row['std']:.3f}", f"{row['calls']:.2f}",
                    "not reached" if ratio is None else f"{ratio:.2f}",  # unguided: its own first crossing
                    "-" if versus is None else f"{versus:.2f}x",
                ])  # fmt: skip
            ROOT.mkdir(parents=True, exist_ok=True)
            (ROOT / f"results{tag}.json").write_text(json.dumps(results, indent=1))
    headers = ["suite", "teacher", "teacher gold@1", "F_P gold@1", "proposer order gold@1", "audit", "variant",
               "held-out success", "calls/task",
               "steps to unguided", "x unguided's steps"]  # fmt: skip
    print(format_table(headers, rows))
    print(f"mean ± std over seeds {seeds}; {args.iterations} iterations x 128 env steps per run")
    print(f"wrote {ROOT / f'results{tag}.json'}")
    if plot(results, ROOT / f"guidance{tag}.png"):
        print(f"wrote {ROOT / f'guidance{tag}.png'}")
    if plot_curves(results, ROOT / f"curves{tag}.png"):
        print(f"wrote {ROOT / f'curves{tag}.png'}")


if __name__ == "__main__":
    main()
