"""The decider's objectives as pure functions (tensors in, tensors out; no Ray). Shapes: B states, A candidates.

Masked candidates (`mask` False) never receive probability: their logits are set to a large negative number
before any softmax and their terms are zeroed explicitly, so every quantity and gradient stays finite.

    JS(p || q)   = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2, in nats (0 <= JS <= ln 2)
    actor        = E_s[ sum_a pi(a|s) (alpha_ent log pi(a|s) - Q(s,a)) ] + (lambda1 + nu) E_s[JS(pi || pi_LLM)]
    multiplier   : nu = exp(log_nu), loss_nu = -log_nu * (E[JS] - sigma).detach()   (dual ascent: nu grows while
                   E[JS] > sigma, shrinks otherwise)
    critic       = E[ huber(Q(s,a) - y) ] - lambda2 * soft_tau(Q(s,.), llm_scores),  y = r + gamma (1 - done) V_g(s')
    soft_tau     = sum_{i<j} tanh((Q_i - Q_j) / T) sign(l_i - l_j) / #pairs      (smooth Kendall-tau surrogate)
    L_FP         = -E_s[ sum_a pi_LLM(a|s) log F_P(a|s) ]                           (policy reconstruction)
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

MASKED_LOGIT = -1e9


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
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, JS per row). logits, q_values, llm_logits, mask (B, A); multiplier: the Lagrange multiplier nu.

    Expected over pi: soft-Q objective alpha_ent log pi - Q; Q, pi_LLM and nu are detached (the actor moves pi only).
    guided (B, A): the actions JS compares, both distributions renormalised over them (default: `mask`).
    """
    log_pi = masked_log_softmax(logits, mask)
    pi = log_pi.exp()
    policy_term = (pi * (alpha_entropy * log_pi - q_values.detach())).masked_fill(~mask, 0.0).sum(-1)
    js = js_divergence(logits, llm_logits.detach(), mask if guided is None else guided)
    loss = (policy_term + (lambda1 + multiplier.detach()) * js).mean()
    return loss, js


def multiplier_loss(log_multiplier: torch.Tensor, mean_js: torch.Tensor, sigma: float) -> torch.Tensor:
    """Dual ascent on nu = exp(log_nu): minimising -log_nu (E[JS] - sigma) raises nu while E[JS] > sigma."""
    return -log_multiplier * (mean_js.detach() - sigma)


def critic_loss(
    q_taken: torch.Tensor,
    target: torch.Tensor,
    q_values: torch.Tensor,
    llm_scores: torch.Tensor,
    mask: torch.Tensor,
    lambda2: float,
    temperature: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, soft tau per row). q_taken, target (B,); q_values, llm_scores, mask (B, A).

    Huber instead of squared Bellman error (robust to the early, large TD errors of sparse rewards); the
    target y = r + gamma (1 - done) V_g(s') comes from the target network and is detached here.
    """
    bellman = F.smooth_l1_loss(q_taken, target.detach())
    tau = soft_kendall_tau(q_values, llm_scores, mask, temperature)
    return bellman - lambda2 * tau.mean(), tau


def policy_reconstruction_loss(logits: torch.Tensor, pi_llm: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L_FP = CE(pi_LLM, F_P) = -sum_a pi_LLM(a|s) log F_P(a|s), mean over states. (B, A) each -> scalar."""
    log_f = masked_log_softmax(logits, mask)
    return -(pi_llm.detach() * log_f).masked_fill(~mask, 0.0).sum(-1).mean()
