"""`DeciderTorchLearner` on hand-built episodes: targets, done masks, n-step tails, target sync, optimizers, wiring.

Each test builds a real learner (`DeciderConfig.build_learner`, no Ray cluster) over a small observation space and
feeds it `SingleAgentEpisode`s written by hand through the real learner connector, so what is checked is what RLlib
hands the loss: the terminated / truncated columns, the next observation, the n-step count.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from raytool.decider.config import DeciderConfig
from raytool.decider.losses import js_divergence, linear_fade
from raytool.decider.replay import DeciderReplayBuffer
from raytool.envs.decider_env import OBS_PER_CANDIDATE, OBS_SCALARS

D, P = 4, 3
OBS_DIM = 2 * D + OBS_SCALARS + P * (D + OBS_PER_CANDIDATE)
OBS_SPACE = gym.spaces.Dict(
    {
        "observations": gym.spaces.Box(-1.0, 1.0, (OBS_DIM,), np.float32),
        "action_mask": gym.spaces.Box(0.0, 1.0, (P + 1,), np.float32),
    }
)
ACT_SPACE = gym.spaces.Discrete(P + 1)
GAMMA = 0.9
TIMESTEPS = {NUM_ENV_STEPS_SAMPLED_LIFETIME: 1000}


def _learner(initial_multiplier: float = 0.0, **training):
    torch.manual_seed(0)
    settings = {"lambda1": 0.0, "lambda2": 0.0, "gamma": GAMMA, "trust": "none"} | training
    model = {"hidden": 8, "initial_multiplier": initial_multiplier}
    config = DeciderConfig().training(**settings).rl_module(model_config=model)
    return config.build_learner(spaces={"default_policy": (OBS_SPACE, ACT_SPACE)})


def _obs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"observations": rng.uniform(-1, 1, OBS_DIM).astype(np.float32), "action_mask": np.ones(P + 1, np.float32)}


def _episode(length: int, rewards, terminated=False, truncated=False, n_step=None, seed=0) -> SingleAgentEpisode:
    n_step = [1] * length if n_step is None else n_step
    return SingleAgentEpisode(
        observations=[_obs(seed + t) for t in range(length + 1)],
        actions=[t % P for t in range(length)],
        rewards=list(rewards),
        extra_model_outputs={"n_step": list(n_step)},
        terminated=terminated,
        truncated=truncated,
        len_lookback_buffer=0,
    )


def _v_target(learner, obs: dict[str, np.ndarray]) -> float:
    module = learner.module["default_policy"].unwrapped()
    with torch.no_grad():
        return float(
            module.v_target(torch.as_tensor(obs["observations"])[None], torch.as_tensor(obs["action_mask"])[None])
        )


def _sharpen(learner) -> None:
    """Scale the policy's weights up: a peaked policy, far (in JS) from the uniform pi_LLM of a module without F_P."""
    with torch.no_grad():
        for param in learner.module["default_policy"].unwrapped().pi.parameters():
            param.mul_(8.0)


def _update(learner, episodes) -> dict:
    return learner.update(episodes=episodes, timesteps=TIMESTEPS)["default_policy"]


def _metric(results: dict, key: str) -> float:
    value = results[key]
    return float(value.peek() if hasattr(value, "peek") else value)


@pytest.mark.parametrize(
    ("terminated", "truncated", "bootstraps"),
    [(False, False, True), (True, False, False), (False, True, False)],
    ids=["ongoing", "terminated", "time-limit"],
)
def test_target_masks_terminated_and_time_limit_ends_and_uses_v_g(terminated, truncated, bootstraps) -> None:
    learner = _learner()
    module = learner.module["default_policy"].unwrapped()
    with torch.no_grad():  # V_g and V differ, so a target built from V would be caught
        for param in module.v.parameters():
            param.add_(0.5)
    episode = _episode(1, [0.25], terminated=terminated, truncated=truncated)
    with torch.no_grad():
        v = float(
            module.v(torch.as_tensor(_obs(1)["observations"])[None], torch.as_tensor(_obs(1)["action_mask"])[None])
        )
    v_g = _v_target(learner, _obs(1))
    assert abs(v_g - v) > 0.1
    expected = 0.25 + (GAMMA * v_g if bootstraps else 0.0)
    assert _metric(_update(learner, [episode]), "q_target_mean") == pytest.approx(expected, abs=1e-5)


def test_time_limit_bootstraps_only_when_asked() -> None:
    learner = _learner(bootstrap_truncated=True)
    v_g = _v_target(learner, _obs(1))
    result = _update(learner, [_episode(1, [0.25], truncated=True)])
    assert _metric(result, "q_target_mean") == pytest.approx(0.25 + GAMMA * v_g, abs=1e-5)


def test_n_step_target_discounts_by_the_steps_actually_summed() -> None:
    learner = _learner(n_step=3)
    v_g = _v_target(learner, _obs(1))
    # one replayed item that summed k = 2 rewards before a chunk ended (not done): gamma^2, not gamma^3
    result = _update(learner, [_episode(1, [0.5], n_step=[2])])
    assert _metric(result, "q_target_mean") == pytest.approx(0.5 + GAMMA**2 * v_g, abs=1e-5)


def test_replay_buffer_records_the_tail_length_at_an_episode_end() -> None:
    buffer = DeciderReplayBuffer(capacity=100)
    buffer.add([_episode(3, [1.0, 2.0, 4.0], terminated=True)])
    seen: dict[int, tuple[int, float, bool]] = {}
    for _ in range(40):
        for item in buffer.sample(num_items=4, n_step=3, gamma=0.5, sample_episodes=True):
            k = int(item.get_extra_model_outputs("n_step")[0])
            seen[int(item.t_started)] = (k, float(item.get_rewards()[0]), item.is_terminated)
    assert seen[0] == (3, pytest.approx(1.0 + 0.5 * 2.0 + 0.25 * 4.0), True)
    assert seen[1] == (2, pytest.approx(2.0 + 0.5 * 4.0), True)  # RLlib's own buffer says (3, ..., False) here
    assert seen[2] == (1, pytest.approx(4.0), True)
    one_step = {int(item.t_started): item.is_terminated for item in buffer.sample(num_items=64, n_step=1, gamma=0.5,
                                                                                   sample_episodes=True)}  # fmt: skip
    assert one_step == {0: False, 1: False, 2: True}  # n = 1 is left to RLlib: its last slice keeps the end flag


@pytest.mark.parametrize("mode", ["polyak", "hard"])
def test_target_network_sync(mode: str) -> None:
    learner = _learner(target_update=mode, tau=0.25, target_update_interval=2)
    module = learner.module["default_policy"].unwrapped()
    episodes = [_episode(3, [0.0, 0.0, 1.0], terminated=True)]
    before = [p.clone() for p in module.v_target.parameters()]
    _update(learner, episodes)
    v_now = [p.clone() for p in module.v.parameters()]
    after = list(module.v_target.parameters())
    if mode == "polyak":  # V_g <- 0.25 V + 0.75 V_g after every update
        for old, new, v in zip(before, after, v_now, strict=True):
            assert torch.allclose(new, 0.25 * v + 0.75 * old, atol=1e-6)
    else:  # untouched after update 1, an exact copy of V after update 2
        assert all(torch.equal(old, new) for old, new in zip(before, after, strict=True))
        _update(learner, episodes)
        assert all(torch.equal(t, v) for t, v in zip(module.v_target.parameters(), module.v.parameters(), strict=True))


def test_each_optimizer_moves_only_its_parameters() -> None:
    episodes = [_episode(3, [0.0, 0.5, 1.0], terminated=True)]
    for frozen, moving in (("actor_lr", ("q", "v")), ("critic_lr", ("pi",))):
        learner = _learner(**{frozen: 0.0}, lambda1=0.5, sigma=0.0, initial_multiplier=0.0)
        module = learner.module["default_policy"].unwrapped()
        before = {name: [p.clone() for p in getattr(module, name).parameters()] for name in ("pi", "q", "v")}
        _update(learner, episodes)
        for name, params in before.items():
            moved = any(not torch.equal(a, b) for a, b in zip(params, getattr(module, name).parameters(), strict=True))
            assert moved == (name in moving), (frozen, name)


def test_critic_warmup_holds_the_actor_for_its_updates_and_then_lets_it_learn() -> None:
    episodes = [_episode(3, [0.0, 0.5, 1.0], terminated=True)]
    learner = _learner(lambda1=0.5, sigma=0.0, critic_warmup=2)
    module = learner.module["default_policy"].unwrapped()
    for update in range(3):
        pi = [p.clone() for p in module.pi.parameters()]
        q = [p.clone() for p in module.q.parameters()]
        nu = float(module.nu.detach())
        _update(learner, episodes)
        pi_moved = any(not torch.equal(a, b) for a, b in zip(pi, module.pi.parameters(), strict=True))
        assert pi_moved == (update >= 2), update  # held for updates 0 and 1, learning from the third
        assert any(not torch.equal(a, b) for a, b in zip(q, module.q.parameters(), strict=True)), update
        assert float(module.nu.detach()) > nu  # the multiplier answers the violation throughout


def test_the_boosted_js_weight_fades_to_lambda1_and_is_the_one_the_actor_uses() -> None:
    assert [0.1 + linear_fade(2.0, u, 4) for u in range(6)] == pytest.approx([2.1, 1.6, 1.1, 0.6, 0.1, 0.1])
    episodes = [_episode(3, [0.0, 0.5, 1.0], terminated=True)]
    quiet = {"sigma": 0.7}  # sigma >= ln 2: no multiplier, the weight is all there is
    boosted = _learner(lambda1=0.1, lambda1_boost=2.0, lambda1_boost_updates=4, **quiet)
    fixed, plain = _learner(lambda1=2.1, **quiet), _learner(lambda1=0.1, **quiet)

    def actor(learner) -> list[torch.Tensor]:
        return [p.detach().clone() for p in learner.module["default_policy"].unwrapped().pi.parameters()]

    weights = []
    for update in range(2):
        results = {name: _update(learner, episodes) for name, learner in
                   (("boosted", boosted), ("fixed", fixed), ("plain", plain))}  # fmt: skip
        weights.append(_metric(results["boosted"], "decider/lambda1"))
        same = all(torch.equal(a, b) for a, b in zip(actor(boosted), actor(fixed), strict=True))
        assert same == (update == 0), update  # at 2.1 for the first update, as a fixed 2.1; then 1.6: apart
        assert not all(torch.equal(a, b) for a, b in zip(actor(boosted), actor(plain), strict=True))
    assert weights == pytest.approx([2.1, 1.6])


def test_multiplier_rises_in_proportion_to_the_violation_and_falls_to_zero_otherwise() -> None:
    # F_P is absent: pi_LLM is uniform, and JS(pi || uniform) > 0 for the random policy; sigma sets the sign
    episodes = [_episode(3, [0.0, 0.5, 1.0], terminated=True)]
    learner = _learner(lambda1=0.1, sigma=0.0, multiplier_lr=2.0)
    _sharpen(learner)
    module = learner.module["default_policy"].unwrapped()
    result = _update(learner, episodes)
    js = _metric(result, "decider/js_to_llm")
    assert js > 0.05
    assert float(module.nu.detach()) == pytest.approx(2.0 * js, rel=1e-3)  # nu = 0 + lr * (E[JS] - 0)

    learner = _learner(lambda1=0.1, sigma=0.6, multiplier_lr=2.0, initial_multiplier=0.5)
    module = learner.module["default_policy"].unwrapped()
    _update(learner, episodes)
    assert float(module.nu.detach()) == 0.0  # 0.5 + 2 * (JS - 0.6) < 0, projected onto nu >= 0


def test_multiplier_recovers_within_a_few_updates_after_a_long_slack_phase() -> None:
    """The old log-space multiplier sat at ~1e-7 after 40 slack iterations and needed as many to come back."""
    episodes = [_episode(3, [0.0, 0.5, 1.0], terminated=True)]
    learner = _learner(lambda1=0.1, sigma=0.6)
    _sharpen(learner)
    module = learner.module["default_policy"].unwrapped()
    for _ in range(50):
        _update(learner, episodes)
    assert float(module.nu.detach()) == 0.0
    learner.config.sigma = 0.0  # the constraint is now violated by E[JS]
    js = []
    for _ in range(3):
        js.append(_metric(_update(learner, episodes), "decider/js_to_llm"))
    assert float(module.nu.detach()) == pytest.approx(learner.config.multiplier_lr * sum(js), rel=1e-3)


@pytest.mark.parametrize("guide_stop", [False, True])
def test_guide_stop_decides_whether_stop_enters_the_js(guide_stop: bool) -> None:
    learner = _learner(lambda1=0.1, guide_stop=guide_stop)
    module = learner.module["default_policy"].unwrapped()
    batch_obs = torch.as_tensor(np.stack([_obs(s)["observations"] for s in range(4)]))
    mask = torch.ones(4, P + 1)
    with torch.no_grad():
        logits = module.pi(batch_obs, mask)
    guided = mask.bool().clone()
    guided[:, -1] = guide_stop  # without guide_stop, both distributions are renormalised over the candidates
    expected = js_divergence(logits, torch.zeros_like(logits), guided)
    episodes = [_episode(4, [0.0] * 4, terminated=True, seed=0)]
    result = _update(learner, episodes)
    assert _metric(result, "decider/js_to_llm") == pytest.approx(float(expected.mean()), rel=1e-4)


@pytest.mark.parametrize("guide_stop", [False, True])
def test_warm_start_fits_the_actor_alone_to_the_llm_policy(guide_stop: bool) -> None:
    learner = _learner(guide_stop=guide_stop)
    _sharpen(learner)  # a peaked policy, far from the uniform pi_LLM
    module = learner.module["default_policy"].unwrapped()
    states = np.stack([_obs(s)["observations"] for s in range(64)])
    masks = np.ones((64, P + 1), np.float32)
    masks[::3, 1] = 0.0  # some states with a masked candidate
    others = {name: [p.clone() for p in getattr(module, name).parameters()] for name in ("q", "q_ref", "v", "v_target")}
    stats = learner.imitate_llm(states, masks, steps=1000, lr=3e-2, batch_size=32)["default_policy"]
    assert stats["js_before"] > 0.1 and stats["js_after"] < 0.1 * stats["js_before"], stats
    for name, params in others.items():  # the critic, the referee and the values are untouched
        assert all(torch.equal(a, b) for a, b in zip(params, getattr(module, name).parameters(), strict=True)), name
    assert float(module.nu.detach()) == 0.0 and int(module.num_updates) == 0
    with torch.no_grad():
        probs = torch.softmax(module.pi(torch.as_tensor(states), torch.as_tensor(masks)), -1)
    candidates = probs[:, :P] / probs[:, :P].sum(-1, keepdim=True)
    assert float((candidates[1::3] - 1.0 / P).abs().mean()) < 0.05  # near-uniform among the candidates, as pi_LLM
    stop_gap = float((probs[1::3, -1] - 1.0 / (P + 1)).abs().mean())
    assert stop_gap < 0.05 if guide_stop else stop_gap > 0.1  # STOP follows pi_LLM only with guide_stop


def test_warm_start_is_skipped_once_learning_has_begun() -> None:
    learner = _learner()
    _update(learner, [_episode(3, [0.0, 0.5, 1.0], terminated=True)])
    module = learner.module["default_policy"].unwrapped()
    before = [p.clone() for p in module.pi.parameters()]
    states = np.stack([_obs(s)["observations"] for s in range(8)])
    assert learner.imitate_llm(states, np.ones((8, P + 1), np.float32), steps=50, lr=1e-2, batch_size=8) == {}
    assert all(torch.equal(a, b) for a, b in zip(before, module.pi.parameters(), strict=True))


def test_sigma_at_ln2_switches_the_multiplier_off() -> None:
    learner = _learner(lambda1=0.1, sigma=math.log(2), initial_multiplier=3.0)
    assert _metric(_update(learner, [_episode(2, [0.0, 1.0], terminated=True)]), "decider/sigma_multiplier") == 0.0


def _referee_disagrees(learner) -> None:
    """pi := a sharpened copy of Q, so E_pi[Q] > E_uniform[Q] on every state (the guided-Q filter trusts the uniform
    pi_LLM nowhere); Q_ref's output layers zeroed, so every action ties under Q_ref (its filter trusts everywhere)."""
    module = learner.module["default_policy"].unwrapped()
    with torch.no_grad():
        module.pi.load_state_dict(module.q.state_dict())
        for head in (module.pi.candidate[-1], module.pi.stop[-1]):
            head.weight.mul_(50.0)
        for head in (module.q_ref.candidate[-1], module.q_ref.stop[-1]):
            head.weight.zero_()
            head.bias.zero_()


def test_referee_is_trained_on_the_bellman_error_alone_and_decides_the_trust() -> None:
    """trust="referee": Q_ref moves with the critic's optimizer on the Bellman error only (the Kendall term's
    gradient never reaches it), and the trust is the Q-filter judged by Q_ref, not by the guided Q."""
    episodes = [_episode(4, [0.0, 0.0, 0.5, 1.0], terminated=True)]
    learner = _learner(lambda1=0.1, lambda2=5.0, trust="referee")
    _referee_disagrees(learner)
    module = learner.module["default_policy"].unwrapped()
    before = [p.clone() for p in module.q_ref.parameters()]
    result = _update(learner, episodes)
    assert _metric(result, "decider/trust") == 1.0  # Q_ref ties every action: pi_LLM is never rated below pi
    assert _metric(result, "referee_loss") > 0.0
    assert any(not torch.equal(a, b) for a, b in zip(before, module.q_ref.parameters(), strict=True))

    judged_by_q = _learner(lambda1=0.1, lambda2=5.0, trust="q_filter")
    _referee_disagrees(judged_by_q)
    assert _metric(_update(judged_by_q, episodes), "decider/trust") == 0.0  # the guided Q rates pi above pi_LLM

    # the same update without the Kendall term moves Q_ref identically: it sees the Bellman error alone
    plain = _learner(lambda1=0.1, lambda2=0.0, trust="referee")
    _referee_disagrees(plain)
    _update(plain, episodes)
    plain_module = plain.module["default_policy"].unwrapped()
    for a, b in zip(module.q_ref.parameters(), plain_module.q_ref.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_without_referee_trust_the_referee_is_left_untouched() -> None:
    learner = _learner(lambda1=0.1, lambda2=0.01, trust="q_filter")
    module = learner.module["default_policy"].unwrapped()
    before = [p.clone() for p in module.q_ref.parameters()]
    result = _update(learner, [_episode(3, [0.0, 0.5, 1.0], terminated=True)])
    assert _metric(result, "referee_loss") == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, module.q_ref.parameters(), strict=True))
