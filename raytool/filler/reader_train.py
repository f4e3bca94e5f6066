"""Fine-tuning the `SpanReader` (`reader.py`) on gold calls: the same examples as the scorer (`data.py`), laid out
one call per sequence.

    calls = reader_examples(tasks, tools)                # (task id, layout inputs, positives per parameter)
    reader, metrics = train_reader(calls, ReaderTrainConfig())

Per parameter the positives over {none} + the request's candidates: "none" when the gold call leaves the
parameter out, else every candidate whose normalised value equals the gold value (`data.positives_for`).
Parameters whose gold value is a reference to an earlier call (the scorer's job) or that no candidate yields are
laid out (the other parameters read them) but give no loss. AdamW (encoder `lr`, head `head_lr`), linear decay,
`batch` calls per step, requests held out by task id as the scorer's are (same seed, same share).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from raytool.cpu_training import adamw, set_attention_dropout, torch_threads
from raytool.filler.data import ABSENT, positives_for
from raytool.filler.options import Option, param_text
from raytool.filler.reader import SpanReader
from raytool.filler.spans import Candidates, extract
from raytool.filler.train import _say, heldout_ids
from raytool.tools.call import is_result_ref
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


@dataclass
class ReaderTrainConfig:
    """epochs: passes over the training calls; lr / head_lr: AdamW steps of the encoder / the head; batch: calls
    per step; width: the head's bilinear width; holdout / seed: as `FillerTrainConfig`'s (the same held-out
    requests); threads: torch CPU threads while training; attention_dropout: the encoder's attention-probability
    dropout while fine-tuning (None: its own, 0.1, which costs a third of the training time on a CPU, `cpu_training`;
    0 gave the same held-out accuracy, 0.834, and parameter F1, docs/filler.md)."""

    epochs: int = 4
    lr: float = 8e-5
    head_lr: float = 1e-3
    batch: int = 8
    width: int = 128
    holdout: float = 0.1
    seed: int = 0
    threads: int = 2
    attention_dropout: float | None = 0.0


@dataclass
class CallExample:
    """One gold call: its request's candidates, its parameters' texts, per parameter the positives over {none} +
    candidates (None: no loss for that parameter)."""

    task_id: str
    cands: Candidates
    params: list[str]
    positives: list[np.ndarray | None]


def reader_examples(tasks: Iterable[Task], tools: dict[str, ToolSpec], counts: Counter | None = None,
                    partial: bool = False) -> list[CallExample]:  # fmt: skip
    """One `CallExample` per gold call with arguments and at least one parameter with a loss (module docstring);
    `partial`: parameters a call leaves out are unknown (teacher-written calls, as in `data.request_examples`)."""
    counts = Counter() if counts is None else counts
    out = []
    for task in tasks:
        cands = None
        for call in task.calls:
            spec = tools.get(call.name)
            if spec is None or call.arguments is None or not spec.properties:
                continue
            cands = cands or extract(task.query)
            options = [Option("absent"), *(Option("value", candidate=c) for c in cands.items)]
            texts, positives = [], []
            for name, schema in spec.properties.items():
                schema = schema if isinstance(schema, dict) else {}
                texts.append(param_text(name, schema))
                gold = call.arguments.get(name, ABSENT)
                if (partial and gold is ABSENT) or is_result_ref(gold):
                    positives.append(None)
                    counts["reader_no_loss"] += 1
                    continue
                pos = positives_for(options, gold, schema, name)
                positives.append(pos if pos.any() else None)
                counts["reader_used" if pos.any() else "reader_unstated"] += 1
            if any(p is not None for p in positives):
                out.append(CallExample(task.id, cands, texts, positives))
    return out


def _loss(scores: list[torch.Tensor], examples: list[CallExample]) -> torch.Tensor:
    terms = []
    for s, ex in zip(scores, examples, strict=True):
        log_p = torch.log_softmax(s, dim=-1)
        for i, pos in enumerate(ex.positives):
            if pos is not None:
                terms.append(-torch.logsumexp(log_p[i][torch.as_tensor(pos)], dim=0))
    return torch.stack(terms).mean()


def reader_accuracy(reader: SpanReader, layouts: list[dict], examples: list[CallExample], batch: int = 16) -> dict:
    """Share of parameters (with a loss) whose top option is a positive: all, gold "none", gold value."""
    hits: dict[str, list[float]] = {"all": [], "none": [], "value": []}
    for at in range(0, len(examples), batch):
        probs = reader.probabilities(layouts[at : at + batch])
        for p, ex in zip(probs, examples[at : at + batch], strict=True):
            for i, pos in enumerate(ex.positives):
                if pos is None:
                    continue
                hit = float(pos[int(p[i].argmax())])
                hits["none" if pos[0] else "value"].append(hit)
                hits["all"].append(hit)
    return {k: float(np.mean(v)) if v else float("nan") for k, v in hits.items()} | {"n": len(hits["all"])}


def train_reader(examples: list[CallExample], config: ReaderTrainConfig, reader: SpanReader | None = None,
                 log=_say) -> tuple[SpanReader, dict]:  # fmt: skip
    """(reader, metrics) after `config.epochs` passes (module docstring). `reader`: start from this one (tests
    pass a small model); default all-MiniLM-L6-v2."""
    torch.manual_seed(config.seed)
    with torch_threads(config.threads):
        rng = random.Random(config.seed)
        held = heldout_ids([e.task_id for e in examples], config.holdout, rng)
        reader = reader or SpanReader.from_minilm(config.width)
        train = [(reader.layout(e.cands, e.params), e) for e in examples if e.task_id not in held]
        test = [(reader.layout(e.cands, e.params), e) for e in examples if e.task_id in held]
        head = list(reader.head.parameters())
        set_attention_dropout(reader.encoder, config.attention_dropout)
        optimizer = adamw(
            [{"params": list(reader.encoder.parameters()), "lr": config.lr}, {"params": head, "lr": config.head_lr}]
        )
        steps = config.epochs * max(1, -(-len(train) // config.batch))
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: max(0.0, 1.0 - k / steps))
        start, losses = time.perf_counter(), []
        for epoch in range(config.epochs):
            reader.train()
            order = list(range(len(train)))
            rng.shuffle(order)
            order.sort(key=lambda k: len(train[k][0]["ids"]) // 16)  # similar lengths per batch: less padding
            batches = [order[k : k + config.batch] for k in range(0, len(order), config.batch)]
            rng.shuffle(batches)
            total = 0.0
            for n, batch in enumerate(batches):
                loss = _loss(reader([train[k][0] for k in batch]), [train[k][1] for k in batch])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(reader.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                total += float(loss.detach())
                if (n + 1) % 100 == 0:
                    log(f"[reader] epoch {epoch + 1}: {n + 1}/{len(batches)} steps, loss {total / (n + 1):.4f}")
            losses.append(total / max(len(batches), 1))
            log(f"[reader] epoch {epoch + 1}/{config.epochs}: loss {losses[-1]:.4f}")
        metrics = {
            "config": asdict(config),
            "train_calls": len(train),
            "heldout_calls": len(test),
            "heldout_accuracy": reader_accuracy(reader, [t[0] for t in test], [t[1] for t in test]) if test else {},
            "losses": losses,
            "seconds": time.perf_counter() - start,
        }
        return reader.eval(), metrics
