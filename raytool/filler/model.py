"""`FillerScorer`: scores every option of a parameter — absent, a reference to an earlier call's output field,
or a candidate value from the request — from the parameter's vector, the option's vector and the pair features.

    s(param, option) = MLP([P e_param * O v_option, cos(e_param, v_ctx), cos(e_param, v_own), features])
                       + is_absent * MLP_absent(e_param)

e_param: the sentence vector of "name (type): description"; v_option = [v_ctx, v_own] (`encoder.py`): a
candidate's contextual span vector and its own text's vector; for a reference, the result field's sentence vector
in both halves; zeros for "absent". Trained with a softmax over the options (a parameter may have several correct
options: the same value quoted twice, or any field of a referenced call whose gold names no listed field), so the
scores compare across option kinds. About 60k parameters; a (P params x N options) batch costs microseconds.
"""

from __future__ import annotations

import torch
from torch import nn

from raytool.filler.features import FEATURES

# ref_recent: 1 / (1 + calls between the referenced call and this one): the latest earlier call is 1
EXTRA = ("is_absent", "is_ref", "ref_name", "required", "ref_recent")
NUM_FEATURES = len(FEATURES) + len(EXTRA)
IS_ABSENT = len(FEATURES)


class FillerScorer(nn.Module):
    """(param (P, D), options (P, N, 2D), features (P, N, F), mask (P, N) bool) -> scores (P, N); masked = -1e9."""

    def __init__(self, dim: int = 384, hidden: int = 64, dropout: float = 0.5) -> None:
        super().__init__()
        self.dim, self.hidden = dim, hidden
        self.dropout = nn.Dropout(dropout)
        self.param = nn.Linear(dim, hidden)
        self.option = nn.Linear(2 * dim, hidden)
        self.pair = nn.Sequential(nn.Linear(hidden + 2 + NUM_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.absent = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, param: torch.Tensor, options: torch.Tensor, features: torch.Tensor, mask: torch.Tensor):
        p = self.param(param).unsqueeze(1)  # (P, 1, H)
        o = self.option(options)  # (P, N, H)
        halves = options.unflatten(-1, (2, self.dim))  # (P, N, 2, D)
        cos = nn.functional.cosine_similarity(param[:, None, None], halves, dim=-1, eps=1e-6)  # (P, N, 2)
        score = self.pair(torch.cat([self.dropout(p * o), cos, features], dim=-1)).squeeze(-1)
        score = score + features[..., IS_ABSENT] * self.absent(param)
        return score.masked_fill(~mask, -1e9)


def multi_positive_loss(scores: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """-log sum_{o in positives} softmax(scores)_o, mean over rows. scores (P, N); positives (P, N) bool, each row
    with at least one positive."""
    log_p = torch.log_softmax(scores, dim=-1)
    return -(torch.logsumexp(log_p.masked_fill(~positives, -1e9), dim=-1)).mean()
