"""Training the segmenter (`raytool.planner.segmenter`) on builder requests with known sub-tasks.

    raytool planner train-segmenter --out DIR

Data: tasks composed by the environment builder (`BuildConfig`, levels 2-4 over all suites, seeds far from the
held-out ones: the natural test set is rewritten from seed 11 and 21 tasks), each written once in the step template
(`compose.render_query_spans`) and `phrasings` times in varied language (`raytool.envs.phrasing`, a different
random stream each). Every request comes with each call's character span and each call's dependencies (its
gold `depends_on`). Targets: a B / I / O tag per word piece (B: the first piece of a call's span), and for each
pair of calls (earlier, later) whether the later one depends on the earlier. Loss: cross-entropy on the tags plus
binary cross-entropy on the pairs (pooled over the gold spans). Tasks are split by task into train and held-out;
the held-out figures (tag accuracy, exact span F1, dependency accuracy) go into `segmenter.json`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from raytool.planner.segmenter import CHECKPOINT, META, TAGS, Segmenter, TokenEncoder, build_head


@dataclass(frozen=True)
class SegmenterTrainConfig:
    """Settings of `train_segmenter`.

    levels / tasks_per_level / seed: the builder tasks (all suites; seed + level per level).
    phrasings: varied renderings per task, besides its template one.
    epochs / lr / hidden / batch: each head's training (batch: requests per Adam step, padded and packed through the
    GRU together; the loss is the mean of the requests' own losses); holdout: share of tasks held out.
    heads / init_seed: how many heads are trained on the same examples, from torch seeds init_seed, init_seed + 1,
    ...; the segmenter averages their probabilities (`raytool.planner.segmenter`).
    """

    levels: tuple[int, ...] = (2, 3, 4)
    tasks_per_level: int = 150
    seed: int = 1000
    phrasings: int = 2
    epochs: int = 6
    lr: float = 5e-3
    hidden: int = 64
    batch: int = 16
    holdout: float = 0.1
    heads: int = 3
    init_seed: int = 0

    def __post_init__(self) -> None:
        if self.heads < 1:
            raise ValueError(f"segmenter heads must be at least 1, got {self.heads}")
        if self.batch < 1:
            raise ValueError(f"segmenter batch must be at least 1, got {self.batch}")


@dataclass(frozen=True)
class Example:
    task: str
    text: str
    spans: tuple[tuple[int, int], ...]
    depends_on: tuple[tuple[int, ...], ...]


def training_examples(config: SegmenterTrainConfig) -> list[Example]:
    """Template and varied renderings of builder tasks, with call spans and dependencies (module docstring)."""
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.envs.phrasing import renderings
    from raytool.envs.suites import SUITE_NAMES, get_suite

    tools = {name: tool for suite in SUITE_NAMES for name, tool in get_suite(suite).tools.items()}
    examples = []
    for level in config.levels:
        build = BuildConfig(tuple(SUITE_NAMES), level, config.tasks_per_level, config.seed + level, integration_walks=0)
        for task in build_tasks(build, log=lambda _: None).tasks:
            deps = tuple(tuple(c.depends_on) for c in task.calls)
            written = renderings(task, tools, config.phrasings, "segmenter")
            examples += [in_text_order(task.id, text, spans, deps) for text, spans in written]
    return examples


def in_text_order(task: str, text: str, spans, depends_on) -> Example:
    """An example whose sub-tasks are numbered as the text writes them (spans given in the calls' order, which a
    reordered request does not follow), dependencies renumbered to match."""
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    position = {call: k for k, call in enumerate(order)}
    return Example(
        task, text, tuple(tuple(spans[call]) for call in order),
        tuple(tuple(sorted(position[d] for d in depends_on[call])) for call in order),
    )  # fmt: skip


def piece_tags(offsets: np.ndarray, spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The B / I / O target of every word piece (B: the first piece inside a span)."""
    tags = np.zeros(len(offsets), np.int64)
    for start, end in spans:
        inside = np.flatnonzero((offsets[:, 0] >= start) & (offsets[:, 1] <= end))
        if len(inside):
            tags[inside] = TAGS.index("I")
            tags[inside[0]] = TAGS.index("B")
    return tags


def train_segmenter(
    out_dir: Path, config: SegmenterTrainConfig = SegmenterTrainConfig(), encoder: TokenEncoder | None = None,
    log: Callable[[str], None] = print,
) -> dict:  # fmt: skip
    """Build the data, train the heads, write `segmenter.pt` + `segmenter.json` into `out_dir`; returns the meta."""
    import torch

    from raytool.tools.files import atomic_dir

    start = time.perf_counter()
    examples = training_examples(config)
    encoder = encoder or TokenEncoder()
    encoded = []
    for i in range(0, len(examples), 32):
        encoded += encoder.encode([e.text for e in examples[i : i + 32]])
    tasks = sorted({e.task for e in examples})
    held = set(random.Random(config.seed).sample(tasks, max(1, int(len(tasks) * config.holdout))))
    train = [i for i, e in enumerate(examples) if e.task not in held]
    test = [i for i, e in enumerate(examples) if e.task in held]
    log(f"[segmenter] {len(examples)} requests ({len(train)} train, {len(test)} held out), "
        f"encoded in {time.perf_counter() - start:.0f}s")  # fmt: skip
    heads = [_train_head(examples, encoded, train, config, k, log) for k in range(config.heads)]
    segmenter = Segmenter(heads, encoder)
    metrics = evaluate_segmenter(segmenter, [examples[i] for i in test], [encoded[i] for i in test])
    log("[segmenter] held out: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    meta = {"dim": int(encoded[0][0].shape[1]), "hidden": config.hidden, "threshold": segmenter.threshold,
            "max_dependencies": segmenter.max_dependencies, "metrics": metrics, "config": asdict(config),
            "requests": len(examples), "seconds": round(time.perf_counter() - start, 1),
            "encoder": "all-MiniLM-L6-v2"}  # fmt: skip
    with atomic_dir(out_dir) as tmp:
        torch.save([head.state_dict() for head in heads], tmp / CHECKPOINT)
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _train_head(examples, encoded, train: list[int], config: SegmenterTrainConfig, k: int, log):
    """Head `k`: torch seed `init_seed + k`, its own shuffling stream, `epochs` passes over the training examples."""
    import torch

    torch.manual_seed(config.init_seed + k)
    head = build_head(encoded[0][0].shape[1], config.hidden)
    optimizer = torch.optim.Adam(head.parameters(), lr=config.lr)
    rng, order = random.Random(config.seed + k), list(train)
    for epoch in range(config.epochs):
        rng.shuffle(order)
        total = 0.0
        for at in range(0, len(order), config.batch):
            batch = order[at : at + config.batch]
            loss = batch_loss(head, [examples[i] for i in batch], [encoded[i] for i in batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        log(f"[segmenter] head {k + 1}/{config.heads} epoch {epoch + 1}/{config.epochs}: loss {total / len(train):.4f}")
    return head


def batch_loss(head, examples: list[Example], encoded: list[tuple[np.ndarray, np.ndarray]]):
    """The mean of the requests' losses (`request_loss`), their word-piece vectors run through the head's GRU as one
    padded, packed batch (the same states as one request at a time)."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

    lengths = [len(vectors) for vectors, _ in encoded]
    padded = pad_sequence([torch.from_numpy(vectors) for vectors, _ in encoded], batch_first=True)
    packed = pack_padded_sequence(padded, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    states, _ = pad_packed_sequence(head.gru(packed)[0], batch_first=True)
    logits = head.tags(states)
    losses = [request_loss(head, example, logits[b, :n], states[b, :n], offsets)
              for b, (example, n, (_, offsets)) in enumerate(zip(examples, lengths, encoded, strict=True))]  # fmt: skip
    return torch.stack(losses).mean()


def request_loss(head, example: Example, logits, states, offsets: np.ndarray):
    """One request's loss: cross-entropy of its pieces' B / I / O tags, plus the binary cross-entropy of every
    (earlier, later) sub-task pair's dependency. `logits` / `states`: the head's outputs over its pieces."""
    import torch
    import torch.nn.functional as F

    from raytool.planner.segmenter import _pieces, pair_features

    loss = F.cross_entropy(logits, torch.from_numpy(piece_tags(offsets, example.spans)))
    if len(example.spans) > 1:
        pooled = torch.stack([states[_pieces(offsets, a, b)].mean(0) for a, b in example.spans])
        pairs = [(i, j) for j in range(1, len(example.spans)) for i in range(j)]
        earlier = pooled[[i for i, _ in pairs]]
        later = pooled[[j for _, j in pairs]]
        labels = torch.tensor([float(i in example.depends_on[j]) for i, j in pairs])
        texts = [example.text[a:b] for a, b in example.spans]
        gaps = [""] + [example.text[example.spans[k - 1][1] : example.spans[k][0]] for k in range(1, len(texts))]
        features = torch.tensor([pair_features(texts[i], texts[j], j - i, gaps[j]) for i, j in pairs])
        loss = loss + F.binary_cross_entropy_with_logits(head.pair_logits(earlier, later, features), labels)
    return loss


def evaluate_segmenter(segmenter: Segmenter, examples: list[Example], encoded: list) -> dict[str, float]:
    """Held-out tag accuracy, exact-span F1 and dependency accuracy (of calls whose span was found exactly)."""
    import torch

    right = pieces = found = predicted = gold = deps_right = deps_total = 0
    for example, (vectors, offsets) in zip(examples, encoded, strict=True):
        with torch.inference_mode():
            outputs = [head(torch.from_numpy(vectors)[None]) for head in segmenter.heads]
        tags = segmenter.tag_probabilities(outputs).argmax(-1).numpy()
        right += int((tags == piece_tags(offsets, example.spans)).sum())
        pieces += len(tags)
        segments = segmenter._one(example.text, vectors, offsets)
        spans = [_trim(example.text, s.start, s.end) for s in segments]
        gold_spans = [_trim(example.text, a, b) for a, b in example.spans]
        predicted += len(spans)
        gold += len(gold_spans)
        index = {span: k for k, span in enumerate(spans)}
        for j, span in enumerate(gold_spans):
            if span in index:
                found += 1
                mapped = {gold_spans.index(spans[d]) if spans[d] in gold_spans else -1
                          for d in segments[index[span]].depends_on}  # fmt: skip
                deps_right += mapped == set(example.depends_on[j])
                deps_total += 1
    precision, recall = found / max(predicted, 1), found / max(gold, 1)
    return {
        "tag_accuracy": right / max(pieces, 1),
        "span_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "dependency_accuracy": deps_right / max(deps_total, 1),
    }


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without surrounding spaces and final punctuation (so tokenizer offsets and gold spans compare)."""
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end
