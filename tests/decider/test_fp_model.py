"""F_P (`PolicyReconstruction`) on the decider env's observation layout, and its cross-entropy loss."""

from __future__ import annotations

import math

import pytest
import torch

from raytool.decider.fp_model import PolicyReconstruction
from raytool.decider.losses import policy_reconstruction_loss

D, P = 8, 4


def _batch(n: int, valid: int = P) -> tuple[torch.Tensor, torch.Tensor]:
    model = PolicyReconstruction(D, P)
    obs = torch.rand(n, model.obs_dim) * 2 - 1
    mask = torch.zeros(n, P + 1)
    mask[:, :valid] = 1.0
    mask[:, P] = 1.0  # STOP is always allowed
    return obs, mask


def test_shapes_and_masked_candidates_get_no_probability() -> None:
    torch.manual_seed(0)
    model = PolicyReconstruction(D, P, width=16, heads=2, layers=1)
    obs, mask = _batch(3, valid=2)
    logits, h_z = model(obs, mask)
    assert logits.shape == (3, P + 1) and h_z.shape == (3, 16)
    probs = torch.softmax(logits, -1)
    assert torch.allclose(probs[:, 2:P], torch.zeros(3, P - 2)) and torch.allclose(probs.sum(-1), torch.ones(3))


def test_cross_entropy_of_uniform_logits_is_log_of_the_valid_actions() -> None:
    mask = torch.tensor([[True, True, True, False, False]])
    pi_llm = torch.tensor([[0.2, 0.3, 0.5, 0.0, 0.0]])
    loss = policy_reconstruction_loss(torch.zeros(1, 5), pi_llm, mask)
    assert loss.item() == pytest.approx(math.log(3))


def test_training_fits_a_teacher_policy_that_depends_on_the_candidates() -> None:
    """Target: the teacher prefers the candidate with the highest first feature; F_P learns it (top-1 > 90%)."""
    torch.manual_seed(0)
    model = PolicyReconstruction(D, P, width=32, heads=2, layers=1)
    obs, mask = _batch(256)
    first = 2 * D + 4 + torch.arange(P) * (D + 5)  # column of each candidate's first feature
    target_logits = torch.cat([obs[:, first] * 5, torch.full((256, 1), -5.0)], dim=1)
    pi_llm = torch.softmax(target_logits, -1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = policy_reconstruction_loss(model(obs, mask)[0], pi_llm, mask > 0).item()
    for _ in range(150):
        optimizer.zero_grad()
        loss = policy_reconstruction_loss(model(obs, mask)[0], pi_llm, mask > 0)
        loss.backward()
        optimizer.step()
    logits = model(obs, mask)[0]
    agreement = (logits.argmax(-1) == pi_llm.argmax(-1)).float().mean().item()
    assert loss.item() < 0.7 * start and agreement > 0.9
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
