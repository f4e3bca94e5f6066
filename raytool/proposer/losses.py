"""The proposer's multi-task loss, as pure functions: L = L_select + alpha * L_rationale.

L_select is a multi-positive InfoNCE over cosine scores: every (query, positive tool) pair is a softmax
classification of that positive against the query's negatives (in-batch documents that are not its
positives, plus mined hard negatives); the query's *other* positives are left out of the denominator, so a
query with three gold tools is not asked to prefer one of them over the others.

L_rationale is the teacher-forced token negative log-likelihood of the teacher's rationale under the
rationale decoder, averaged over the non-padding target tokens of the examples that have a rationale.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def select_loss(
    query_vecs: torch.Tensor, doc_vecs: torch.Tensor, positives: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Multi-positive InfoNCE. query_vecs (B, D), doc_vecs (M, D) unit vectors; positives (B, M) bool.

    For each pair (b, m) with positives[b, m]:  l = -log( e^{s_bm/tau} / (e^{s_bm/tau} + sum_n e^{s_bn/tau}) )
    with n over the non-positives of row b; the loss is the mean of l over all positive pairs.
    """
    logits = query_vecs @ doc_vecs.T / temperature  # (B, M)
    negatives = logits.masked_fill(positives, float("-inf"))
    neg_lse = torch.logsumexp(negatives, dim=-1, keepdim=True)  # (B, 1): log sum over the row's negatives
    pair_lse = torch.logaddexp(logits, neg_lse)  # (B, M): log(e^{s_bm} + sum_n e^{s_bn})
    nll = (pair_lse - logits)[positives]  # one term per positive pair
    return nll.mean()


def rationale_loss(logits: torch.Tensor, targets: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Token NLL. logits (B, T, V), targets (B, T) with `pad_id` where there is nothing to predict -> scalar."""
    mask = targets != pad_id
    if not mask.any():
        return logits.sum() * 0.0  # keeps the graph (and DDP's gradient hooks) intact with no rationale in the batch
    log_probs = F.log_softmax(logits[mask], dim=-1)  # (N, V) over the real target tokens
    return -log_probs.gather(-1, targets[mask].unsqueeze(-1)).mean()


def proposer_loss(l_select: torch.Tensor, l_rationale: torch.Tensor | None, alpha: float) -> torch.Tensor:
    """L = L_select + alpha * L_rationale (L_rationale ignored when alpha is 0 or there is no rationale head)."""
    if alpha == 0 or l_rationale is None:
        return l_select
    return l_select + alpha * l_rationale
