"""Candidate sources for the decider: score every tool of a pool against a query and keep the top-p.

`BM25Retriever` (lexical, over `name: description` with camelCase and snake_case split; kept over bm25s by a
side-by-side measurement, docs/proposer.md) and
`EmbeddingRetriever` (cosine similarity of unit vectors from a `TextEncoder`) share `scores(query) -> (N,)`.
The trained proposer plugs in later through the same `CandidateSource` protocol.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from raytool.tools.spec import ToolSpec

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are as at be by for from in is it of on or that the this to with".split())


def tool_text(spec: ToolSpec) -> str:
    """The text a tool is retrieved by: `name: description`."""
    return f"{spec.name}: {spec.description}"


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, camelCase and snake_case split, stop words dropped."""
    return [t for t in _TOKEN.findall(_CAMEL.sub(" ", text).lower()) if t not in _STOP]


class CandidateSource(Protocol):
    """Scores a query against the tools it was built over (higher is better)."""

    names: list[str]

    def scores(self, query: str) -> np.ndarray: ...


class BM25Retriever:
    """Okapi BM25 over tool texts (`text(spec)`, default `name: description`). scores(query) -> (N,) float32."""

    def __init__(
        self, tools: Sequence[ToolSpec], k1: float = 1.5, b: float = 0.75, text: Callable[[ToolSpec], str] = tool_text
    ) -> None:
        self.names = [t.name for t in tools]
        self.index = {name: i for i, name in enumerate(self.names)}
        docs = [tokenize(text(t)) for t in tools]
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()), 1e-9))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        by_term: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                by_term[term].append((i, tf))
        n = len(docs)
        for term, postings in by_term.items():
            idx = np.array([p[0] for p in postings])
            tf = np.array([p[1] for p in postings], dtype=np.float32)
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            self._postings[term] = (idx, (idf * tf * (k1 + 1) / (tf + norm[idx])).astype(np.float32))

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.names), dtype=np.float32)
        for term in tokenize(query):
            if term in self._postings:
                idx, weight = self._postings[term]
                out[idx] += weight
        return out


class EmbeddingRetriever:
    """Cosine similarity between a query vector and precomputed unit tool vectors (N, D)."""

    def __init__(self, names: Sequence[str], tool_vectors: np.ndarray, encoder) -> None:
        self.names = list(names)
        self.tool_vectors = np.asarray(tool_vectors, dtype=np.float32)
        self.encoder = encoder

    def scores(self, query: str) -> np.ndarray:
        return self.tool_vectors @ self.encoder.encode([query])[0]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first (ties broken by index, so results are deterministic)."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]
