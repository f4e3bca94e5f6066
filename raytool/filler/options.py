"""What a parameter may be filled with: absent, a reference to a field of an earlier call's output, or a candidate
value of the request (`spans.py`). `parameter_options` lays them out with their vectors and features for the
scorer (`model.py`); option 0 is always "absent".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from raytool.filler.features import FEATURES, RequestFeatures, stems
from raytool.filler.model import NUM_FEATURES
from raytool.filler.spans import Candidate
from raytool.tools.spec import ToolSpec


@dataclass(frozen=True)
class EarlierCall:
    """A call that comes before the one being filled: its index in the plan and its tool."""

    index: int
    spec: ToolSpec


@dataclass(frozen=True)
class Option:
    """kind "absent" | "ref" (call `ref_call`, output field `ref_path`; "" = the whole output) | "value"."""

    kind: str
    candidate: Candidate | None = None
    ref_call: int = -1
    ref_path: str = ""


def param_text(name: str, schema: dict[str, Any]) -> str:
    """The text a parameter is embedded from: "name (type): description"."""
    return f"{name} ({schema.get('type', 'string')}): {schema.get('description', '')}".strip()


def result_fields(spec: ToolSpec) -> list[tuple[str, str]]:
    """(path, text to embed) of a tool's output: its `returns` properties, or the whole output (""). A list field
    also offers its first item (`constituents[0]`) or, for a list of objects, each field of its first item
    (`sites[0].site_id`, embedded as "site_id: ... (the first of sites)"): "the site from step 1" after a search."""
    props = (spec.returns or {}).get("properties") if isinstance(spec.returns, dict) else None
    if not (isinstance(props, dict) and props):
        return [("", f"{spec.name}: {spec.description}")]
    out = []
    for f, s in props.items():
        s = s if isinstance(s, dict) else {}
        out.append((f, f"{f}: {s.get('description', '')}"))
        items = s.get("items") if s.get("type") == "array" else None
        if not isinstance(items, dict):
            continue
        fields = items.get("properties")
        if isinstance(fields, dict) and fields:
            out += [(f"{f}[0].{k}", f"{k}: {_describe(v)}(the first of {f})") for k, v in fields.items()]
        elif items.get("type") in ("string", "integer", "number"):
            out.append((f"{f}[0]", f"{f}[0]: {_describe(items)}(the first of {f})"))
    return out


def _describe(schema: Any) -> str:
    """A schema's description, else the kind of value it holds (`x-kind`: "ticker"), with a trailing space; or ""."""
    text = str(schema.get("description") or schema.get("x-kind") or "") if isinstance(schema, dict) else ""
    return f"{text.replace('_', ' ')} " if text else ""


def value_options(cands: RequestFeatures) -> list[Option]:
    """One "value" option per candidate of the request, made once per request (options are immutable; every
    parameter of every call of the request offers the same ones)."""
    if cands.value_options is None:
        cands.value_options = [Option("value", candidate=cand) for cand in cands.cands.items]
    return cands.value_options


def parameter_options(
    name: str,
    schema: dict[str, Any],
    required: bool,
    cands: RequestFeatures,
    span_vectors: np.ndarray,
    earlier: Sequence[EarlierCall],
    field_vector,
) -> tuple[list[Option], np.ndarray, np.ndarray]:
    """(options, vectors (N, 2D), features (N, F)) of one parameter. `cands`: the request's candidates with their
    parameter-independent features; `span_vectors` (one row per candidate) their vectors; `field_vector(text) ->
    (D,)` embeds a result field's text."""
    dim = span_vectors.shape[1] if span_vectors.ndim == 2 else 2 * 384
    base = len(FEATURES)
    options = [Option("absent")]
    vectors = [np.zeros(dim, np.float32)]
    absent = np.zeros(NUM_FEATURES, np.float32)
    absent[base], absent[base + 3] = 1.0, float(required)
    features = [absent]
    name_stems = set(stems(name))
    latest = max((call.index for call in earlier), default=0)
    for call in earlier:
        for path, text in result_fields(call.spec):
            options.append(Option("ref", ref_call=call.index, ref_path=path))
            vectors.append(np.tile(field_vector(text), 2))
            row = np.zeros(NUM_FEATURES, np.float32)
            overlap = len(name_stems & set(stems(text.split(":")[0] or call.spec.name))) / max(len(name_stems), 1)
            row[base + 1], row[base + 2], row[base + 3] = 1.0, overlap, float(required)
            row[base + 4] = 1.0 / (1 + latest - call.index)
            features.append(row)
    options.extend(value_options(cands))
    values = np.zeros((len(cands.cands.items), NUM_FEATURES), np.float32)
    values[:, :base] = cands.for_param(name, schema)
    values[:, base + 3] = float(required)
    return (
        options,
        np.concatenate([np.stack(vectors), span_vectors.reshape(-1, dim)]).astype(np.float32),
        np.concatenate([np.stack(features), values]),
    )
