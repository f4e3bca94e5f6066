"""The domain router: which domain's proxy a piece of a request goes to, without the LLM.

It ranks the tools of every domain together against the text and gives each domain the summed probability (or
normalised score) of its tools among the top `k` (`votes`); the best domain wins, ties to the first domain in the
given order (`best`). Two scorers: the trained proposer (`ProposerDomainRouter`, the default when a proposer
checkpoint is at hand) and BM25 over the tool documents (`BM25DomainRouter`, no model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from raytool.envs.retrieval import BM25Retriever, top_k
from raytool.tools.spec import ToolSpec


class _Router:
    def __init__(self, domains: Mapping[str, Sequence[ToolSpec]], k: int) -> None:
        if not domains:
            raise ValueError("the router needs at least one domain")
        self.domains = list(domains)
        self.specs = [spec for d in self.domains for spec in domains[d]]
        self.domain_of = [d for d in self.domains for _ in domains[d]]
        if not self.specs:
            raise ValueError("the router's domains have no tools")
        self.k = k

    def route(self, texts: Sequence[str]) -> list[str]:
        """The best domain of each text."""
        if len(self.domains) == 1:
            return [self.domains[0]] * len(texts)
        return [self.best(v) for v in self.votes(texts)]

    def best(self, votes: Mapping[str, float]) -> str:
        """The domain with the most votes (the first of equal ones, in the given order)."""
        return max(self.domains, key=lambda d: votes[d])

    def votes(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Each text's vote per domain: the summed weight of the domain's tools among the top `k`."""
        out = []
        for weights in self._weights(texts):
            votes = {d: 0.0 for d in self.domains}
            for j, w in weights:
                votes[self.domain_of[j]] += w
            out.append(votes)
        return out

    def _weights(self, texts: Sequence[str]) -> list[list[tuple[int, float]]]:
        raise NotImplementedError


class BM25DomainRouter(_Router):
    def __init__(self, domains: Mapping[str, Sequence[ToolSpec]], k: int = 3) -> None:
        super().__init__(domains, k)
        self.bm25 = BM25Retriever(self.specs)

    def _weights(self, texts):
        out = []
        for text in texts:
            scores = self.bm25.scores(text)
            best = top_k(scores, self.k)
            total = float(scores[best].sum())
            out.append([(int(j), float(scores[j]) / total if total > 0 else 0.0) for j in best])
        return out


class ProposerDomainRouter(_Router):
    def __init__(self, domains: Mapping[str, Sequence[ToolSpec]], proposer, k: int = 3) -> None:
        super().__init__(domains, k)
        self.proposer = proposer
        self.index = proposer.index(self.specs)
        self.position = {s.name: j for j, s in enumerate(self.specs)}

    def _weights(self, texts):
        proposals = self.proposer.rank(list(texts), self.index, k=self.k)
        return [[(self.position[n], float(p)) for n, p in zip(q.names, q.probs, strict=True)] for q in proposals]


def domain_pools(specs: Sequence[ToolSpec], domains: Sequence[str] | None = None) -> dict[str, list[ToolSpec]]:
    """Tools by their `domain` field (only `domains`, in that order, when given); tools without one skipped."""
    pools: dict[str, list[ToolSpec]] = {d: [] for d in domains or ()}
    for spec in specs:
        if spec.domain and (domains is None or spec.domain in pools):
            pools.setdefault(spec.domain, []).append(spec)
    return {d: tools for d, tools in pools.items() if tools}
