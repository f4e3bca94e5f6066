"""A tiny but real proxy agent: level-4 requests over the three suites, a proposer trained for one step on them,
a random F_P, and the proxies' decider trained for one RLlib iteration on the requests' sub-tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from raytool.cli import main
from raytool.decider.policy_checkpoint import save_policy_reconstruction
from raytool.decider.policy_model import PolicyReconstruction
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.encoders import make_encoder

TRAIN_SET = ["max_steps=1", "epochs=1", "batch_size=4", "threads=1", "hard_negatives=1", "train_layers=1"]
TRAINING = {"learning_starts": 16, "updates_per_iteration": 1, "train_batch_size": 16}


@pytest.fixture(scope="session")
def agent_kit(ray_local, tmp_path_factory) -> dict[str, Path]:
    from raytool.agent.agent import task_domains
    from raytool.agent.train import subtask_dataset, train_proxy_decider
    from raytool.decider.train import DeciderRunConfig
    from raytool.planner.router import BM25Router
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("agent")
    config = BuildConfig(("cpn", "travel", "finance"), level=4, num_tasks=6, seed=5, integration_walks=0)
    build_tasks(config, log=lambda _: None).save(root / "requests")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAYTOOL_CACHE", str(root / "cache"))
        code = main(["proposer", "train", "--data", str(root / "requests"), "--format", "raytool",
                     "--out", str(root / "proposer"), "--set", *TRAIN_SET])  # fmt: skip
        assert code == 0
        dataset = ToolDataset.load(root / "requests")
        router = BM25Router(task_domains(dataset.tasks, dataset.tools))
        proposer = ToolProposer.load(root / "proposer", threads=1)
        subtask_dataset(dataset, router, proposer, root / "subtasks", k=8, log=lambda _: None)
    dim = make_encoder("hashing-256").dim
    torch.manual_seed(0)
    save_policy_reconstruction(PolicyReconstruction(dim, 4, width=16, heads=2, layers=1), {}, root / "fp")
    run = DeciderRunConfig(iterations=1, rollout_fragment_length=16, hidden=16, training=TRAINING)
    train_proxy_decider(root / "subtasks", root / "fp", run, root / "decider", top_p=4, max_steps=4, log=lambda _: None)
    return {"root": root, "requests": root / "requests", "proposer": root / "proposer", "decider": root / "decider",
            "subtasks": root / "subtasks", "fp": root / "fp"}  # fmt: skip
