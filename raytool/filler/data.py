"""Training examples for the filler from tasks with gold calls (Seal-Tools dev, the suites' verified tasks, ...).

Per gold call with arguments, per parameter of its tool, the positive options (`options.py`):

    the gold value is a reference {"$ref": j, "path": f}   the option for field f of call j when it is one of the
                                                           options (the executor needs the field: "the date from
                                                           step 1" is check_in, not check_out), else every option
                                                           referring to call j (Seal-Tools scores the call only)
    a value                                               every candidate whose normalised value (or text)
                                                           equals it as a string (ISO dates included)
    the parameter is not among the gold arguments         "absent"

Parameters whose gold value no candidate yields (values the request never states: about 10% on Seal-Tools) give
no example; they are counted (`skipped`). Earlier calls are the gold calls before (teacher forcing). With
`partial=True` (teacher-written calls, `raytool.distill.call_arguments`) a parameter the call leaves out is unknown,
not "absent": it gives no example (`unknown`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from raytool.filler.features import RequestFeatures
from raytool.filler.normalise import normalise
from raytool.filler.options import EarlierCall, param_text, parameter_options, result_fields
from raytool.filler.spans import extract
from raytool.tools.call import is_result_ref
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task


@dataclass
class RequestExample:
    """All parameter examples of one request: (P, D) parameter vectors; the request's candidate vectors (M, 2D),
    stored once; per parameter the vectors of its other options (absent, references: (H_i, 2D), ahead of the
    candidates), and over all its options (H_i + M) the features (F columns) and positives (bool)."""

    task_id: str
    params: np.ndarray
    spans: np.ndarray
    heads: list[np.ndarray]
    features: list[np.ndarray]
    positives: list[np.ndarray]


def positives_for(options, gold, schema: dict, name: str) -> np.ndarray:
    """Which options yield the gold value (module docstring); an all-False row when none does."""
    out = np.zeros(len(options), bool)
    if gold is ABSENT:
        out[0] = True
        return out
    if is_result_ref(gold):
        same_call = [k for k, o in enumerate(options) if o.kind == "ref" and o.ref_call == gold["$ref"]]
        exact = [k for k in same_call if options[k].ref_path == gold.get("path", "")]
        out[exact or same_call] = True
        return out
    want = str(gold)
    for k, option in enumerate(options):
        if option.kind != "value":
            continue
        cand = option.candidate
        text = cand.as_value
        value, reason = normalise(text, schema, name)
        if text == want or (reason is None and str(value) == want):
            out[k] = True
    return out


ABSENT = object()


def request_examples(
    tasks: Iterable[Task], tools: dict[str, ToolSpec], encoder, counts: Counter | None = None, partial: bool = False
) -> list[RequestExample]:
    """One `RequestExample` per task with at least one usable parameter; `counts` tallies what was used/skipped;
    `partial`: the calls' missing parameters are unknown (module docstring)."""
    counts = Counter() if counts is None else counts
    tasks = list(tasks)
    out = []
    for at in range(0, len(tasks), ENCODE_CHUNK):
        chunk = tasks[at : at + ENCODE_CHUNK]
        out.extend(_chunk_examples(chunk, _encode_ahead(chunk, tools, encoder), tools, encoder, counts, partial))
    return out


# requests encoded together (`_encode_ahead`) and MiniLM's batch within them: against one forward per request (and
# per request's parameter texts), 1.54x in float32 and 2.22x in bf16 on an AMD EPYC (`benchmarks/filler_training.py`)
ENCODE_CHUNK = 256
ENCODE_BATCH = 16


def _encode_ahead(tasks: list[Task], tools: dict[str, ToolSpec], encoder) -> dict[int, tuple]:
    """Per task (by position) with a call to learn from: (candidates, span vectors), the requests encoded in batches
    of similar length; every parameter and result-field text of their tools encoded too (the encoder caches them)."""
    found, texts = {}, []
    for k, task in enumerate(tasks):
        specs = [tools.get(c.name) for c in task.calls if c.arguments is not None]
        specs = [s for s in specs if s is not None]
        if specs:
            found[k] = extract(task.query)
            for spec in specs:
                texts += [param_text(n, v if isinstance(v, dict) else {}) for n, v in spec.properties.items()]
                texts += [text for _, text in result_fields(spec)]
    encoder.texts(list(dict.fromkeys(texts)))
    order = sorted(found, key=lambda k: len(found[k].text))
    vectors = {}
    for at in range(0, len(order), ENCODE_BATCH):
        ids = order[at : at + ENCODE_BATCH]
        got = encoder.spans_many([found[k].text for k in ids], [found[k].items for k in ids])
        vectors.update(zip(ids, got, strict=True))
    return {k: (found[k], vectors[k]) for k in found}


def _chunk_examples(tasks, encoded, tools, encoder, counts, partial) -> list[RequestExample]:
    """`request_examples` of one chunk, its requests' candidates and vectors from `_encode_ahead`."""
    out = []
    for k, task in enumerate(tasks):
        cands = None
        params, heads, features, positives = [], [], [], []
        for i, call in enumerate(task.calls):
            spec = tools.get(call.name)
            if spec is None or call.arguments is None:
                continue
            if cands is None:
                extracted, span_vectors = encoded[k]
                cands = RequestFeatures(extracted)
            earlier = [EarlierCall(j, tools[c.name]) for j, c in enumerate(task.calls[:i]) if c.name in tools]
            props = spec.properties
            for name, schema in props.items():
                schema = schema if isinstance(schema, dict) else {}
                if partial and name not in call.arguments:
                    counts["unknown"] += 1
                    continue
                options, vecs, feats = parameter_options(
                    name, schema, name in spec.required, cands, span_vectors, earlier,
                    lambda text: encoder.texts([text])[0],
                )  # fmt: skip
                gold = call.arguments.get(name, ABSENT)
                pos = positives_for(options, gold, schema, name)
                kind = "absent" if gold is ABSENT else "ref" if is_result_ref(gold) else "value"
                if not pos.any():
                    counts[f"skipped_{kind}"] += 1
                    continue
                counts[f"used_{kind}"] += 1
                params.append(param_text(name, schema))
                heads.append(vecs[: len(vecs) - len(span_vectors)])
                features.append(feats)
                positives.append(pos)
        if params:
            out.append(RequestExample(task.id, encoder.texts(params), span_vectors, heads, features, positives))
    return out
