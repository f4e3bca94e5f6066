"""The `Decider` RLlib algorithm for real: 2 env runners, guidance metrics, checkpoint and resume."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from raytool.envs.decider_env import ENV_NAME, register_decider_env

GUIDANCE = ("decider/js_to_llm", "decider/kendall_tau_b", "decider/sigma_multiplier", "decider/soft_tau")


def _config(env_config: dict, fp_path: Path):
    from raytool.decider.config import DeciderConfig

    register_decider_env()
    return (
        DeciderConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(num_env_runners=2, num_cpus_per_env_runner=0.5, rollout_fragment_length=32)
        .training(lambda1=0.5, lambda2=0.2, sigma=0.0, learning_starts=64, updates_per_iteration=2, train_batch_size=32)
        .rl_module(model_config={"fp_path": str(fp_path), "hidden": 16})
        .debugging(seed=0)
    )


@pytest.mark.slow
@pytest.mark.ray
def test_train_with_two_env_runners_logs_finite_guidance_metrics(ray_local, decider_setup) -> None:
    root, env_config = decider_setup
    algo = _config(env_config, root / "fp").training(llm_exploration=0.5, llm_exploration_updates=8).build_algo()
    try:
        assert algo.env_runner_group.num_remote_env_runners() == 2
        result = {}
        for _ in range(3):
            result = algo.train()
        # the rollout workers explore with pi_LLM's share at the learner's update count (synced with the weights)
        updates = int(algo.get_module().num_updates)
        shares = algo.env_runner_group.foreach_env_runner(lambda r: r.module.llm_share(), local_env_runner=False)
        assert updates > 0 and shares == [pytest.approx(0.5 * max(0.0, 1 - updates / 8))] * 2, (updates, shares)
    finally:
        algo.stop()
    learner = result["learners"]["default_policy"]
    for key in GUIDANCE:
        assert key in learner, key
        assert math.isfinite(float(learner[key])), (key, learner[key])
    assert learner["decider/js_to_llm"] > 1e-4  # the policy and the random F_P differ: a JS of 0 is a wiring bug
    assert learner["decider/sigma_multiplier"] > 0  # sigma = 0 is always violated: projected ascent must raise nu
    runners = result["env_runners"]
    assert runners["num_env_steps_sampled_lifetime"] >= 3 * 64
    for key in ("decider/success_rate", "decider/calls_per_task", "decider/task_reward"):
        assert math.isfinite(float(runners[key])), key


@pytest.mark.slow
@pytest.mark.ray
def test_resume_continues_from_iteration_k_with_replay_and_multiplier(ray_local, decider_setup, tmp_path) -> None:
    root, env_config = decider_setup
    algo = _config(env_config, root / "fp").training(llm_warm_start=100).build_algo()
    try:
        warm = {}
        for _ in range(3):
            warm |= algo.train().get("decider_warm_start", {})
        # the actor imitated F_P once, when learning started (one iteration has it)
        assert warm["default_policy"]["js_after"] < 0.5 * warm["default_policy"]["js_before"], warm
        checkpoint = algo.save_to_path(str(tmp_path / "ckpt"))
        module = algo.get_module()
        saved_nu = float(module.nu.detach())
        saved_weights = {k: v.clone() for k, v in module.state_dict().items()}
        saved_replay = algo.replay.get_num_timesteps()
        saved_updates = int(module.num_updates)
    finally:
        algo.stop()
    assert saved_replay >= 3 * 64
    assert saved_nu > 0.0  # the multiplier rose from 0 in 3 iterations (sigma = 0 is violated)

    resumed = _config(env_config, root / "fp").training(llm_warm_start=100).build_algo()
    try:
        resumed.restore_from_path(checkpoint)
        assert resumed.training_iteration == 3
        assert resumed.replay.get_num_timesteps() == saved_replay
        module = resumed.get_module()
        assert float(module.nu.detach()) == pytest.approx(saved_nu)
        for key, value in module.state_dict().items():
            assert torch.equal(value, saved_weights[key]), key
        assert int(module.num_updates) == saved_updates > 0  # the target network's update clock
        result = resumed.train()
        assert "decider_warm_start" not in result  # a resumed run has learnt already: no second warm start
        assert resumed.training_iteration == 4
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 4 * 64
        assert resumed.replay.get_num_timesteps() > saved_replay
        assert np.isfinite(result["learners"]["default_policy"]["decider/js_to_llm"])
    finally:
        resumed.stop()


@pytest.mark.slow
@pytest.mark.ray
def test_a_warm_start_on_labelled_states_comes_before_the_first_rollout(ray_local, decider_setup, tmp_path) -> None:
    from raytool.distill.rank import RankConfig, rank_states, sample_states
    from raytool.tools.dataset import ToolDataset
    from tests.distill.fake_teacher import FakeTeacher

    root, env_config = decider_setup
    rank = RankConfig(num_states=40, top_p=env_config["top_p"], max_steps=env_config["max_steps"], shard_size=40)
    states = sample_states(Path(env_config["tasks"]), rank, tmp_path / "features")
    tools = ToolDataset.load(Path(env_config["tasks"])).tools
    rank_states(states, tools, tmp_path / "rank", FakeTeacher(), rank, log=lambda _: None)
    config = _config(env_config, root / "fp").training(
        learning_starts=10_000, llm_warm_start=200, llm_warm_start_lr=1e-2, llm_warm_start_states=str(tmp_path / "rank")
    )  # fmt: skip
    algo = config.build_algo()
    try:
        before = {k: v.clone() for k, v in algo.get_module().pi.state_dict().items()}
        result = algo.train()  # sampled 64 of the 10,000 steps learning waits for: no RL update yet
        module = algo.get_module()
        assert int(module.num_updates) == 0
        warm = result["decider_warm_start"]["default_policy"]  # imitated in this first iteration all the same
        assert warm["js_after"] < 0.5 * warm["js_before"], warm
        learnt = module.pi.state_dict()
        assert any(not torch.equal(learnt[k], before[k]) for k in before)
        # ...and before its rollouts: the runners already hold the imitated actor
        runners = algo.env_runner_group.foreach_env_runner(
            lambda runner: {k: v.clone() for k, v in runner.module.pi.state_dict().items()}, local_env_runner=False
        )  # fmt: skip
        assert len(runners) == 2
        for weights in runners:
            for key, value in learnt.items():
                assert torch.equal(weights[key].cpu(), value.cpu()), key
        assert "decider_warm_start" not in algo.train()  # once
    finally:
        algo.stop()
