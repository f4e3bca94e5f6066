"""`ToolIndex`: a catalogue's tool vectors under one checkpoint, plus BM25 over the same documents.

Vectors are cached on disk by (checkpoint fingerprint, sha1 of the tool's document): building the index of
a catalogue embeds only the tools never embedded before under this checkpoint, so adding tools to a
catalogue costs their own encoding and no retraining. The cache file is replaced atomically.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raytool.envs.retrieval import BM25Retriever
from raytool.proposer.documents import tool_document
from raytool.tools.spec import ToolSpec

CACHE_FILE = "vectors.npz"


@dataclass
class ToolIndex:
    """names (N,), unit vectors (N, D), BM25 over the tool documents; `encoded` = tools embedded on build."""

    names: list[str]
    vectors: np.ndarray
    lexical: BM25Retriever
    encoded: int = 0
    seconds: float = 0.0

    @property
    def position(self) -> dict[str, int]:
        return self.lexical.index


def document_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def build_index(
    specs: Sequence[ToolSpec],
    encode: Callable[[list[str]], np.ndarray],
    cache_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> ToolIndex:
    """Embed `specs` (only those missing from `cache_dir`'s cache) and build BM25 over their documents."""
    start = time.perf_counter()
    docs = [tool_document(s) for s in specs]
    keys = [document_key(d) for d in docs]
    cached = _load(cache_dir / CACHE_FILE) if cache_dir else {}
    unique_docs = dict(zip(keys, docs, strict=True))
    missing_keys = [k for k in unique_docs if k not in cached]
    if missing_keys:
        if log:
            log(f"[index] embedding {len(missing_keys):,} of {len(specs):,} tools ({len(cached):,} cached)")
        vectors = encode([unique_docs[k] for k in missing_keys])
        cached.update(zip(missing_keys, vectors, strict=True))
        if cache_dir:
            _save(cache_dir / CACHE_FILE, cached)
    lexical = BM25Retriever(specs, text=tool_document)
    vectors = np.stack([cached[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 0), np.float32)
    seconds = time.perf_counter() - start
    return ToolIndex([s.name for s in specs], vectors, lexical, len(missing_keys), seconds)


def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def _save(path: Path, cached: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".vectors.", suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
