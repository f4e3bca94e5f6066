"""`raytool filler train`: the argument filler."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    filler = sub.add_parser("filler", help="the argument filler").add_subparsers(title="filler commands")
    ftrain = filler.add_parser("train", help="train the argument filler on the gold calls of dataset directories")
    ftrain.add_argument("--data", required=True, type=Path, nargs="+", help="dataset dirs with gold arguments")
    ftrain.add_argument("--out", required=True, type=Path, help="checkpoint directory (replaced atomically)")
    ftrain.add_argument("--epochs", type=int, help="training epochs (default: FillerTrainConfig's)")
    ftrain.add_argument("--encoder", choices=["minilm", "hashing"], default="minilm")
    ftrain.add_argument("--seed", type=int, default=0)
    ftrain.add_argument("--reader-epochs", type=int, help="span reader fine-tuning epochs, 0 = none (default: 4)")
    ftrain.set_defaults(run=_filler_train)


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
