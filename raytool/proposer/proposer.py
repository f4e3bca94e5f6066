"""`ToolProposer`: proposes the top-p tools for a query (and the calls made so far) with calibrated probabilities.

    proposer = ToolProposer.load("ckpt/")
    index = proposer.index(catalogue_specs)            # cached per checkpoint and tool document
    proposal = proposer.propose("Book a flight ... Then ...", index, k=5)
    proposal.names, proposal.probs                       # best first; p = P(tool is needed), Platt-calibrated

Ranking is `ranking.py`'s: the whole query and each of its sentences are scored against every tool (cosine of
the fine-tuned encoder's vectors + weighted BM25), and the segments' lists are interleaved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raytool.paths import cache_dir
from raytool.proposer.checkpoint import CheckpointMeta, load_checkpoint
from raytool.proposer.documents import query_segments
from raytool.proposer.index import ToolIndex, build_index
from raytool.proposer.ranking import PlattScaling, fuse, interleave
from raytool.tools.spec import ToolSpec


@dataclass(frozen=True)
class Proposal:
    """Candidate tool names, best first, with their probabilities of being needed."""

    names: list[str]
    probs: list[float]
    scores: list[float]


@dataclass(frozen=True)
class SegmentScores:
    """One query's pool (catalogue columns), its segments' cosine and BM25 scores (S, |pool|), its history."""

    cols: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    history: tuple[str, ...]


class ToolProposer:
    """A proposer model with its ranking settings; `load` reads a checkpoint."""

    def __init__(
        self, model, tokenizer, meta: CheckpointMeta, batch_size: int = 64, checkpoint: Path | None = None
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.config = meta.config
        self.batch_size = batch_size
        self.checkpoint = checkpoint
        self._frozen = None  # a loaded checkpoint's encoder as a traced, frozen graph (`load`)

    @classmethod
    def load(cls, ckpt_dir: str | Path, threads: int | None = None) -> ToolProposer:
        import torch

        if threads:
            torch.set_num_threads(threads)
        from raytool.cpu_inference import frozen_forward

        model, tokenizer, meta = load_checkpoint(ckpt_dir)
        proposer = cls(model, tokenizer, meta, checkpoint=Path(ckpt_dir))
        # its weights are final: the encoder runs as a traced, frozen graph (the same vectors, less overhead)
        proposer._frozen = frozen_forward(model.encoder)
        return proposer

    def encode(self, texts: Sequence[str], max_length: int) -> np.ndarray:
        """Unit vectors (N, D); texts are batched by length so little padding is computed."""
        import torch

        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.model.encoder.config.hidden_size), dtype=np.float32)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                       max_length=max_length, return_tensors="pt")  # fmt: skip
                out[rows] = self._embed(batch["input_ids"], batch["attention_mask"]).float().numpy()
        self.model.train(was_training)
        return out

    def _embed(self, input_ids, attention_mask):
        if self._frozen is None:  # an in-training model (`fresh`)
            return self.model.embed(input_ids, attention_mask)
        from raytool.proposer.model import mean_pool

        return mean_pool(self._frozen(input_ids, attention_mask).float(), attention_mask)

    def index(self, specs: Sequence[ToolSpec], cache: bool = True, log=None) -> ToolIndex:
        """The catalogue's index; vectors cached under $RAYTOOL_CACHE/proposer_index/<fingerprint> when saved."""
        folder = None
        if cache and self.meta.fingerprint:
            folder = cache_dir() / "proposer_index" / self.meta.fingerprint[:16]
        return build_index(specs, lambda docs: self.encode(docs, self.config.doc_max_length), folder, log)

    def score(
        self,
        queries: Sequence[str],
        index: ToolIndex,
        histories: Sequence[Sequence[str]] | None = None,
        pools: Sequence[Sequence[str]] | None = None,
    ) -> list[SegmentScores]:
        """Dense and BM25 scores of every query segment against its pool (all segments encoded in one pass)."""
        histories = histories or [()] * len(queries)
        segments = [query_segments(q, tuple(h), self.config.segment) for q, h in zip(queries, histories, strict=True)]
        vectors = self.encode([s for segs in segments for s in segs], self.config.query_max_length)
        out, row = [], 0
        for i, segs in enumerate(segments):
            cols = np.arange(len(index.names))
            if pools and pools[i]:
                cols = np.array([index.position[n] for n in pools[i]])
            dense = vectors[row : row + len(segs)] @ index.vectors[cols].T  # (S, |pool|)
            lexical = np.stack([index.lexical.scores(s)[cols] for s in segs])
            row += len(segs)
            out.append(SegmentScores(cols, dense, lexical, tuple(histories[i])))
        return out

    def rank_scored(
        self,
        scored: Sequence[SegmentScores],
        index: ToolIndex,
        k: int | None = None,
        lexical_weight: float | None = None,
        sources: Sequence[str] | None = None,
        source_weights: dict[str, float] | None = None,
    ) -> list[Proposal]:
        """Proposals from `score`'s output (fusion, interleaving, calibration; cheap to repeat per weight). The
        fusion's lexical weight: `lexical_weight` when given, else `source_weights`' for each query's source
        (`sources`, e.g. the benchmark a query comes from; weights adapted to unseen catalogues,
        `adaptation.unseen_weights`), else the checkpoint's (`CheckpointMeta.weight_for`)."""
        k = k or self.config.top_p
        own = source_weights or {}
        out = []
        for i, query in enumerate(scored):
            source = sources[i] if sources else ""
            weight = own.get(source, self.meta.weight_for(source)) if lexical_weight is None else lexical_weight
            top, best = interleave(fuse(query.dense, query.lexical, weight), min(k, len(query.cols)))
            names = [index.names[j] for j in query.cols[top]]
            if query.history:  # tools already called go last: the decider wants what is still to do
                called = set(query.history)
                keep = sorted(range(len(names)), key=lambda j: names[j] in called)  # stable: order kept otherwise
                names, best = [names[j] for j in keep], best[keep]
            out.append(Proposal(names, self.meta.platt(best).tolist(), best.tolist()))
        return out

    def rank(
        self,
        queries: Sequence[str],
        index: ToolIndex,
        k: int | None = None,
        histories: Sequence[Sequence[str]] | None = None,
        pools: Sequence[Sequence[str]] | None = None,
        lexical_weight: float | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[Proposal]:
        """One proposal per query; `pools` restricts a query to the named tools (its candidate list); `sources`:
        each query's source, for a checkpoint with a lexical weight per training source (`rank_scored`)."""
        return self.rank_scored(self.score(queries, index, histories, pools), index, k, lexical_weight, sources)

    def propose(self, query: str, index: ToolIndex, k: int | None = None, history: Sequence[str] = ()) -> Proposal:
        return self.rank([query], index, k, [tuple(history)])[0]

    def explain(self, queries: Sequence[str]) -> list[str]:
        """The rationale head's greedy reproduction of the teacher's rationale for each query."""
        import torch

        if self.model.rationale is None:
            raise ValueError("this checkpoint has no rationale head (trained with alpha = 0)")
        pooled = torch.from_numpy(self.encode(list(queries), self.config.query_max_length))
        ids = self.model.rationale.generate(pooled, self.model.word_embeddings.detach(), self.tokenizer.cls_token_id,
                                            self.tokenizer.sep_token_id, self.config.rationale_max_length)  # fmt: skip
        return [self.tokenizer.decode(row) for row in ids]

    @staticmethod
    def fresh(config, model, tokenizer, lexical_weight: float | None = None, platt: PlattScaling | None = None):
        """A proposer over an in-training model (validation), not tied to a checkpoint."""
        meta = CheckpointMeta(config, config.lexical_weight if lexical_weight is None else lexical_weight,
                              platt or PlattScaling())  # fmt: skip
        return ToolProposer(model, tokenizer, meta)
