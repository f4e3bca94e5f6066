"""`ProposerModel`: all-MiniLM-L6-v2 shared by the tool-selection head and the rationale head.

Selection head: mean-pooled, L2-normalised token states (as sentence-transformers pools this model); a query
segment and a tool document are scored by cosine similarity (a bi-encoder, so 4,000+ tools are one matrix
product against cached tool vectors, and unseen tools need only be embedded).

Rationale head (`RationaleDecoder`): a one-layer GRU whose initial state is a projection of the query's
pooled vector and whose input and output word embeddings are tied to the encoder's (no new vocabulary
matrix). It is conditioned on exactly the vector that retrieval uses, so L_rationale shapes that vector;
docs/proposer.md argues this choice and `benchmarks/proposer.py --ablation` measures whether it helps.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit mean of the token states over the attention mask. hidden (B, T, D), mask (B, T) -> (B, D)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, dim=-1)


class RationaleDecoder(nn.Module):
    """GRU decoder: pooled query (B, D) and input ids (B, T) -> next-token logits (B, T, V) (tied embeddings)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.init = nn.Linear(dim, dim)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.out = nn.Linear(dim, dim)

    def forward(self, pooled: torch.Tensor, input_ids: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        h0 = torch.tanh(self.init(pooled)).unsqueeze(0)  # (1, B, D)
        states, _ = self.gru(embeddings[input_ids], h0)  # (B, T, D)
        return self.out(states) @ embeddings.T  # (B, T, V)

    @torch.inference_mode()
    def generate(self, pooled: torch.Tensor, embeddings: torch.Tensor, bos: int, eos: int, max_len: int) -> list:
        """Greedy decoding, one list of token ids (without bos/eos) per row of pooled (B, D)."""
        h = torch.tanh(self.init(pooled)).unsqueeze(0)
        token = torch.full((pooled.shape[0], 1), bos, dtype=torch.long)
        out: list[list[int]] = [[] for _ in range(pooled.shape[0])]
        done = torch.zeros(pooled.shape[0], dtype=torch.bool)
        for _ in range(max_len):
            state, h = self.gru(embeddings[token], h)
            token = (self.out(state) @ embeddings.T).argmax(-1)  # (B, 1)
            done |= token[:, 0] == eos
            for row in (~done).nonzero().flatten().tolist():
                out[row].append(int(token[row, 0]))
            if done.all():
                break
        return out


class ProposerModel(nn.Module):
    """Encoder + rationale head. `forward` runs one training step's encoders in a single call (for DDP)."""

    def __init__(self, encoder: Any, rationale_head: bool, train_layers: int = 6) -> None:
        super().__init__()
        self.encoder = encoder
        self.rationale = RationaleDecoder(encoder.config.hidden_size) if rationale_head else None
        freeze_lower_layers(encoder, train_layers)
        self.train_bf16 = False  # the encoder under bf16 autocast in training mode (`ProposerConfig.bf16`)

    @property
    def word_embeddings(self) -> torch.Tensor:
        return self.encoder.get_input_embeddings().weight

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Unit vectors (B, D) of tokenised texts, pooled in float32 (also from a bf16 training pass)."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.training and self.train_bf16):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden.float(), attention_mask)

    def forward(
        self, queries: dict[str, torch.Tensor], docs: dict[str, torch.Tensor], rationale_in: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(query vecs (B, D), doc vecs (M, D), rationale logits (B, T, V) or None)."""
        q = self.embed(queries["input_ids"], queries["attention_mask"])
        d = self.embed(docs["input_ids"], docs["attention_mask"])
        logits = None
        if self.rationale is not None and rationale_in is not None:
            logits = self.rationale(q, rationale_in, self.word_embeddings)
        return q, d, logits


def freeze_lower_layers(encoder: Any, train_layers: int) -> None:
    """Freeze the embeddings and all but the top `train_layers` transformer layers."""
    layers = encoder.encoder.layer
    if getattr(encoder, "pooler", None) is not None:  # never used (mean pooling); DDP needs every trained param used
        encoder.pooler.requires_grad_(False)
    for p in encoder.embeddings.parameters():
        p.requires_grad = train_layers == len(layers)
    for i, layer in enumerate(layers):
        for p in layer.parameters():
            p.requires_grad = i >= len(layers) - train_layers
