"""What several commands share: the teacher from its YAML file, Ray started or joined, one torch thread, the
`--skip-bad` flag, and the proxy agent's checkpoint flags and runtime (`eval agent`, `eval ablation`, `run`)."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path


def teacher_from_file(path: Path | None):
    """The teacher from a YAML file (keys of `TeacherConfig`, optionally under `teacher:`), Ray started if needed."""
    from raytool.teacher.backend import TeacherConfig, make_teacher

    config = TeacherConfig.from_file(path)
    if config.backend == "vllm":
        ray_init(log_to_driver=False)
    return config, make_teacher(config)


def ray_init(log_to_driver: bool = True) -> None:
    """Connect to the cluster in RAY_ADDRESS (set for `ray job submit` jobs), else start a local one of our own."""
    import ray

    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS") or "local", include_dashboard=False, log_to_driver=log_to_driver)


def torch_threads() -> None:
    import torch

    torch.set_num_threads(1)


def skip_bad_argument(parser: argparse.ArgumentParser) -> None:
    help_text = "skip records that cannot be understood (counted by reason) instead of stopping"
    parser.add_argument("--skip-bad", action="store_true", help=help_text)


def agent_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", type=Path, help="main-job output with proxies/proposer/, proxies/decider/ ($RAYTOOL_CACHE/run)"
    )
    parser.add_argument(
        "--proposer",
        type=Path,
        help="proposer checkpoint (default: CHECKPOINT/proxies/proposer, else CHECKPOINT/proposer)",
    )
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
    parser.add_argument("--theta", type=float, default=0.0,
                        help="the proxies' relevance gate: only candidates whose P(needed) reaches it are called, "
                             "none: no call (ProxyConfig.theta; 0: off, the decider alone)")  # fmt: skip
    parser.add_argument("--need", type=float, default=0.0,
                        help="a job without a plan does not stop while a candidate with P(needed) >= need is "
                             "uncalled (ProxyConfig.need; 0: off)")  # fmt: skip
    parser.add_argument("--prior-weight", type=float, default=None,
                        help="the proposer's probabilities as a prior on the decider's tool choice (ProxyConfig."
                             "prior_weight, left out: its default; 0: the decider alone)")  # fmt: skip


def agent_config(args: argparse.Namespace):
    from raytool.agent.agent import AgentConfig
    from raytool.agent.proxy import ProxyConfig
    from raytool.paths import cache_dir
    from raytool.pipeline.proxies import proxy_proposer
    from raytool.planner.planner import PlannerConfig

    root = args.checkpoint or cache_dir() / "run"
    decider = root / "proxies" / "decider"  # the main job's proxy decider; else its whole-task decider
    proxy = ProxyConfig(
        proposer=str(args.proposer or proxy_proposer(root)),  # the proxies' fine-tuned one; else the main one
        decider=str(args.decider or (decider if decider.is_dir() else root / "decider")),
        skills=str(args.skills or ""),
        filler=filler_path(args, root),
        theta=getattr(args, "theta", 0.0),
        need=getattr(args, "need", 0.0),
    )
    if getattr(args, "prior_weight", None) is not None:
        proxy = replace(proxy, prior_weight=args.prior_weight)
    for what, path in (("proposer", proxy.proposer), ("decider", proxy.decider)):
        if not Path(path).is_dir():
            raise FileNotFoundError(f"{path}: no {what} checkpoint (run `raytool train` or pass --{what})")
    segmenter = Path(args.segmenter or root / "segmenter")
    if args.segmenter and not (segmenter / "segmenter.json").exists():
        raise FileNotFoundError(f"{segmenter}: no segmenter checkpoint (run `raytool planner train-segmenter`)")
    found = (segmenter / "segmenter.json").exists()
    planner = PlannerConfig(mode=args.planner, segmenter=str(segmenter) if found else "")
    return AgentConfig(proxy=proxy, planner=planner, parallel=not args.sequential)


def filler_path(args: argparse.Namespace, root: Path) -> str:
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


def agent_runtime(args: argparse.Namespace, baselines: bool = False):
    """(agent config, teacher) with Ray started for the proxy actors. The teacher (a vLLM engine by default: tens of
    seconds to start) only when something asks it: the planner (unless `--planner never`) or a baseline."""
    config = agent_config(args)
    ray_init(log_to_driver=False)
    planner_asks = args.planner == "always" or (args.planner == "auto" and not config.planner.segmenter)
    return config, (teacher_from_file(args.teacher)[1] if baselines or planner_asks else None)
