"""The proposer's training loop on N data-parallel workers with Ray Train's `TorchTrainer` (DDP over gloo).

    result = train_distributed(data, config, out_dir, num_workers=2)

Each worker runs `train.train_proposer` on its shard of the examples (`examples[rank::size]`); gradients
are averaged by DDP; rank 0 validates and its metrics and decisions are broadcast, so every worker stops at
the same epoch and calls `ray.train.report` the same number of times. The final checkpoint is reported by
rank 0 and copied from Ray Train's storage to `out_dir`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raytool.proposer.config import ProposerConfig
from raytool.proposer.train import TrainData, TrainResult, train_proposer


class RayTrainWorld:
    """`train.World` inside a Ray Train worker."""

    def __init__(self) -> None:
        import ray.train

        context = ray.train.get_context()
        self.rank = context.get_world_rank()
        self.size = context.get_world_size()

    def prepare(self, model: Any) -> Any:
        import ray.train.torch

        return ray.train.torch.prepare_model(model, parallel_strategy_kwargs={"find_unused_parameters": False})

    def agree(self, value: Any) -> Any:
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        import ray.train

        checkpoint = ray.train.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        ray.train.report({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, checkpoint=checkpoint)


def _worker_loop(loop_config: dict[str, Any]) -> None:
    world = RayTrainWorld()
    config = ProposerConfig.from_dict(loop_config["config"])
    with tempfile.TemporaryDirectory(prefix="proposer-ckpt-") as tmp:
        out = Path(tmp) / "checkpoint" if world.rank == 0 else None
        log = print if world.rank == 0 else (lambda message: None)
        train_proposer(loop_config["data"], config.replace(threads=loop_config["threads"]), out, log, world)


def train_distributed(
    data: TrainData,
    config: ProposerConfig,
    out_dir: Path,
    num_workers: int = 2,
    cpus_per_worker: float = 1.0,
    storage_path: Path | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train with `num_workers` Ray Train workers (Ray must be initialised); the checkpoint lands in `out_dir`."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from raytool.paths import cache_dir
    from raytool.tools.files import atomic_dir

    threads = max(1, int(cpus_per_worker))
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={"config": config.to_dict(), "data": data, "threads": threads},
        torch_config=TorchConfig(backend="gloo"),
        scaling_config=ScalingConfig(
            num_workers=num_workers, use_gpu=False, resources_per_worker={"CPU": cpus_per_worker}
        ),  # fmt: skip
        run_config=RunConfig(
            name=f"proposer-{Path(out_dir).name}", storage_path=str(storage_path or cache_dir() / "ray_train")
        ),  # fmt: skip
    )
    log(f"[proposer] Ray Train: {num_workers} workers x {cpus_per_worker} CPU")
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"Ray Train finished without a checkpoint (error: {result.error})")
    with atomic_dir(out_dir) as tmp, result.checkpoint.as_directory() as src:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
    return TrainResult(Path(out_dir), dict(result.metrics or {}))
