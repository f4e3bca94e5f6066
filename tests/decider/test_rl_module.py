"""`DeciderTorchRLModule` acting: greedy acting is pi's alone; exploring mixes in pi_LLM (F_P) with a share that
decays with the learner's update count and is 0 without F_P or with `llm_exploration=0`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from raytool.decider.config import DeciderConfig
from raytool.decider.rl_module import DeciderTorchRLModule
from raytool.envs.decider_env import ToolDeciderEnv


@pytest.fixture(scope="module")
def env(decider_setup) -> ToolDeciderEnv:
    return ToolDeciderEnv(decider_setup[1])


def _module(decider_setup, env, fp: bool = True, **training) -> DeciderTorchRLModule:
    root, _ = decider_setup
    config = (
        DeciderConfig()
        .training(**training)
        .rl_module(model_config={"fp_path": str(root / "fp") if fp else None, "hidden": 16})
    )
    torch.manual_seed(0)
    spec = RLModuleSpec(module_class=DeciderTorchRLModule, observation_space=env.observation_space,
                        action_space=env.action_space, model_config=config.model_config)  # fmt: skip
    return spec.build()


def _batch(env) -> dict:
    observations = [env.reset(seed=seed)[0] for seed in range(6)]
    mask = np.stack([o["action_mask"] for o in observations])
    mask[0, 1] = 0.0  # one masked candidate: no share of the mixture may reach it
    obs = {"observations": torch.as_tensor(np.stack([o["observations"] for o in observations])),
           "action_mask": torch.as_tensor(mask)}  # fmt: skip
    return {Columns.OBS: obs}


def _probs(module, batch, explore: bool) -> torch.Tensor:
    with torch.no_grad():
        out = module.forward_exploration(batch) if explore else module.forward_inference(batch)
    return torch.softmax(out[Columns.ACTION_DIST_INPUTS], -1)


def test_exploration_is_the_decaying_mixture_with_the_llm_policy(decider_setup, env) -> None:
    module = _module(decider_setup, env, llm_exploration=0.5, llm_exploration_updates=100)
    batch = _batch(env)
    obs, mask = batch[Columns.OBS]["observations"], batch[Columns.OBS]["action_mask"]
    pi = _probs(module, batch, explore=False)
    with torch.no_grad():
        llm = torch.softmax(module.llm_logits(obs, mask), -1)
    assert (llm - pi).abs().max() > 0.05  # the two differ, so the mixture's weights are visible
    for updates, beta in [(0, 0.5), (50, 0.25), (100, 0.0), (400, 0.0)]:
        module.num_updates.fill_(updates)
        assert module.llm_share() == pytest.approx(beta)
        assert torch.allclose(_probs(module, batch, explore=True), (1 - beta) * pi + beta * llm, atol=1e-5)
        assert torch.allclose(_probs(module, batch, explore=False), pi)  # greedy acting never mixes
    module.num_updates.fill_(0)
    assert float(_probs(module, batch, explore=True)[0, 1]) < 1e-6  # a masked action stays masked


def test_a_full_share_explores_with_the_llm_policy_alone(decider_setup, env) -> None:
    module = _module(decider_setup, env, llm_exploration=1.0)
    batch = _batch(env)
    obs, mask = batch[Columns.OBS]["observations"], batch[Columns.OBS]["action_mask"]
    with torch.no_grad():
        llm = torch.softmax(module.llm_logits(obs, mask), -1)
    assert torch.allclose(_probs(module, batch, explore=True), llm, atol=1e-5)


@pytest.mark.parametrize("fp, share", [(True, 0.0), (False, 0.5)])
def test_no_mixture_without_a_share_or_without_f_p(decider_setup, env, fp: bool, share: float) -> None:
    module = _module(decider_setup, env, fp=fp, llm_exploration=share)
    batch = _batch(env)
    assert module.llm_share() == 0.0
    assert torch.allclose(_probs(module, batch, explore=True), _probs(module, batch, explore=False))


def test_the_share_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="llm_exploration"):
        DeciderConfig().training(llm_exploration=1.5).check_guidance()
    with pytest.raises(ValueError, match="llm_exploration"):
        DeciderConfig().training(llm_exploration=0.5, llm_exploration_updates=0).check_guidance()


def test_warm_start_settings_are_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match="llm_warm_start"):
        DeciderConfig().training(llm_warm_start=-1).check_guidance()
    with pytest.raises(ValueError, match="critic_warmup"):
        DeciderConfig().training(critic_warmup=-1).check_guidance()
    with pytest.raises(ValueError, match="lambda1_boost"):
        DeciderConfig().training(lambda1_boost=-1.0).check_guidance()
    with pytest.raises(ValueError, match="lambda1_boost_updates"):
        DeciderConfig().training(lambda1_boost=1.0, lambda1_boost_updates=0).check_guidance()
    with pytest.raises(ValueError, match=f"{tmp_path / 'missing'} is not a directory"):
        DeciderConfig().training(llm_warm_start=10, llm_warm_start_states=str(tmp_path / "missing")).check_guidance()
    DeciderConfig().training(llm_warm_start=10, llm_warm_start_states=str(tmp_path)).check_guidance()
