"""Plan accuracy of the decompositions on the hand-written natural test set and its templated twins.

    python benchmarks/planner.py [--segmenter DIR] [--teacher] [--json OUT]

Planners (domains always from the main job's proposer router, as in the agent):

    rule        sentences and their "step k" references (`raytool.planner.rules`), the fallback today
    segmenter   the distilled segmenter's sub-tasks and dependencies (`raytool.planner.segmenter`); trained first
                into $RAYTOOL_CACHE/bench/planner/segmenter when --segmenter is not given
    teacher     the embedded teacher's decomposition constrained to its JSON Schema (vLLM structured outputs), with
                the usability checks (--teacher: a vLLM engine)
    teacher-free  the same teacher generating freely after the answer's JSON prefix (before structured outputs)

Scores: `raytool.evaluation.plan_metrics` (segmentation P/R/F1, domain and dependency accuracy, plan exact)
averaged over the requests, and the plan-source counts for the teacher (how often its answer was usable).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from raytool.envs.natural import load_gold_plans, write_natural
from raytool.evaluation.plan_metrics import plan_scores
from raytool.paths import cache_dir
from raytool.planner.planner import rule_plan, segmenter_plan
from raytool.tables import format_table
from raytool.tools.dataset import ToolDataset

METRICS = ("segmentation_f1", "domain_accuracy", "dependency_accuracy", "plan_exact")


def teacher_plans(teacher, router, pools, queries: list[str], structured: bool):
    """(plans, plan-source counts) of the teacher's decomposition."""
    from raytool.planner.planner import PlannerConfig, plan_episode
    from raytool.teacher.lockstep import drive

    descriptions = {d: "tools such as " + ", ".join(s.name for s in tools[:6]) for d, tools in pools.items()}
    config = PlannerConfig(mode="always", structured=structured)
    outcomes, _ = drive([plan_episode(q, descriptions, router, config) for q in queries], teacher, log=lambda _: None)
    sources: dict[str, int] = {}
    for plan in outcomes:
        key = plan.source if plan.source == "llm" else f"{plan.source}: {plan.failure}"
        sources[key] = sources.get(key, 0) + 1
    return [p.subtasks for p in outcomes], sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segmenter", type=Path, help="a trained segmenter (default: train one into the cache)")
    parser.add_argument("--teacher", action="store_true", help="also the embedded teacher's decomposition (vLLM)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    import torch

    from raytool.planner.domain_router import ProposerDomainRouter, domain_pools
    from raytool.planner.segmenter import Segmenter
    from raytool.planner.segmenter_train import train_segmenter
    from raytool.proposer.proposer import ToolProposer

    torch.set_num_threads(1)
    seg_dir = args.segmenter or cache_dir() / "bench" / "planner" / "segmenter"
    if not (seg_dir / "segmenter.json").exists():
        print(f"training the segmenter into {seg_dir}", flush=True)
        train_segmenter(seg_dir)
    segmenter = Segmenter.load(seg_dir)
    teacher = None
    if args.teacher:
        from raytool.teacher.backend import TeacherConfig, make_teacher

        teacher = make_teacher(TeacherConfig())
    work = Path(tempfile.mkdtemp())
    results, rows = {}, []
    for name, directory in zip(("natural", "templated"), write_natural(work), strict=True):
        dataset = ToolDataset.load(directory)
        gold = load_gold_plans(directory)
        pools = domain_pools(list(dataset.tools.values()), ["cpn", "finance", "travel"])
        router = ProposerDomainRouter(pools, ToolProposer.load(cache_dir() / "run" / "proposer", threads=1))
        queries = [t.query for t in dataset.tasks]
        planners: dict[str, tuple[list, float, dict]] = {}
        start = time.perf_counter()
        planners["rule"] = ([rule_plan(q, router, "").subtasks for q in queries], time.perf_counter() - start, {})
        start = time.perf_counter()
        plans = [segmenter_plan(q, segmenter, router).subtasks for q in queries]  # the agent's path
        planners["segmenter"] = (plans, time.perf_counter() - start, {})
        for name_, structured in (("teacher", True), ("teacher-free", False)) if teacher else ():
            start = time.perf_counter()
            plans, sources = teacher_plans(teacher, router, pools, queries, structured)
            planners[name_] = (plans, time.perf_counter() - start, sources)
        results[name] = {}
        for planner, (plans, seconds, sources) in planners.items():
            scores = [plan_scores(p, gold[t.id]) for p, t in zip(plans, dataset.tasks, strict=True)]
            mean = {m: float(np.mean([s[m] for s in scores])) for m in METRICS}
            results[name][planner] = mean | {"ms_per_request": 1000 * seconds / len(queries), "sources": sources}
            rows.append([name, planner, *(f"{mean[m]:.3f}" for m in METRICS), f"{1000 * seconds / len(queries):.1f}",
                         ", ".join(f"{k} {v}" for k, v in sources.items())])  # fmt: skip
    if teacher is not None:
        teacher.close()
    print(format_table(["requests", "planner", *METRICS, "ms / request", "plan sources"], rows))
    print(f"{len(queries)} requests per set; segmenter {seg_dir}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
