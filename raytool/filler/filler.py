"""`ArgumentFiller`: the arguments of a chosen tool, read from the request — never invented.

    filler = ArgumentFiller.load(path)                  # or ArgumentFiller(FillerScorer(), SpanEncoder())
    fill = filler.fill(request, spec, earlier=[EarlierCall(0, first_spec)])
    fill.arguments   {"fare_id": "FR-1", "traveller": {"$ref": 0, "path": "traveller_id"}}
    fill.missing     ("date",)          required parameters the request does not give
    fill.rejected    {"cabin": "enum"}  text was found but is not a value of the parameter's type
    fills = filler.fill_batch([(request, spec, earlier), ...])   # one encoder and one scorer pass for all

Per call: the request's candidates (`spans.py`) are encoded once (one MiniLM forward, cached for the next call of
the same request), every parameter's options (absent / reference / value, `options.py`) are scored
(`FillerScorer`), then assigned greedily by score: a parameter takes its best option whose value normalises to
its type (`normalise.py`) and does not overlap a value another parameter of the same call took. "absent" for a
required parameter makes it `missing`; an optional parameter is left out unless the request gives it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from raytool.filler.features import RequestFeatures, name_words
from raytool.filler.model import FillerScorer
from raytool.filler.normalise import member_at, named_flag, named_member, normalise, param_type
from raytool.filler.options import EarlierCall, Option, param_text, parameter_options
from raytool.filler.spans import extract
from raytool.tools.call import result_ref
from raytool.tools.spec import ToolSpec

# the reader's weight in the product of experts (`_read`), chosen on the filler's held-out training requests
# (Seal-Tools dev, 68 requests, gold tools: parameter F1 0.646 scorer alone; w = 0.3 / 0.5 / 0.7: 0.720 / 0.716 /
# 0.696 with the reader's "none"; the reader alone 0.644; docs/filler.md)
READER_WEIGHT = 0.3
# a call is read only when some parameter's top scorer probability is below this (same held-out requests: 163 calls
# read without a gate, 109 with 0.8 at the same parameter F1 0.720; 85 with 0.7 at 0.711; docs/filler.md)
READER_GATE = 0.8


@dataclass(frozen=True)
class Fill:
    """One call's arguments (module docstring); `scores` holds each filled parameter's option probability."""

    arguments: dict[str, Any]
    missing: tuple[str, ...] = ()
    rejected: dict[str, str] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {"arguments": self.arguments, "missing": list(self.missing), "rejected": dict(self.rejected)}


class ArgumentFiller:
    """See the module docstring. `encoder`: `SpanEncoder` (MiniLM) or `HashSpanEncoder` (tests)."""

    def __init__(
        self,
        scorer: FillerScorer,
        encoder,
        max_chars: int = 2000,
        reader=None,
        reader_weight: float = READER_WEIGHT,
        reader_none: bool = True,
        reader_gate: float | None = READER_GATE,
    ) -> None:
        self.scorer = scorer.eval()
        self.reader_weight = reader_weight
        self.reader_none = reader_none
        self.reader_gate = reader_gate
        self.encoder = encoder
        self.max_chars = max_chars
        self.reader = reader.eval() if reader is not None else None
        self._request: tuple[str, RequestFeatures, np.ndarray] | None = None

    @classmethod
    def load(
        cls,
        path: str | Path,
        encoder=None,
        use_reader: bool = True,
        int8: bool | None = None,
        int8_encoder: bool = False,
        bf16_encoder: bool | None = None,
        frozen: bool = True,
    ) -> ArgumentFiller:
        """The checkpoint at `path`, with its span reader when it has one (`use_reader=False`: the scorer alone;
        `int8`: the reader's linear layers quantized to int8 for inference, `checkpoint.quantize_linear`; False:
        float32; None: int8, or the reader's encoder in bf16 where the CPU computes bf16 natively — on an AMD EPYC
        with AVX512-BF16 int8 moved 3-4 of 120 held-out parameters of the reader's learning test, bf16 none).
        `int8_encoder`: the frozen MiniLM encoder's too — a request's first call in about 0.6x the time, at a cost in
        parameter F1 that depends on the data (none on Seal-Tools, -0.04 on ToolAlpaca: docs/filler.md), so off.
        `bf16_encoder`: the frozen encoder in bf16 (None: where the CPU computes bf16 natively; the same parameter
        F1 as float32 on Seal-Tools, ToolAlpaca and the suites, a request's first call about 0.75x: docs/filler.md).
        `frozen`: both encoders run as traced, frozen graphs (`raytool.cpu_inference`: the same values, faster)."""
        from raytool.filler.checkpoint import load_reader, load_scorer

        scorer, meta = load_scorer(path)
        if encoder is None:
            from raytool.filler.encoder import HashSpanEncoder, SpanEncoder

            hashing = meta.get("encoder") == "hashing"
            encoder = HashSpanEncoder() if hashing else SpanEncoder(int8=int8_encoder, bf16=bf16_encoder, frozen=frozen)
        if int8 is None:
            from raytool.hardware import cpu_has_bf16

            bf16 = cpu_has_bf16()
            int8 = not bf16
        else:
            bf16 = False
        reader = load_reader(path, int8=int8, bf16=bf16, frozen=frozen) if use_reader else None
        return cls(scorer, encoder, reader=reader)

    def candidates(self, request: str) -> tuple[RequestFeatures, np.ndarray]:
        """The request's candidates (with their features) and their vectors (the last request's are reused)."""
        if self._request is None or self._request[0] != request:
            cands = extract(request, max_chars=self.max_chars)
            vectors = self.encoder.spans(cands.text, cands.items)
            self._request = (request, RequestFeatures(cands), vectors)
        return self._request[1], self._request[2]

    def fill(self, request: str, spec: ToolSpec, earlier: Sequence[EarlierCall] = ()) -> Fill:
        if not spec.properties:
            return Fill({})
        cands, span_vectors = self.candidates(request)
        laid_out = self._lay_out(spec, cands, span_vectors, earlier)
        scores = self.score([text for text, _ in laid_out], [(v, f) for _, (_, v, f) in laid_out])
        if self.reader is not None:
            scores = self._read([(cands.cands, laid_out)], scores)
        return self._decide(spec, laid_out, scores, request)

    def fill_batch(self, jobs: Sequence[tuple[str, ToolSpec, Sequence[EarlierCall]]]) -> list[Fill]:
        """`fill` of many (request, spec, earlier) calls at once: the distinct requests' candidates in one padded
        MiniLM forward, every parameter of every call in one scorer pass (the served, batched path)."""
        requests = list(dict.fromkeys(request for request, _, _ in jobs))
        extracted = [extract(r, max_chars=self.max_chars) for r in requests]
        vectors = self.encoder.spans_many([c.text for c in extracted], [c.items for c in extracted])
        encoded = {r: (RequestFeatures(c), v) for r, c, v in zip(requests, extracted, vectors, strict=True)}
        laid = [self._lay_out(spec, *encoded[request], earlier) for request, spec, earlier in jobs]
        flat = [param for params in laid for param in params]
        scores = self.score([text for text, _ in flat], [(v, f) for _, (_, v, f) in flat]) if flat else []
        if self.reader is not None and flat:
            calls = [(encoded[request][0].cands, params) for (request, _, _), params in zip(jobs, laid, strict=True)]
            scores = self._read([c for c in calls if c[1]], scores)
        fills, at = [], 0
        for (request, spec, _), params in zip(jobs, laid, strict=True):
            fills.append(self._decide(spec, params, scores[at : at + len(params)], request))
            at += len(params)
        return fills

    def _lay_out(self, spec: ToolSpec, cands: RequestFeatures, span_vectors: np.ndarray, earlier) -> list[tuple]:
        """Per parameter: (its text, (options, vectors, features))."""
        props = spec.properties
        return [
            (param_text(n, props[n] or {}), parameter_options(
                n, props[n] if isinstance(props[n], dict) else {}, n in spec.required, cands, span_vectors, earlier,
                self._field_vector,
            ))
            for n in props
        ]  # fmt: skip

    @staticmethod
    def _decide(spec: ToolSpec, laid_out: list[tuple], scores: list[np.ndarray], request: str = "") -> Fill:
        options = [opts for _, (opts, _, _) in laid_out]
        return decide(list(spec.properties), spec.properties, spec.required, options, scores, request)

    def fill_plan(self, request: str, specs: Sequence[ToolSpec], known: Sequence[Fill] = ()) -> list[Fill]:
        """Arguments for a sequence of calls of one request; call i may reference calls j < i. `known`: the fills
        of the first calls, already made for the same request and tools (a call's fill depends on nothing else)."""
        fills = list(known)
        for i in range(len(fills), len(specs)):
            fills.append(self.fill(request, specs[i], [EarlierCall(j, s) for j, s in enumerate(specs[:i])]))
        return fills

    def score(self, param_texts: list[str], options: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Softmax over each parameter's options: one (N_i,) array per parameter. Parameters are scored in groups
        of similar option counts (each group padded to its widest), so a batch of short and long requests does not
        pad every parameter to the longest request's options."""
        params = torch.as_tensor(self.encoder.texts(param_texts))
        out: list[np.ndarray | None] = [None] * len(options)
        for group in _width_groups([len(v) for v, _ in options]):
            width = len(options[group[-1]][0])
            vecs = torch.zeros(len(group), width, options[0][0].shape[1])
            feats = torch.zeros(len(group), width, options[0][1].shape[1])
            mask = torch.zeros(len(group), width, dtype=torch.bool)
            for row, i in enumerate(group):
                v, f = options[i]
                vecs[row, : len(v)], feats[row, : len(f)] = torch.as_tensor(v), torch.as_tensor(f)
                mask[row, : len(v)] = True
            with torch.inference_mode():
                probs = torch.softmax(self.scorer(params[group], vecs, feats, mask), dim=-1).numpy()
            for row, i in enumerate(group):
                out[i] = probs[row, : len(options[i][0])]
        return out

    def _read(self, calls: list[tuple], scores: list[np.ndarray]) -> list[np.ndarray]:
        """The span reader's say (`reader.py`), a product of experts: per parameter, the scorer's total probability
        of "absent or a value of the request" is shared among absent and the candidates in proportion to
        p_scorer^(1 - w) x p_reader^w (the reader's "none" standing for absent; `reader_none=False`: among the
        candidates only); the references keep the scorer's probabilities. w = `reader_weight`. With `reader_gate`
        set, a call whose every parameter's top scorer probability reaches it is not read (a cascade: one encoder
        forward saved). `calls`: (candidates, laid-out parameters) in `scores`' order."""
        sizes = np.cumsum([0] + [len(params) for _, params in calls])
        wanted = [
            self.reader_gate is None or min(float(s.max()) for s in scores[sizes[k] : sizes[k + 1]]) < self.reader_gate
            for k in range(len(calls))
        ]  # fmt: skip
        layouts = [
            self.reader.layout(c, [t for t, _ in params]) for (c, params), w in zip(calls, wanted, strict=True) if w
        ]
        read = iter([p.numpy() for p in self.reader.probabilities(layouts)] if layouts else [])
        out, at = list(scores), 0
        for (cands, params), want in zip(calls, wanted, strict=True):
            if not want:  # the scorer is sure of every parameter: its fill stands
                at += len(params)
                continue
            probs = next(read)
            m = len(cands.items)
            w = self.reader_weight
            for i in range(len(params)):
                p = out[at + i].copy()
                values = np.arange(len(p) - m, len(p))  # the candidates, last among the options
                cols = np.r_[0, values] if self.reader_none else values  # option 0 is "absent", the reader's "none"
                theirs = probs[i] if self.reader_none else probs[i, 1:]
                mixed = theirs**w * p[cols] ** (1.0 - w)
                p[cols] = p[cols].sum() * mixed / max(mixed.sum(), 1e-12)
                out[at + i] = p
            at += len(params)
        return out

    def _field_vector(self, text: str) -> np.ndarray:
        return self.encoder.texts([text])[0]


def _width_groups(widths: list[int], slack: float = 1.25) -> list[list[int]]:
    """Indices of `widths` in groups sorted by width, each group's widest at most `slack` x its narrowest (+ 8)."""
    groups: list[list[int]] = []
    for i in sorted(range(len(widths)), key=widths.__getitem__):
        if groups and widths[i] <= slack * widths[groups[-1][0]] + 8:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def decide(
    names: list[str],
    props: dict[str, Any],
    required: Sequence[str],
    options: list[list[Option]],
    probs: list[np.ndarray],
    request: str = "",
) -> Fill:
    """Greedy assignment by probability (module docstring): each parameter's best usable option; values that do
    not normalise are skipped (their reason kept), values may not overlap across parameters. A parameter left
    absent takes a value `request` gives in words (`_named`): a boolean it names ("with full coverage", "no full
    coverage"), an enum member it writes ("an L4", "aisle seats"). Two parameters named as the first and second of
    one thing take their values in the request's order (`_in_request_order`)."""
    ranked = sorted(
        ((float(p), i, k) for i, row in enumerate(probs) for k, p in enumerate(row)), key=lambda t: -t[0]
    )  # fmt: skip
    chosen: dict[int, tuple[Option, Any, float]] = {}
    taken: list[tuple[int, int]] = []
    rejected: dict[str, str] = {}
    for prob, i, k in ranked:
        if i in chosen:
            continue
        option = options[i][k]
        if option.kind == "absent":
            chosen[i] = (option, None, prob)
        elif option.kind == "ref":
            chosen[i] = (option, result_ref(option.ref_call, option.ref_path), prob)
        else:
            cand = option.candidate
            schema = props[names[i]] if isinstance(props[names[i]], dict) else {}
            value, reason = normalise(cand.as_value, schema, names[i])
            start, end = _value_range(cand, value, schema) if reason is None else (cand.start, cand.end)
            if any(start < e and s < end for s, e in taken):
                continue
            if reason is not None:
                rejected.setdefault(names[i], reason)
                continue
            chosen[i] = (option, value, prob)
            taken.append((start, end))
    for longer in (_whole_name, _whole_quote):  # names, then quoted values, read whole (`_read_on`)
        _read_on(names, props, options, chosen, taken, functools.partial(longer, request=request))
    _in_request_order(names, props, options, chosen)
    arguments, missing, scores = {}, [], {}
    for i, name in enumerate(names):
        option, value, prob = chosen.get(i, (Option("absent"), None, 0.0))
        schema = props[name] if isinstance(props[name], dict) else {}
        if option.kind == "absent":
            named = _named(request, name, schema, props, taken)
            if named is not None:
                option, value, prob = Option("value"), named, 1.0
        if option.kind == "absent":
            if name in required:
                missing.append(name)
            continue
        arguments[name], scores[name] = value, prob
        rejected.pop(name, None)  # a parameter filled in the end keeps no reason
    return Fill(arguments, tuple(missing), rejected, scores)


def _in_request_order(
    names: list[str], props: dict[str, Any], options: list[list[Option]], chosen: dict[int, tuple]
) -> None:
    """Parameters named as the first and second of one thing (`site_a` / `site_b`, `mass1` / `mass2`, `siteA` /
    `siteB`) that both took a value of the request take them in the order the request first mentions them
    (swapped in `chosen` when the scorer had them the other way round and each value normalises to the other's
    type): the scorer cannot tell such a pair apart, and Seal-Tools dev and test_in_domain and the suites write all
    15 such pairs whose values are both in the request in that order. First mentions, since a value may be named
    again later ("the latency between nyc-dc1 and sin-dc3, and how loaded is nyc-dc1")."""
    slots: dict[str, dict[int, int]] = {}
    for i, name in enumerate(names):
        found = _ORDINAL.match("_".join(name_words(name)))
        if found:
            slots.setdefault(found.group(1), {})[_ORDINALS[found.group(2)]] = i
    for pair in slots.values():
        first, second = pair.get(0), pair.get(1)
        if first is None or second is None or first not in chosen or second not in chosen:
            continue
        (a, _, pa), (b, _, pb) = chosen[first], chosen[second]
        if a.kind != "value" or b.kind != "value":
            continue
        if _first_mention(options[first], a.candidate) <= _first_mention(options[second], b.candidate):
            continue
        schema_a, schema_b = (props[names[k]] if isinstance(props[names[k]], dict) else {} for k in (first, second))
        va, reason_a = normalise(b.candidate.as_value, schema_a, names[first])
        vb, reason_b = normalise(a.candidate.as_value, schema_b, names[second])
        if reason_a is None and reason_b is None:
            chosen[first], chosen[second] = (b, va, pb), (a, vb, pa)


def _first_mention(row: list[Option], cand) -> int:
    """The start of the earliest candidate among a parameter's options with `cand`'s value."""
    return min(o.candidate.start for o in row if o.kind == "value" and o.candidate.as_value == cand.as_value)


_TITLE_WORD = re.compile(r"[A-Z][a-z][A-Za-z'’-]*")  # a capitalised word ("Works", "Battery"; not "A100", "RTX")
_NEXT_TITLE_WORD = re.compile(r" [A-Z][a-z][A-Za-z]*(?=[\s'’,.;:!?)\"]|$)")  # the next word, capitalised


def _read_on(names, props, options, chosen, taken, longer) -> None:
    """Each string value (no enum) for which `longer(options_i, candidate)` offers a longer reading of the same start
    takes it where the words it adds are no other parameter's value and it normalises (`_whole_name`, `_whole_quote`):
    the scorer cuts names and quoted values where its training values were shorter."""
    for i, (option, _, prob) in list(chosen.items()):
        schema = props[names[i]] if isinstance(props[names[i]], dict) else {}
        if option.kind != "value" or param_type(schema) != "string" or "enum" in schema:
            continue
        whole = longer(options[i], option.candidate)
        if whole is None:
            continue
        extra = (option.candidate.end, whole.candidate.end)
        if any(extra[0] < e and s < extra[1] for s, e in taken):
            continue
        value, reason = normalise(whole.candidate.as_value, schema, names[i])
        if reason is None:
            chosen[i] = (whole, value, prob)
            taken.append(extra)


def _whole_name(options: Sequence[Option], cand, request: str) -> Option | None:
    """The option of the same start reading `cand` (capitalised words only) on to the end of the run of capitalised
    words it stops inside; None when it ends the run, is no such run, or no candidate spans the longer reading."""
    if not cand.text or not all(_TITLE_WORD.fullmatch(w) for w in cand.text.split()):
        return None
    spans = {
        (o.candidate.start, o.candidate.end): o for o in options if o.kind == "value" and o.candidate.kind == "span"
    }
    best, end = None, cand.end
    while (match := _NEXT_TITLE_WORD.match(request, end)) and (cand.start, match.end()) in spans:
        end = match.end()
        best = spans[(cand.start, end)]
    return best


def _whole_quote(options: Sequence[Option], cand, request: str) -> Option | None:
    """The quoted option that `cand` begins ("Dream Big" of 'Dream Big, Achieve Bigger'), read on to the closing
    quote: a request quotes a value to say where it ends. None when there is none or the rest holds no word (only the
    quote's own full stop: "author" of 'author.')."""
    whole = next((o for o in options if o.kind == "value" and o.candidate.kind == "quoted"
                  and o.candidate.start == cand.start and o.candidate.end > cand.end), None)  # fmt: skip
    return whole if whole is not None and _WORD.search(request, cand.end, whole.candidate.end) else None


_WORD = re.compile(r"\w")
_ORDINAL = re.compile(r"^(.*?)[_\-]?(a|b|1|2|first|second)$")
_ORDINALS = {"a": 0, "1": 0, "first": 0, "b": 1, "2": 1, "second": 1}


def _named(request: str, name: str, schema: dict[str, Any], props: dict[str, Any], taken: list) -> Any:
    """A value the request gives for a parameter the scorer left absent, read from its words: a boolean it names
    (`named_flag`), or the one enum member it writes that no other value of the call covers (`named_member`; the
    range is added to `taken`) and that is not also a member of another enum parameter of the tool (which one it
    is would be a guess). None otherwise."""
    if param_type(schema) == "boolean":
        return named_flag(request, name)
    members = schema.get("enum")
    if not isinstance(members, list) or not request:
        return None
    found = named_member(request, members, taken)
    if found is None:
        return None
    value, start, end = found
    others = [p.get("enum") or [] for n, p in props.items() if n != name and isinstance(p, dict)]
    if any(str(value).lower() in {str(m).lower() for m in other} for other in others):
        return None
    taken.append((start, end))
    return value


def _value_range(cand, value: Any, schema: dict[str, Any]) -> tuple[int, int]:
    """The characters a value read from `cand` uses: for an enum member inside a longer candidate, the member's
    own words ("small" in "small training workload"), so another parameter may still take the rest ("training");
    otherwise the whole candidate."""
    if isinstance(schema.get("enum"), list) and cand.kind != "date":
        at = member_at(str(value), cand.text)
        if at is not None:
            return cand.start + at[0], cand.start + at[1]
    return cand.start, cand.end
