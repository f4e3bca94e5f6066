"""Fine-tuning the shared MiniLM encoder on a CPU without wasted time: the optimiser, and the attention dropout that
CPU attention kernels make expensive.

    with torch_threads(2):                            # torch's CPU threads for the run, the caller's after
        optimizer = adamw(groups, weight_decay=0.01)  # torch's fused AdamW (one kernel for all tensors)
        set_attention_dropout(encoder, 0.0)           # optional (None: the encoder's own); see below

The fused AdamW is the same update as the per-tensor loop (`torch.optim.AdamW`), 5x cheaper per step on the
22M-parameter encoder here (16 against 89 ms). Attention dropout sends CPU scaled-dot-product attention to its slow
path: forward and backward of one layer's attention over 8 x 130 pieces took 27 ms with dropout 0.1 against 8 ms
without, on this machine. (bf16 autocast was measured too and not used: with attention dropout 0 its flash-attention
backward is slower than float32's, 27 against 5.5 ms, and the math kernel that avoids it saved 2 s of 15 in a reader
epoch: not worth training results that differ between CPUs.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op CPU threads set to `threads` (at least 1) inside the block, the caller's count restored after
    (the main job trains in its driver: a stage must not leave its setting to the next)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(threads, 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def adamw(groups: Iterable[dict[str, Any]], weight_decay: float = 0.01) -> Any:
    """AdamW over parameter groups, torch's fused kernel (float32 CPU tensors)."""
    import torch

    return torch.optim.AdamW(list(groups), weight_decay=weight_decay, fused=True)


def set_attention_dropout(encoder: Any, p: float | None) -> int:
    """The attention-probability dropout of every self-attention module of a Hugging Face encoder (BERT-style: a
    module with query / key / value projections and a `dropout`); returns how many were set. None: left as the
    encoder has it (0 set)."""
    from torch import nn

    if p is None:
        return 0
    count = 0
    for module in encoder.modules():
        if all(hasattr(module, a) for a in ("query", "key", "value")) and isinstance(
            getattr(module, "dropout", None), nn.Dropout
        ):
            module.dropout.p = p
            count += 1
    return count
