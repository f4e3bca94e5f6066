"""Analytic tests of the decider's objectives (`raytool/decider/losses.py`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from raytool.decider.losses import (
    actor_loss,
    bellman_target,
    critic_loss,
    js_divergence,
    kendall_tau_b,
    masked_log_softmax,
    multiplier_loss,
    soft_kendall_tau,
)

torch.manual_seed(0)


def test_js_is_zero_for_identical_inputs_and_symmetric() -> None:
    a, b = torch.randn(6, 5), torch.randn(6, 5)
    assert torch.allclose(js_divergence(a, a), torch.zeros(6), atol=1e-6)
    assert torch.allclose(js_divergence(a, b), js_divergence(b, a), atol=1e-6)
    assert (js_divergence(a, b) > 0).all()


def test_js_matches_the_closed_form_and_is_bounded_by_ln2() -> None:
    p, q = torch.tensor([0.7, 0.2, 0.1]), torch.tensor([0.1, 0.3, 0.6])
    m = (p + q) / 2
    expected = 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()
    assert js_divergence(p.log()[None], q.log()[None])[0].item() == pytest.approx(expected.item(), abs=1e-6)
    disjoint = js_divergence(torch.tensor([[50.0, -50.0]]), torch.tensor([[-50.0, 50.0]]))
    assert disjoint.item() == pytest.approx(math.log(2), abs=1e-5)
    assert (js_divergence(torch.randn(100, 7) * 10, torch.randn(100, 7) * 10) <= math.log(2) + 1e-6).all()


def test_js_is_finite_with_masked_actions_and_ignores_them() -> None:
    mask = torch.tensor([[True, True, False, False]])
    a = torch.tensor([[1.0, 0.0, 30.0, -30.0]])
    b = torch.tensor([[1.0, 0.0, -30.0, 30.0]])  # differs only where masked
    js = js_divergence(a, b, mask)
    assert torch.isfinite(js).all() and js.item() == pytest.approx(0.0, abs=1e-6)
    a.requires_grad_(True)
    js_divergence(a, torch.tensor([[0.0, 2.0, 0.0, 0.0]]), mask).sum().backward()
    assert torch.isfinite(a.grad).all() and a.grad[0, 2:].abs().max() == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_soft_tau_approaches_scipy_tau_b_as_temperature_falls(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, s = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))  # no ties: tau-b = tau-a
    mask = np.ones((4, 6), dtype=bool)
    exact = np.mean([kendalltau(q[i], s[i]).statistic for i in range(4)])
    errors = [
        abs(soft_kendall_tau(torch.tensor(q), torch.tensor(s), torch.tensor(mask), t).mean().item() - exact)
        for t in (1.0, 0.1, 0.001)
    ]
    assert errors[0] > errors[2] and errors[2] < 1e-6
    assert kendall_tau_b(q, s, mask) == pytest.approx(exact)


def test_soft_tau_respects_masks_and_ties() -> None:
    q = torch.tensor([[3.0, 2.0, 1.0, 100.0]])
    s = torch.tensor([[3.0, 2.0, 1.0, -100.0]])  # the masked 4th candidate would flip three pairs
    mask = torch.tensor([[True, True, True, False]])
    assert soft_kendall_tau(q, s, mask, 1e-4).item() == pytest.approx(1.0)
    tied = torch.tensor([[1.0, 1.0, 1.0, 1.0]])  # the LLM ties everything: no pair counts, tau 0 (not NaN)
    assert soft_kendall_tau(q, tied, mask, 0.1).item() == 0.0


def test_multiplier_step_is_proportional_to_the_violation() -> None:
    for mean_js, sigma in ((0.5, 0.1), (0.35, 0.3), (0.01, 0.3)):
        nu = torch.tensor(1.0, requires_grad=True)
        optimizer = torch.optim.SGD([nu], lr=0.5)
        multiplier_loss(nu, torch.tensor(mean_js), sigma).backward()
        optimizer.step()
        assert nu.item() == pytest.approx(1.0 + 0.5 * (mean_js - sigma))  # up under violation, down under slack


def test_bellman_target_masks_terminal_and_time_limit_ends_and_discounts_by_k() -> None:
    rewards, v_next = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5]), torch.full((5,), 2.0)
    terminated = torch.tensor([False, True, False, False, False])
    truncated = torch.tensor([False, False, True, False, False])
    n_step = torch.tensor([1, 1, 1, 3, 2])
    y = bellman_target(rewards, v_next, terminated, truncated, n_step, gamma=0.5)
    assert y.tolist() == pytest.approx([1.0 + 0.5 * 2.0, 1.0, 1.0, 1.0 + 0.125 * 2.0, 0.5 + 0.25 * 2.0])
    y = bellman_target(rewards, v_next, terminated, truncated, n_step, gamma=0.5, bootstrap_truncated=True)
    assert y[2].item() == pytest.approx(2.0)  # a time limit the observation does not show: bootstrapped


def test_soft_tau_acts_on_order_at_the_default_temperature() -> None:
    """At T = 0.1 a pair already ordered like the LLM by a clear gap gets (almost) no pull, a tied or misordered
    pair within a few T gets a strong one; at T = 1 the ordered pair is pulled apart nearly as hard as a tied one."""
    from raytool.decider.config import DeciderConfig
    from raytool.decider.losses import KENDALL_TEMPERATURE

    assert DeciderConfig().tau_temperature == KENDALL_TEMPERATURE == 0.1
    llm, mask = torch.tensor([[1.0, 0.0]]), torch.ones(1, 2, dtype=torch.bool)

    def pull(gap: float, temperature: float) -> float:
        q = torch.tensor([[gap, 0.0]], requires_grad=True)
        soft_kendall_tau(q, llm, mask, temperature).sum().backward()
        return q.grad[0, 0].item()

    tied, ordered, misordered = pull(0.0, 0.1), pull(0.5, 0.1), pull(-0.1, 0.1)
    assert ordered < 0.01 * tied and misordered > 0.3 * tied > 0
    assert pull(0.5, 1.0) > 0.7 * pull(0.0, 1.0)  # T = 1: a scale pull


def test_actor_gradients_reach_only_the_policy_logits() -> None:
    logits = torch.randn(4, 5, requires_grad=True)
    q = torch.randn(4, 5, requires_grad=True)
    llm = torch.randn(4, 5, requires_grad=True)
    nu = torch.tensor(2.0, requires_grad=True)
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[:, -1] = False
    loss, js = actor_loss(logits, q, llm, mask, lambda1=0.5, multiplier=nu)
    loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert q.grad is None and llm.grad is None and nu.grad is None
    assert logits.grad[:, -1].abs().max() < 1e-6  # a masked action gets no gradient
    assert js.shape == (4,)


def test_actor_prefers_high_q_without_guidance_and_the_llm_with_it() -> None:
    q = torch.tensor([[1.0, 0.0]])
    llm = torch.tensor([[0.0, 5.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    for lambda1, best in ((0.0, 0), (50.0, 1)):
        logits = torch.zeros(1, 2, requires_grad=True)
        optimizer = torch.optim.SGD([logits], lr=0.5)
        for _ in range(200):
            optimizer.zero_grad()
            actor_loss(logits, q, llm, mask, lambda1, torch.tensor(0.0), alpha_entropy=0.1)[0].backward()
            optimizer.step()
        assert masked_log_softmax(logits, mask).argmax().item() == best


def test_critic_loss_bellman_and_ranking_terms() -> None:
    q_values = torch.tensor([[2.0, 1.0, 0.0]], requires_grad=True)
    target = torch.tensor([1.5], requires_grad=True)
    mask = torch.ones(1, 3, dtype=torch.bool)
    llm = torch.tensor([[0.0, 1.0, 2.0]])  # the reverse order: tau near -1
    loss, tau = critic_loss(q_values[:, 0], target, q_values, llm, mask, lambda2=1.0, temperature=0.01)
    assert tau.item() == pytest.approx(-1.0, abs=1e-3)
    assert loss.item() == pytest.approx(0.125 + 1.0, abs=1e-3)  # huber(0.5) = 0.5 * 0.5^2, minus lambda2 * tau
    loss.backward()
    assert target.grad is None and torch.isfinite(q_values.grad).all()


def test_vectorised_tau_b_equals_scipy_with_ties_and_masks() -> None:
    rng = np.random.default_rng(7)
    q = rng.integers(0, 3, size=(50, 6)).astype(float)  # many ties on both sides
    s = rng.integers(0, 3, size=(50, 6)).astype(float)
    mask = rng.random((50, 6)) > 0.3
    expected = []
    for i in range(50):
        if mask[i].sum() >= 2:
            tau = kendalltau(q[i][mask[i]], s[i][mask[i]]).statistic
            if np.isfinite(tau):
                expected.append(tau)
    assert kendall_tau_b(q, s, mask) == pytest.approx(np.mean(expected), abs=1e-12)
    assert kendall_tau_b(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3), bool)) == 0.0  # all tied: undefined


def test_guidance_restricted_to_candidates_ignores_stop() -> None:
    # policy and LLM agree on the candidates (first three actions) and differ only on STOP (the last)
    logits = torch.tensor([[1.0, 0.0, -1.0, 3.0]], requires_grad=True)
    llm = torch.tensor([[1.0, 0.0, -1.0, -5.0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    tools = mask.clone()
    tools[:, -1] = False
    q = torch.zeros(1, 4)
    _, js_all = actor_loss(logits, q, llm, mask, 1.0, torch.tensor(0.0))
    loss, js_tools = actor_loss(logits, q, llm, mask, 1.0, torch.tensor(0.0), guided=tools)
    assert js_all.item() > 0.1 and js_tools.item() == pytest.approx(0.0, abs=1e-7)
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_q_filter_trusts_the_llm_only_where_the_critic_rates_it_at_least_as_high() -> None:
    from raytool.decider.losses import q_filter

    q = torch.tensor([[1.0, 0.0, 0.0, 9.0], [1.0, 0.0, 0.0, 9.0]])  # STOP (last) is not guided: its Q is ignored
    llm = torch.tensor([[5.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]])  # the LLM prefers the best / a poor tool
    policy = torch.zeros(2, 4)  # uniform over the candidates
    guided = torch.tensor([[True, True, True, False]]).expand(2, -1)
    assert q_filter(q, llm, policy, guided).tolist() == [1.0, 0.0]
    # the weight reaches the JS term per state: an untrusted state adds no guidance gradient
    logits = torch.zeros(2, 4, requires_grad=True)
    loss, _ = actor_loss(logits, torch.zeros(2, 4), llm, torch.ones(2, 4, dtype=torch.bool), 1.0, torch.tensor(0.0),
                         guided=guided, trust=torch.tensor([1.0, 0.0]))  # fmt: skip
    loss.backward()
    assert logits.grad[0].abs().sum() > 0 and logits.grad[1].abs().sum() == 0
