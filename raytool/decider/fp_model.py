"""`PolicyReconstruction` (F_P): a small Transformer that emulates the teacher's policy pi_LLM over the candidates.

The decider env's flat observation (`raytool.envs.decider_env`) is cut into tokens

    [query] [context: mean vector of tools called + step scalars] [candidate 1] ... [candidate p] [STOP]

each projected to `width`; self-attention over them gives h^z (the query token's output state) and one logit
per candidate and for STOP (masked where the env's action mask is 0). Trained with cross-entropy against the
teacher's pi_LLM (`raytool distill rank`), so the RL learner can query the LLM's preferences at every step
without calling the LLM.
"""

from __future__ import annotations

import torch
from torch import nn

from raytool.decider.losses import MASKED_LOGIT
from raytool.envs.decider_env import OBS_PER_CANDIDATE as PER_CANDIDATE
from raytool.envs.decider_env import OBS_SCALARS as SCALARS


class PolicyReconstruction(nn.Module):
    """obs (B, 2D + 4 + p (D + 5)), action mask (B, p + 1) -> (logits (B, p + 1), h^z (B, width))."""

    def __init__(self, dim: int, top_p: int, width: int = 64, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.dim, self.top_p = dim, top_p
        self.query = nn.Linear(dim, width)
        self.context = nn.Linear(dim + SCALARS, width)
        self.candidate = nn.Linear(dim + PER_CANDIDATE, width)
        self.slot = nn.Embedding(top_p + 1, width)  # position of a candidate in the list; the last one is STOP
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, 1)

    @property
    def obs_dim(self) -> int:
        return 2 * self.dim + SCALARS + self.top_p * (self.dim + PER_CANDIDATE)

    def tokens(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, obs_dim) -> (B, 3 + p, width): query, context, p candidates, STOP."""
        d, p = self.dim, self.top_p
        query = self.query(obs[:, :d])
        context = self.context(obs[:, d : 2 * d + SCALARS])
        cands = obs[:, 2 * d + SCALARS :].reshape(obs.shape[0], p, d + PER_CANDIDATE)
        slots = self.slot.weight.unsqueeze(0)  # (1, p + 1, width)
        cand_tokens = self.candidate(cands) + slots[:, :p]
        stop = slots[:, p:].expand(obs.shape[0], 1, -1)
        return torch.cat([query[:, None], context[:, None], cand_tokens, stop], dim=1)

    def forward(self, obs: torch.Tensor, action_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = action_mask > 0
        pad = torch.cat([torch.zeros_like(mask[:, :2]), ~mask], dim=1)  # empty candidate slots are not attended
        states = self.encoder(self.tokens(obs), src_key_padding_mask=pad)
        logits = self.head(states[:, 2:]).squeeze(-1).masked_fill(~mask, MASKED_LOGIT)
        return logits, states[:, 0]
