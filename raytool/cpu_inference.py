"""Running the shared MiniLM encoder for inference on a CPU without eager PyTorch's per-operator overhead.

    forward = frozen_forward(model)                         # a BERT-style `transformers` encoder, eval mode
    hidden = forward(input_ids, attention_mask, token_type_ids)   # == model(...).last_hidden_state
    hidden = forward(**tokenizer(texts, padding=True, return_tensors="pt"))   # token types optional
    forward = frozen_forward(model, frozen=False)           # the same signature, the eager model (no graph)

One request's forward is small (60-200 word pieces, one sequence), so eager PyTorch spends much of it in Python
between operators. `frozen_forward` traces the encoder once with TorchScript (`torch.jit.trace`) and freezes the
graph (`torch.jit.freeze`: weights folded in as constants, so the CPU backend can fuse operators); the traced graph
takes any batch size and length and gives the same values as the eager model (`tests/test_cpu_inference.py` checks
both, padded batches included). Inference only: the frozen graph has no gradients, and the weights it holds are
those of the moment it was made (a model trained or changed afterwards needs a new one). It costs about 30 MB of
resident memory per encoder. The speed-up is measured by `benchmarks/filler.py` (docs/filler.md, "Frozen graphs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def frozen_forward(model: Any, frozen: bool = True) -> Callable[..., Any]:
    """`model`'s `last_hidden_state` as a traced, frozen TorchScript function (module docstring); `frozen=False`:
    as the eager model, with the same signature."""
    import torch

    class _LastHidden(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    eager = _LastHidden(model.eval()).eval()
    graph = _traced(eager) if frozen else eager

    def forward(input_ids, attention_mask, token_type_ids=None):
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        with torch.no_grad():
            return graph(input_ids, attention_mask, token_type_ids)

    return forward


def _traced(eager: Any) -> Any:
    """`eager` traced on a small padded batch and frozen."""
    import warnings

    import torch

    ids = torch.full((2, 12), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # a padded row: the trace follows the attention mask's path
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python values it records (none vary with shape)
        return torch.jit.freeze(torch.jit.trace(eager, (ids, mask, types), check_trace=False, strict=False))
