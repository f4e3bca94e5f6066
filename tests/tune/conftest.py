"""A tiny decider task set (train and held-out) with an F_P checkpoint, and a writer of tiny sweep files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import AGENT_DECIDER_TRAINING

TINY_DECIDER = {
    "iterations": 4, "checkpoint_every": 2, "num_env_runners": 1, "cpus_per_env_runner": 0.5,
    "rollout_fragment_length": 16, "hidden": 16, "training": AGENT_DECIDER_TRAINING,
}  # fmt: skip


@pytest.fixture(scope="session")
def sweep_data(tmp_path_factory) -> Path:
    import torch

    from raytool.decider.candidates import decider_env_config
    from raytool.decider.fp_checkpoint import observation_settings, save_policy_reconstruction
    from raytool.decider.fp_model import PolicyReconstruction
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.envs.decider_env import ToolDeciderEnv

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("sweep_data")
    for split, seed in (("train", 3), ("test", 4)):
        config = BuildConfig(("cpn",), level=2, num_tasks=12, seed=seed, integration_walks=0)
        build_tasks(config, log=lambda _: None).save(root / split)
    env_config = decider_env_config(root / "train", 4, 4)
    env = ToolDeciderEnv(env_config)
    torch.manual_seed(0)
    model = PolicyReconstruction(env.features.dim, 4, width=16, heads=2, layers=1)
    save_policy_reconstruction(model, {"env": observation_settings(env_config)}, root / "fp")
    return root


def write_sweep(path: Path, data: Path, storage: Path, **sections) -> Path:
    """A sweep file over the tiny data: a 3 x 2 grid of lambda1 x lambda2 unless `space` is given."""
    record = {
        "name": path.stem, "storage": str(storage),
        "data": {"tasks": str(data / "train"), "test_tasks": str(data / "test"), "fp": str(data / "fp"),
                 "top_p": 4, "max_steps": 4},
        "decider": dict(TINY_DECIDER),  # a tiny decider (tests/conftest.py's agent budget), 4 iterations
        "space": {"lambda1": {"grid": [0.0, 0.1, 0.5]}, "lambda2": {"grid": [0.0, 0.05]}, "sigma": 0.3},
        "search": {"algorithm": "grid", "max_concurrent": 2},
        "scheduler": {"type": "asha", "grace_period": 2, "reduction_factor": 2, "max_t": 4},
        "eval_every": 2,
        **sections,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(record))
    return path
