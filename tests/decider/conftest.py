"""Shared decider fixtures: a tiny executable task set, its env config and an F_P checkpoint."""

from __future__ import annotations

import pytest
import torch

from raytool.decider.fp_checkpoint import observation_settings, save_policy_reconstruction
from raytool.decider.fp_model import PolicyReconstruction
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv


@pytest.fixture(scope="session")
def decider_setup(tmp_path_factory):
    """A tiny task set, its env config and an F_P checkpoint (random weights: a non-uniform pi_LLM)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("decider")
    data = build_tasks(BuildConfig(("cpn",), level=2, num_tasks=12, seed=3, integration_walks=0), log=lambda _: None)
    data.save(root / "tasks")
    env_config = {"tasks": str(root / "tasks"), "top_p": 4, "max_steps": 4, "feature_cache": str(root / "f")}
    env = ToolDeciderEnv(env_config)  # builds the feature cache once, in the driver; runners only load it
    torch.manual_seed(0)
    model = PolicyReconstruction(env.features.dim, 4, width=16, heads=2, layers=1)
    save_policy_reconstruction(model, {"env": observation_settings(env_config)}, root / "fp")
    return root, env_config
