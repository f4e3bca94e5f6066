"""The proposer's losses against their closed forms: multi-positive InfoNCE, token NLL and their weighted sum."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from raytool.proposer.losses import proposer_loss, rationale_loss, select_loss

TAU = 0.1


def _unit(*rows: list[float]) -> torch.Tensor:
    return F.normalize(torch.tensor(rows, dtype=torch.float64), dim=-1)


def test_one_positive_one_negative_is_softplus_of_the_score_gap() -> None:
    q = _unit([1.0, 0.2])
    d = _unit([0.9, 0.1], [0.1, 1.0])  # column 0 positive, column 1 negative
    positives = torch.tensor([[True, False]])
    s_pos, s_neg = float(q[0] @ d[0]), float(q[0] @ d[1])
    expected = math.log(1 + math.exp((s_neg - s_pos) / TAU))
    assert float(select_loss(q, d, positives, TAU)) == pytest.approx(expected, rel=1e-9)


def test_other_positives_are_left_out_of_the_denominator() -> None:
    q = _unit([1.0, 0.0, 0.3])
    d = _unit([0.8, 0.1, 0.0], [0.2, 0.9, 0.1], [0.0, 0.3, 1.0])  # columns 0 and 1 positive, 2 negative
    positives = torch.tensor([[True, True, False]])
    s = (q @ d.T)[0].tolist()
    pair = [math.log(1 + math.exp((s[2] - s[m]) / TAU)) for m in (0, 1)]
    assert float(select_loss(q, d, positives, TAU)) == pytest.approx(sum(pair) / 2, rel=1e-9)


def test_mean_over_positive_pairs_of_several_queries() -> None:
    q = _unit([1.0, 0.0], [0.0, 1.0])
    d = _unit([1.0, 0.1], [0.1, 1.0], [0.7, 0.7])
    positives = torch.tensor([[True, False, False], [False, True, True]])
    s = (q @ d.T).tolist()

    def term(b: int, m: int) -> float:
        negs = [n for n in range(3) if not positives[b, n]]
        return -s[b][m] / TAU + math.log(math.exp(s[b][m] / TAU) + sum(math.exp(s[b][n] / TAU) for n in negs))

    expected = (term(0, 0) + term(1, 1) + term(1, 2)) / 3
    assert float(select_loss(q, d, positives, TAU)) == pytest.approx(expected, rel=1e-9)


def test_loss_falls_as_the_positive_score_rises() -> None:
    negative = [0.0, 1.0]
    losses = []
    for x in (0.0, 0.3, 0.6, 0.9):
        q = _unit([1.0, 0.0])
        d = _unit([x, 1.0 - x], negative)
        losses.append(float(select_loss(q, d, torch.tensor([[True, False]]), TAU)))
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))


def test_gradients_flow_to_queries_and_documents_and_are_finite() -> None:
    torch.manual_seed(0)
    q_raw = torch.randn(3, 8, requires_grad=True)
    d_raw = torch.randn(5, 8, requires_grad=True)
    positives = torch.zeros(3, 5, dtype=torch.bool)
    positives[0, 0] = positives[1, 1] = positives[1, 2] = positives[2, 3] = True
    loss = select_loss(F.normalize(q_raw, dim=-1), F.normalize(d_raw, dim=-1), positives, 0.05)
    loss.backward()
    assert torch.isfinite(loss)
    for grad in (q_raw.grad, d_raw.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert (q_raw.grad.abs().sum(dim=1) > 0).all()  # every query row is pushed


def test_row_whose_documents_are_all_positive_is_finite() -> None:
    """A batch of one example with no negatives: no denominator terms, zero loss, finite (zero) gradients."""
    q_raw = torch.randn(1, 4, requires_grad=True)
    d_raw = torch.randn(2, 4, requires_grad=True)
    loss = select_loss(F.normalize(q_raw, dim=-1), F.normalize(d_raw, dim=-1), torch.ones(1, 2, dtype=torch.bool), 0.05)
    loss.backward()
    assert loss.item() == pytest.approx(0.0)
    assert torch.isfinite(q_raw.grad).all() and torch.isfinite(d_raw.grad).all()


def test_rationale_loss_of_uniform_logits_is_log_vocabulary() -> None:
    vocab, pad = 7, 0
    logits = torch.zeros(2, 4, vocab)
    targets = torch.tensor([[3, 4, 5, pad], [1, pad, pad, pad]])
    assert float(rationale_loss(logits, targets, pad)) == pytest.approx(math.log(vocab), rel=1e-6)


def test_rationale_loss_averages_real_tokens_and_ignores_pad_positions() -> None:
    torch.manual_seed(1)
    pad = 0
    logits = torch.randn(2, 3, 6)
    targets = torch.tensor([[2, 5, pad], [4, pad, pad]])
    log_p = F.log_softmax(logits, dim=-1)
    expected = -(log_p[0, 0, 2] + log_p[0, 1, 5] + log_p[1, 0, 4]) / 3
    base = rationale_loss(logits, targets, pad)
    assert float(base) == pytest.approx(float(expected), rel=1e-6)
    changed = logits.clone()
    changed[0, 2] = torch.randn(6) * 10  # pad positions only
    changed[1, 1:] = torch.randn(2, 6) * 10
    assert float(rationale_loss(changed, targets, pad)) == pytest.approx(float(base), rel=1e-6)


def test_rationale_loss_with_only_padding_is_zero_and_keeps_the_graph() -> None:
    logits = torch.randn(2, 3, 5, requires_grad=True)
    loss = rationale_loss(logits, torch.zeros(2, 3, dtype=torch.long), pad_id=0)
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()
    assert logits.grad is not None and (logits.grad == 0).all()


def test_proposer_loss_weights_the_rationale_term() -> None:
    l_select, l_rationale = torch.tensor(1.25), torch.tensor(2.0)
    assert float(proposer_loss(l_select, l_rationale, 0.5)) == pytest.approx(2.25)
    assert float(proposer_loss(l_select, l_rationale, 2.0)) == pytest.approx(5.25)
    assert proposer_loss(l_select, l_rationale, 0.0) is l_select
    assert proposer_loss(l_select, None, 0.5) is l_select
