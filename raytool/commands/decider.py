"""`raytool decider fp | train`: F_P (the policy reconstruction) and the RLlib decider."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
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


def _decider_fp(args: argparse.Namespace) -> int:
    import dataclasses

    from raytool.decider.fp_train import (
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
    metrics = train_policy_reconstruction(records, config, args.out, env=env, sources=args.rank)
    print(metrics_table(metrics))
    print(
        f"{metrics['train_states']:,} train states ({metrics['train_tasks']:,} tasks), {metrics['heldout_states']:,} "
        f"held-out ({metrics['heldout_tasks']:,} tasks); best epoch {metrics['best_epoch']}, "
        f"{metrics['train_seconds']:.1f}s"
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
