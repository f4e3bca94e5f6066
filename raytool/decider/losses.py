"""The decider's objectives as pure functions (tensors in, tensors out; no Ray). Shapes: B states, A candidates.

Masked candidates (`mask` False) never receive probability: their logits are set to a large negative number
before any softmax and their terms are zeroed explicitly, so every quantity and gradient stays finite.

    JS(p || q)   = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2, in nats (0 <= JS <= ln 2)
    actor        = E_s[ sum_a pi(a|s) (alpha_ent log pi(a|s) - Q(s,a)) ] + (lambda1 + nu) E_s[JS(pi || pi_LLM)]
    multiplier   : loss_nu = -nu * (E[JS] - sigma).detach(), nu >= 0   (projected gradient ascent on nu itself: each
                   step moves nu by lr * (E[JS] - sigma), in proportion to the violation, and clips it at 0)
    target       : y = R^(k) + gamma^k (1 - done) V_g(s_{t+k}),  k = the transitions actually summed (<= n_step),
                   done = terminated, or truncated by the env's own (observed) step limit
    critic       = E[ huber(Q(s,a) - y) ] - lambda2 * soft_tau(Q(s,.), llm_scores)
    soft_tau     = sum_{i<j} tanh((Q_i - Q_j) / T) sign(l_i - l_j) / #pairs      (smooth Kendall-tau surrogate)
    L_FP         = -E_s[ sum_a pi_LLM(a|s) log F_P(a|s) ]                           (policy reconstruction)
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

MASKED_LOGIT = -1e9
KENDALL_TEMPERATURE = 0.1  # T of the smooth Kendall tau: Q gaps beyond ~3T are left to the Bellman error (see below)


def guided_actions(allowed: torch.Tensor, guide_stop: bool) -> torch.Tensor:
    """The actions the LLM guidance compares (bool (B, p + 1)): the allowed candidates, and STOP (last) only with
    `guide_stop` (learner.py: why STOP is left out by default)."""
    guided = allowed.clone()
    if not guide_stop:
        guided[:, -1] = False
    return guided


def linear_fade(start: float, updates: int, horizon: int) -> float:
    """`start` falling linearly to 0 over `horizon` learner updates: the teacher's share of the behaviour policy
    (`llm_exploration`) and the extra JS weight (`lambda1_boost`) after `updates` updates."""
    return start * max(0.0, 1.0 - updates / horizon)


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log softmax over the unmasked candidates; masked entries get a very negative log-probability. (B, A)."""
    return F.log_softmax(logits.masked_fill(~mask, MASKED_LOGIT), dim=-1)


def js_divergence(logits_p: torch.Tensor, logits_q: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """JS(p || q) per row in nats; p, q = softmax of the logits over unmasked actions. (B, A) -> (B,)."""
    mask = torch.ones_like(logits_p, dtype=torch.bool) if mask is None else mask
    log_p, log_q = masked_log_softmax(logits_p, mask), masked_log_softmax(logits_q, mask)
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2.0)  # m = (p + q) / 2
    # KL in log space: p (log p - log m) is finite everywhere (log p is never -inf here); masked actions are
    # zeroed out explicitly, which also keeps NaN out of their gradients (xlogy's gradient at p = 0 is -inf * 0)
    kl_pm = (log_p.exp() * (log_p - log_m)).masked_fill(~mask, 0.0).sum(-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).masked_fill(~mask, 0.0).sum(-1)
    return (0.5 * (kl_pm + kl_qm)).clamp(min=0.0)  # rounding can dip a hair below 0


def soft_kendall_tau(q_values: torch.Tensor, llm_scores: torch.Tensor, mask: torch.Tensor, temperature: float):
    """Smooth Kendall-tau surrogate per row, in [-1, 1]. q_values, llm_scores (B, A), mask (B, A) -> (B,).

    Deliberate deviation from tau-b: sign(Q_i - Q_j) is replaced by tanh((Q_i - Q_j) / T) so that gradients
    reach Q; as T -> 0 it approaches tau-a over the pairs the LLM does not tie (tau-b when there are no ties).
    The LLM's scores are a target: detached.

    T sets what the term acts on. Its gradient per pair is sech^2(dQ / T) / T: with T well below the Q gaps
    that matter (rewards are F1 differences in [-1, 1]; T = 0.1 by default) it pulls pairs the critic holds
    within ~T of each other into the LLM's order and leaves pairs it separates by more than ~3T to the Bellman
    error (sech^2(3) = 0.01): a tie-breaker on order. At T = 1 tanh is nearly linear over those gaps and the
    gradient on an already well-ordered pair is as large as on a tied one: it widens gaps without end (a pull
    on scale, not on order).
    """
    llm_scores = llm_scores.detach()
    dq = q_values.unsqueeze(-1) - q_values.unsqueeze(-2)  # (B, A, A): Q_i - Q_j
    dl = torch.sign(llm_scores.unsqueeze(-1) - llm_scores.unsqueeze(-2))
    upper = torch.triu(torch.ones_like(dq, dtype=torch.bool), diagonal=1)
    pairs = upper & mask.unsqueeze(-1) & mask.unsqueeze(-2) & (dl != 0)  # valid, LLM-ordered pairs i < j
    agree = (torch.tanh(dq / temperature) * dl * pairs).sum((-1, -2))
    return agree / pairs.sum((-1, -2)).clamp(min=1)


def kendall_tau_b(q_values: np.ndarray, llm_scores: np.ndarray, mask: np.ndarray) -> float:
    """Mean over rows of Kendall's tau-b between Q and the LLM's scores on the unmasked candidates (logged only).

    tau_b = sum_{i<j} sign(x_i - x_j) sign(y_i - y_j) / sqrt((n0 - n_x)(n0 - n_y)), n0 pairs, n_x / n_y pairs
    tied in x / y: scipy's `kendalltau` (variant b), vectorised over rows (it runs on every learner update).
    Rows with fewer than 2 candidates or an undefined tau (all tied) are skipped; 0.0 when none is left.
    """
    q, s, m = np.asarray(q_values, float), np.asarray(llm_scores, float), np.asarray(mask, bool)
    upper = np.triu(np.ones((q.shape[1], q.shape[1]), dtype=bool), k=1)
    pairs = upper & m[:, :, None] & m[:, None, :]
    sx = np.sign(q[:, :, None] - q[:, None, :]) * pairs
    sy = np.sign(s[:, :, None] - s[:, None, :]) * pairs
    n0 = pairs.sum((1, 2))
    denom = np.sqrt((n0 - (pairs & (sx == 0)).sum((1, 2))) * (n0 - (pairs & (sy == 0)).sum((1, 2))))
    valid = denom > 0
    if not valid.any():
        return 0.0
    return float(((sx * sy).sum((1, 2))[valid] / denom[valid]).mean())


def actor_loss(
    logits: torch.Tensor,
    q_values: torch.Tensor,
    llm_logits: torch.Tensor,
    mask: torch.Tensor,
    lambda1: float,
    multiplier: torch.Tensor,
    alpha_entropy: float = 0.0,
    guided: torch.Tensor | None = None,
    trust: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, JS per row). logits, q_values, llm_logits, mask (B, A); multiplier: the Lagrange multiplier nu.

    Expected over pi: soft-Q objective alpha_ent log pi - Q; Q, pi_LLM and nu are detached (the actor moves pi only).
    guided (B, A): the actions JS compares, both distributions renormalised over them (default: `mask`).
    trust (B,): per-state weight of the JS term (default 1; see `q_filter`).
    """
    log_pi = masked_log_softmax(logits, mask)
    pi = log_pi.exp()
    policy_term = (pi * (alpha_entropy * log_pi - q_values.detach())).masked_fill(~mask, 0.0).sum(-1)
    js = js_divergence(logits, llm_logits.detach(), mask if guided is None else guided)
    weight = torch.ones_like(js) if trust is None else trust.detach()
    loss = (policy_term + (lambda1 + multiplier.detach()) * weight * js).mean()
    return loss, js


def q_filter(q_values: torch.Tensor, llm_logits: torch.Tensor, logits: torch.Tensor, guided: torch.Tensor):
    """Per-state trust in the LLM: 1 where E_{a~pi_LLM}[Q(s,a)] >= E_{a~pi}[Q(s,a)], else 0. (B, A) each -> (B,).

    Both distributions are renormalised over the guided actions. The Q-filter of learning from demonstrations
    (Nair et al. 2018, "Overcoming exploration in RL with demonstrations": imitate only where the critic rates the
    demonstrator's action above the policy's) applied to the teacher's distribution: guidance acts where the
    critic, trained on the verifiable reward, says following the teacher would do at least as well as the policy,
    and falls away where the policy has learnt better than the teacher. Everything is detached.
    """
    q = q_values.detach().masked_fill(~guided, 0.0)
    p_llm = masked_log_softmax(llm_logits.detach(), guided).exp().masked_fill(~guided, 0.0)
    p_pi = masked_log_softmax(logits.detach(), guided).exp().masked_fill(~guided, 0.0)
    return ((p_llm * q).sum(-1) >= (p_pi * q).sum(-1)).float()


def multiplier_loss(multiplier: torch.Tensor, mean_js: torch.Tensor, sigma: float) -> torch.Tensor:
    """Dual ascent on nu itself: d loss / d nu = -(E[JS] - sigma), so a plain SGD step raises nu by lr * violation.

    Deliberate deviation from a log-space multiplier: Adam on log nu moves it by about lr per step whatever the
    size of the violation, so after a long slack phase nu sits at ~1e-7 and needs as many steps to come back.
    Here nu responds in proportion to E[JS] - sigma; the learner projects it onto [0, max] after each step.
    """
    return -multiplier * (mean_js.detach() - sigma)


def bellman_target(
    rewards: torch.Tensor,
    v_next: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    n_step: torch.Tensor,
    gamma: float,
    bootstrap_truncated: bool = False,
) -> torch.Tensor:
    """y = R^(k) + gamma^k (1 - done) V_g(s_{t+k}); every argument (B,). Detached.

    rewards: the discounted sum R^(k) of the k rewards actually replayed; n_step: that k (<= the configured n;
    fewer where the episode or the stored chunk ends). done = terminated, or also truncated unless
    `bootstrap_truncated`: the decider env's only truncation is its `max_steps` limit, which is part of the task
    and visible in the observation (the step fraction), so a state at the limit has value 0, like a terminal one.
    """
    done = terminated.bool() if bootstrap_truncated else terminated.bool() | truncated.bool()
    discount = gamma ** n_step.float()
    return (rewards.float() + discount * (~done).float() * v_next).detach()


def critic_loss(
    q_taken: torch.Tensor,
    target: torch.Tensor,
    q_values: torch.Tensor,
    llm_scores: torch.Tensor,
    mask: torch.Tensor,
    lambda2: float,
    temperature: float = KENDALL_TEMPERATURE,
    trust: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, soft tau per row). q_taken, target (B,); q_values, llm_scores, mask (B, A); trust (B,) weights the
    ranking term per state (default 1).

    Huber instead of squared Bellman error (robust to the early, large TD errors of sparse rewards); the
    target y = r + gamma (1 - done) V_g(s') comes from the target network and is detached here.
    """
    bellman = F.smooth_l1_loss(q_taken, target.detach())
    tau = soft_kendall_tau(q_values, llm_scores, mask, temperature)
    weight = torch.ones_like(tau) if trust is None else trust.detach()
    return bellman - lambda2 * (weight * tau).mean(), tau


def policy_reconstruction_loss(logits: torch.Tensor, pi_llm: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L_FP = CE(pi_LLM, F_P) = -sum_a pi_LLM(a|s) log F_P(a|s), mean over states. (B, A) each -> scalar."""
    log_f = masked_log_softmax(logits, mask)
    return -(pi_llm.detach() * log_f).masked_fill(~mask, 0.0).sum(-1).mean()
