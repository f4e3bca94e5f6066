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
        cos = torch.einsum("pd,pnkd->pnk", _unit(param), _unit(options.unflatten(-1, (2, self.dim))))  # (P, N, 2)
        return self._score(param, self.option(options), cos, features, mask)

    def forward_shared(
        self, param: torch.Tensor, heads: list[torch.Tensor], spans: torch.Tensor, features: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """`forward` of one request's parameters whose options are each parameter's own (`heads[i]`: (H_i, 2D),
        absent and references) followed by the request's candidates, shared by every parameter (`spans`: (M, 2D)),
        then padding: row i's options are `cat([heads[i], spans])`. The same scores as `forward` on the padded
        (P, N, 2D) options, but the candidates' projection is computed once per request instead of once per
        parameter (a request has about 7 parameters) and the padded option tensor is never built."""
        width, unit, sizes = features.shape[1], _unit(param), [len(own) for own in heads]
        span_o = self.option(spans)  # (M, H)
        span_cos = torch.einsum("pd,mkd->pmk", unit, _unit(spans.unflatten(-1, (2, self.dim))))  # (P, M, 2)
        own = torch.cat(heads)  # every parameter's own options in one pass: (sum H_i, 2D)
        own_o = self.option(own).split(sizes)
        owner = unit.repeat_interleave(torch.tensor(sizes), dim=0)  # each own option's parameter: (sum H_i, D)
        own_cos = torch.einsum("nd,nkd->nk", owner, _unit(own.unflatten(-1, (2, self.dim)))).split(sizes)
        rows_o, rows_cos = [], []
        for i, size in enumerate(sizes):
            pad = (0, 0, 0, width - size - len(spans))
            rows_o.append(nn.functional.pad(torch.cat([own_o[i], span_o]), pad))
            rows_cos.append(nn.functional.pad(torch.cat([own_cos[i], span_cos[i]]), pad))
        return self._score(param, torch.stack(rows_o), torch.stack(rows_cos), features, mask)

    def _score(self, param, o, cos, features, mask) -> torch.Tensor:
        """Scores (P, N) from the parameters (P, D), the option projections o (P, N, H) and the cosines (P, N, 2)."""
        p = self.param(param).unsqueeze(1)  # (P, 1, H)
        score = self.pair(torch.cat([self.dropout(p * o), cos, features], dim=-1)).squeeze(-1)
        score = score + features[..., IS_ABSENT] * self.absent(param)
        return score.masked_fill(~mask, -1e9)


def _unit(x: torch.Tensor) -> torch.Tensor:
    """x / ||x|| along the last dimension, the norm clamped at 1e-6 (a zero vector stays zero: cosine 0), as
    `torch.nn.functional.cosine_similarity(..., eps=1e-6)`."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def multi_positive_loss(scores: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """-log sum_{o in positives} softmax(scores)_o, mean over rows. scores (P, N); positives (P, N) bool, each row
    with at least one positive."""
    log_p = torch.log_softmax(scores, dim=-1)
    return -(torch.logsumexp(log_p.masked_fill(~positives, -1e9), dim=-1)).mean()
