"""`ToolDeciderEnv` under RLlib: a real algorithm with 2 env runners runs one training iteration."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ENV_NAME, ToolDeciderEnv, register_decider_env


@pytest.mark.slow
@pytest.mark.ray
def test_ppo_trains_one_iteration_with_two_env_runners(ray_local, tmp_path: Path) -> None:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    data = build_tasks(BuildConfig(("cpn",), level=2, num_tasks=20, seed=3, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    env_config = {"tasks": str(tmp_path / "tasks"), "top_p": 5, "max_steps": 5, "feature_cache": str(tmp_path / "f")}
    ToolDeciderEnv(env_config)  # builds the feature cache once, in the driver; runners only load it
    register_decider_env()
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5, rollout_fragment_length=50)
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=1)
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=ActionMaskingTorchRLModule, model_config={"head_fcnet_hiddens": [32]}
            )
        )
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    runners = result["env_runners"]
    assert runners["num_env_steps_sampled"] >= 200
    assert runners["num_episodes"] > 0
    assert "episode_return_mean" in runners
