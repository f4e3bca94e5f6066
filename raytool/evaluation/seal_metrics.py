"""Seal-Tools' official call metrics (its `calculate_score_ToolLearning`), so figures compare with published ones.

Per query the prediction is a list of calls `{"api": name, "parameters": {...}}` (None when the output did not
parse as one). Micro-averaged over the file:

    Format ACC   share of queries whose prediction parses as a list of calls
    Tool         predicted: every predicted call with an api; correct: some gold call has the same api (the first
                 such is its match); gold: every gold call
    Parameter    predicted: every parameter of every predicted call; correct: its call matched a gold call that
                 has the parameter's name with str(value) equal; gold: every parameter of every gold call

References to an earlier call's output compare as the benchmark's strings `API_call_k` (`seal_value`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raytool.tools.call import ToolCall, map_refs


def seal_value(value: Any) -> Any:
    """An argument value as Seal-Tools writes it: result references become "API_call_k"."""
    return map_refs(value, lambda ref: f"API_call_{ref['$ref']}")


def seal_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """`ToolCall`s in the benchmark's shape."""
    return [{"api": c.name, "parameters": {k: seal_value(v) for k, v in (c.arguments or {}).items()}} for c in calls]


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def seal_scores(predictions: Sequence[list[dict] | None], golds: Sequence[list[dict]]) -> dict[str, Any]:
    """{"format_acc", "tool": P/R/F1, "parameter": P/R/F1, "counts"} over aligned predictions and golds."""
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} queries")
    parsed = tool_pred = tool_hit = tool_gold = par_pred = par_hit = par_gold = 0
    for pred, gold in zip(predictions, golds, strict=True):
        tool_gold += len(gold)
        par_gold += sum(len(g.get("parameters") or {}) for g in gold)
        if not isinstance(pred, list):
            continue
        parsed += 1
        for call in pred:
            if not isinstance(call, dict) or "api" not in call:
                continue
            tool_pred += 1
            params = call.get("parameters") if isinstance(call.get("parameters"), dict) else {}
            par_pred += len(params)
            match = next((g for g in gold if g.get("api") == call["api"]), None)
            if match is None:
                continue
            tool_hit += 1
            gold_params = match.get("parameters") or {}
            par_hit += sum(1 for k, v in params.items() if k in gold_params and str(gold_params[k]) == str(v))
    n = len(golds)
    return {
        "format_acc": parsed / n if n else 0.0,
        "tool": prf(tool_hit, tool_pred, tool_gold),
        "parameter": prf(par_hit, par_pred, par_gold),
        "counts": {
            "queries": n,
            "tool_pred": tool_pred,
            "tool_gold": tool_gold,
            "param_pred": par_pred,
            "param_gold": par_gold,
        },  # fmt: skip
    }
