"""Training the filler's scorer on `data.RequestExample`s (frozen encoder; only `FillerScorer` learns).

    config = FillerTrainConfig(epochs=12)
    scorer, metrics = train_scorer(examples, config)

Adam on the multi-positive softmax loss (`model.multi_positive_loss`), one request per step (its parameters as one
batch, the request's candidates projected once for all of them: `FillerScorer.forward_shared`), requests shuffled
per epoch. A share `holdout` of the requests (by task id) is held out and reported:
option accuracy (the top option is a positive) per option kind. CPU, 2 threads: about 75 s for the main job's 1,106
requests (Seal-Tools dev and the suites' tasks), 10 epochs.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np
import torch

from raytool.filler.data import RequestExample
from raytool.filler.model import IS_ABSENT, FillerScorer, multi_positive_loss


@dataclass
class FillerTrainConfig:
    """epochs: passes over the training requests; lr: Adam step; hidden: the scorer's width; holdout: share of
    requests held out for the reported accuracy; seed: shuffling and initialisation; weight_decay (AdamW) and
    dropout (on the embedding product) keep the 384-d product from memorising the training requests;
    reader_epochs: fine-tuning epochs of the span reader (`reader.py`) on the same calls, 0 for a scorer-only
    checkpoint (the reader needs the MiniLM encoder: none is trained with `encoder="hashing"`); threads: torch CPU
    threads while training (the caller's setting is restored after)."""

    epochs: int = 10
    lr: float = 2e-3
    weight_decay: float = 0.01
    dropout: float = 0.5
    hidden: int = 64
    holdout: float = 0.1
    seed: int = 0
    reader_epochs: int = 4
    threads: int = 2


def _batch(example: RequestExample):
    """One request's parameters as `FillerScorer.forward_shared` takes them: (params (P, D), heads [(H_i, 2D)],
    spans (M, 2D), features (P, N, F), mask (P, N), positives (P, N)), N = max H_i + M."""
    width = max(len(f) for f in example.features)
    p = len(example.features)
    feats = torch.zeros(p, width, example.features[0].shape[1])
    mask = torch.zeros(p, width, dtype=torch.bool)
    pos = torch.zeros(p, width, dtype=torch.bool)
    for i, (f, y) in enumerate(zip(example.features, example.positives, strict=True)):
        feats[i, : len(f)], mask[i, : len(f)], pos[i, : len(y)] = torch.as_tensor(f), True, torch.as_tensor(y)
    heads = [torch.as_tensor(h) for h in example.heads]
    spans = torch.as_tensor(example.spans).reshape(-1, heads[0].shape[1])  # (0, 2D) when the request has no candidate
    return torch.as_tensor(example.params), heads, spans, feats, mask, pos


def accuracy(scorer: FillerScorer, examples: list[RequestExample]) -> dict[str, float]:
    """Share of parameters whose top option is a positive, overall and by the gold option's kind."""
    hits: dict[str, list[float]] = defaultdict(list)
    scorer.eval()
    with torch.inference_mode():
        for example in examples:
            params, heads, spans, feats, mask, pos = _batch(example)
            top = scorer.forward_shared(params, heads, spans, feats, mask).argmax(-1)
            for i in range(len(top)):
                kind = "absent" if pos[i, 0] else ("ref" if feats[i, pos[i]].max(0).values[IS_ABSENT + 1] else "value")
                hit = float(pos[i, top[i]])
                hits[kind].append(hit)
                hits["all"].append(hit)
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())} | {"n": len(hits["all"])}


def heldout_ids(task_ids, share: float, rng: random.Random) -> set[str]:
    """The task ids held out for reported accuracy: a `share` of the distinct ids, drawn with `rng` (the scorer
    and the span reader draw with the same seed, so they hold out the same requests)."""
    ids = sorted(set(task_ids))
    rng.shuffle(ids)
    return set(ids[: int(round(share * len(ids)))])


def _say(text: str) -> None:
    print(text, flush=True)


def train_scorer(examples: list[RequestExample], config: FillerTrainConfig, log=_say):
    """(scorer, metrics): metrics hold the config, held-out accuracy, epochs' mean losses and seconds."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    held = heldout_ids([e.task_id for e in examples], config.holdout, rng)
    train = [e for e in examples if e.task_id not in held]
    test = [e for e in examples if e.task_id in held]
    dim = examples[0].params.shape[1]
    scorer = FillerScorer(dim, config.hidden, config.dropout)
    optimizer = torch.optim.AdamW(scorer.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start, losses = time.perf_counter(), []
    for epoch in range(config.epochs):
        scorer.train()
        rng.shuffle(train)
        total = 0.0
        for example in train:
            params, heads, spans, feats, mask, pos = _batch(example)
            loss = multi_positive_loss(scorer.forward_shared(params, heads, spans, feats, mask), pos)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        losses.append(total / max(len(train), 1))
        log(f"[filler] epoch {epoch + 1}/{config.epochs}: loss {losses[-1]:.4f}")
    metrics = {
        "config": asdict(config),
        "train_requests": len(train),
        "heldout_requests": len(test),
        "heldout_accuracy": accuracy(scorer, test) if test else {},
        "train_accuracy": accuracy(scorer, train[:200]),
        "losses": losses,
        "seconds": time.perf_counter() - start,
    }
    return scorer.eval(), metrics


def train_filler(
    data_dirs: list,
    out_dir,
    config: FillerTrainConfig | None = None,
    encoder: str = "minilm",
    log=_say,
    max_tasks: int | None = None,
) -> dict:
    """Train on the gold calls of dataset directories (`raytool data import` / `envs build` output, or a `distill
    synth` output's `teacher_calls/`: teacher-written values; the first `max_tasks` of each) and write a checkpoint
    to `out_dir` (atomically); returns the metrics (also in its filler.json)."""
    from raytool.cpu_training import torch_threads
    from raytool.memory import release_memory

    config = config or FillerTrainConfig()
    try:
        with torch_threads(config.threads):
            return _train_filler(data_dirs, out_dir, config, encoder, log, max_tasks)
    finally:
        release_memory()  # the training examples' heap (6 GB resident after 700 Seal-Tools requests) to the OS


def _train_filler(data_dirs: list, out_dir, config: FillerTrainConfig, encoder: str, log, max_tasks) -> dict:
    from collections import Counter
    from pathlib import Path

    from raytool.distill.call_arguments import PARTIAL
    from raytool.filler.checkpoint import save_scorer
    from raytool.filler.data import request_examples
    from raytool.filler.encoder import HashSpanEncoder, SpanEncoder
    from raytool.filler.reader_train import ReaderTrainConfig, reader_examples, train_reader
    from raytool.tools.dataset import ToolDataset

    text_encoder = SpanEncoder(bf16=None) if encoder == "minilm" else HashSpanEncoder()  # as `ArgumentFiller` reads
    examples, calls, counts, start = [], [], Counter(), time.perf_counter()
    with_reader = config.reader_epochs > 0 and encoder == "minilm"
    for data_dir in data_dirs:
        dataset = ToolDataset.load(data_dir)
        partial = dataset.info.get("arguments") == PARTIAL  # teacher-written calls (`distill synth`'s teacher_calls/)
        found = request_examples(dataset.tasks[:max_tasks], dataset.tools, text_encoder, counts, partial)
        kind = "teacher-written" if partial else "gold"
        log(f"[filler] {Path(data_dir).name}: {len(found):,} requests with {kind} arguments")
        examples.extend(found)
        if with_reader:
            calls.extend(reader_examples(dataset.tasks[:max_tasks], dataset.tools, counts, partial))
    if not examples:
        raise ValueError(f"no task in {[str(d) for d in data_dirs]} has gold calls with arguments to learn from")
    prepare = time.perf_counter() - start
    scorer, metrics = train_scorer(examples, config, log)
    metrics.update(examples=dict(counts), prepare_seconds=prepare, data=[str(d) for d in data_dirs])
    reader, reader_metrics = None, None
    if with_reader:
        reader_config = ReaderTrainConfig(epochs=config.reader_epochs, holdout=config.holdout, seed=config.seed,
                                          threads=config.threads)  # fmt: skip
        log(f"[filler] fine-tuning the span reader on {len(calls):,} calls ({config.reader_epochs} epochs)")
        reader, reader_metrics = train_reader(calls, reader_config, log=log)
        metrics["reader"] = {k: v for k, v in reader_metrics.items() if k != "losses"}
    meta = {"encoder": "hashing" if encoder != "minilm" else "minilm", "metrics": metrics}
    save_scorer(scorer, meta, out_dir, reader, {"metrics": reader_metrics})
    return metrics
