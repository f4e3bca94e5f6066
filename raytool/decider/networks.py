"""The decider's networks: one scorer shared across candidate slots, so what is learnt about slot 1 holds for slot 5.

The env's flat observation (`raytool.envs.decider_env`) is split into the query vector q, the mean vector c of the
tools called so far, 4 step scalars, and per candidate its tool vector t_i and 5 features (score, rank, called
before, failed before, share of fillable arguments). Each candidate i is scored from

    [q * t_i, c * t_i, features_i, scalars]                        (elementwise products: a cheap similarity path)

and STOP from a state summary [q * c, scalars, mean and max of the candidates' features]. `CandidateScorer` gives
one output per action (policy logits or Q values, (B, p + 1), STOP last); `StateValue` one per state (V).
"""

from __future__ import annotations

import torch
from torch import nn

from raytool.envs.decider_env import OBS_PER_CANDIDATE as PER_CANDIDATE
from raytool.envs.decider_env import OBS_SCALARS as SCALARS
from raytool.envs.decider_env import observation_dim


def observation_dims(obs_dim: int, num_actions: int) -> tuple[int, int]:
    """(D, p) of a decider observation of length `obs_dim` with `num_actions` = p + 1 actions."""
    p = num_actions - 1
    dim = observation_dim(obs_dim, p)
    if dim is None:
        raise ValueError(f"observation length {obs_dim} does not fit {p} candidates (2D + 4 + p (D + 5))")
    return dim, p


def split_observation(obs: torch.Tensor, dim: int, top_p: int) -> dict[str, torch.Tensor]:
    """(B, obs_dim) -> query (B, D), context (B, D), scalars (B, 4), tools (B, p, D), features (B, p, 5)."""
    d = dim
    cands = obs[:, 2 * d + SCALARS :].reshape(obs.shape[0], top_p, d + PER_CANDIDATE)
    return {
        "query": obs[:, :d],
        "context": obs[:, d : 2 * d],
        "scalars": obs[:, 2 * d : 2 * d + SCALARS],
        "tools": cands[..., :d],
        "features": cands[..., d:],
    }


def _mlp(inputs: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
    )


def _summary(parts: dict[str, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """[q * c, scalars, mean and max of the existing candidates' features]: (B, D + 4 + 10)."""
    cand_mask = mask[:, :-1].unsqueeze(-1)  # (B, p, 1)
    feats = parts["features"] * cand_mask
    count = cand_mask.sum(1).clamp(min=1.0)
    mean = feats.sum(1) / count
    top = feats.masked_fill(cand_mask == 0, -1.0).max(1).values
    return torch.cat([parts["query"] * parts["context"], parts["scalars"], mean, top], dim=-1)


class CandidateScorer(nn.Module):
    """(obs (B, obs_dim), action mask (B, p + 1)) -> one score per action (B, p + 1); see the module docstring."""

    def __init__(self, dim: int, top_p: int, hidden: int = 64) -> None:
        super().__init__()
        self.dim, self.top_p = dim, top_p
        self.candidate = _mlp(2 * dim + PER_CANDIDATE + SCALARS, hidden)
        self.stop = _mlp(dim + SCALARS + 2 * PER_CANDIDATE, hidden)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        parts = split_observation(obs, self.dim, self.top_p)
        tools = parts["tools"]
        scalars = parts["scalars"].unsqueeze(1).expand(-1, self.top_p, -1)
        x = torch.cat(
            [parts["query"].unsqueeze(1) * tools, parts["context"].unsqueeze(1) * tools, parts["features"], scalars],
            dim=-1,
        )
        cand = self.candidate(x).squeeze(-1)  # (B, p)
        stop = self.stop(_summary(parts, mask))  # (B, 1)
        return torch.cat([cand, stop], dim=-1)


class StateValue(nn.Module):
    """(obs, action mask) -> V(s) (B,): a soft maximum over per-action scores, log mean exp over the allowed actions.

    Log *mean* exp rather than logsumexp: with near-equal scores at initialisation logsumexp sits at log(p + 1)
    (1.8 for p = 5) against rewards in [-1, 1], and every bootstrapped target inherits that optimism until V has
    been trained down through the whole horizon (calling one more tool then looks better than STOP). Subtracting
    log(#allowed actions) starts V at ~0 and keeps it between the mean and the max of the scores.
    """

    def __init__(self, dim: int, top_p: int, hidden: int = 64) -> None:
        super().__init__()
        self.scores = CandidateScorer(dim, top_p, hidden)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.scores(obs, mask).masked_fill(mask <= 0, -1e9)
        return torch.logsumexp(scores, dim=-1) - torch.log((mask > 0).sum(-1).clamp(min=1).float())
