"""The decider's networks: observation layout, slot-permutation equivariance, masked STOP summary, target sync."""

from __future__ import annotations

import pytest
import torch

from raytool.decider.networks import CandidateScorer, StateValue, observation_dims, split_observation
from raytool.envs.decider_env import OBS_PER_CANDIDATE, OBS_SCALARS

D, P = 6, 3
OBS = 2 * D + OBS_SCALARS + P * (D + OBS_PER_CANDIDATE)


def test_observation_dims_round_trip_and_bad_length() -> None:
    assert observation_dims(OBS, P + 1) == (D, P)
    with pytest.raises(ValueError, match="does not fit"):
        observation_dims(OBS + 1, P + 1)


def test_split_observation_cuts_the_documented_fields() -> None:
    obs = torch.arange(OBS, dtype=torch.float32)[None]
    parts = split_observation(obs, D, P)
    assert parts["query"][0].tolist() == list(range(D))
    assert parts["scalars"][0].tolist() == list(range(2 * D, 2 * D + OBS_SCALARS))
    first = 2 * D + OBS_SCALARS
    assert parts["tools"][0, 0].tolist() == list(range(first, first + D))
    second = first + D + OBS_PER_CANDIDATE
    assert parts["features"][0, 1].tolist() == list(range(second + D, second + D + OBS_PER_CANDIDATE))


def _swap(obs: torch.Tensor, i: int, j: int) -> torch.Tensor:
    base, width = 2 * D + OBS_SCALARS, D + OBS_PER_CANDIDATE
    out = obs.clone()
    out[:, base + i * width : base + (i + 1) * width] = obs[:, base + j * width : base + (j + 1) * width]
    out[:, base + j * width : base + (j + 1) * width] = obs[:, base + i * width : base + (i + 1) * width]
    return out


def test_candidate_scores_follow_their_candidate_across_slots() -> None:
    torch.manual_seed(0)
    scorer = CandidateScorer(D, P, hidden=8)
    obs, mask = torch.randn(4, OBS), torch.ones(4, P + 1)
    scores, swapped = scorer(obs, mask), scorer(_swap(obs, 0, 2), mask)
    assert torch.allclose(scores[:, 0], swapped[:, 2]) and torch.allclose(scores[:, 2], swapped[:, 0])
    assert torch.allclose(scores[:, 3], swapped[:, 3])  # STOP sees an order-free summary


def test_stop_and_value_ignore_masked_candidates() -> None:
    torch.manual_seed(0)
    scorer, value = CandidateScorer(D, P, hidden=8), StateValue(D, P, hidden=8)
    obs = torch.randn(1, OBS)
    mask = torch.tensor([[1.0, 1.0, 0.0, 1.0]])
    noisy = obs.clone()
    noisy[:, 2 * D + OBS_SCALARS + 2 * (D + OBS_PER_CANDIDATE) :] = 5.0  # garbage in the empty third slot
    assert torch.allclose(scorer(obs, mask)[:, 3], scorer(noisy, mask)[:, 3])
    assert torch.allclose(value(obs, mask), value(noisy, mask))


def test_value_is_a_log_mean_exp_that_starts_near_zero() -> None:
    """With equal scores V equals that score (not score + log(#actions), the old logsumexp's 1.8 bias at p = 5)."""
    torch.manual_seed(0)
    value = StateValue(D, P, hidden=8)
    obs, mask = torch.randn(64, OBS), torch.tensor([[1.0, 1.0, 0.0, 1.0]]).expand(64, -1)
    scores = value.scores(obs, mask)[:, [0, 1, 3]]
    expected = torch.logsumexp(scores, -1) - torch.log(torch.tensor(3.0))
    assert torch.allclose(value(obs, mask), expected, atol=1e-6)
    assert (value(obs, mask) <= scores.max(-1).values + 1e-6).all() and (
        value(obs, mask) >= scores.mean(-1) - 1e-6
    ).all()
    assert value(obs, mask).abs().mean() < 0.5  # initialised near 0, like the rewards' scale
