"""Agent evaluation reports: per-method metrics files -> a markdown table, headline ratios and summary files.

The harness writes one `<out>/<method>/metrics.json` per method (proxy, react, cot, dfs, ablations such as
proxy-no-skills), each shaped

    {"method": str, "data": str, "format": str, "tasks": int, "seed": int, "teacher": str,
     "metrics": {name: {"mean", "ci95": [lo, hi], "n"}},   deterministic quality / cost figures
     "timing":  {name: {"mean", "ci95": [lo, hi], "n"}}}   wall-clock figures (wall_s), which vary run to run

with the estimates from `raytool.evaluation.stats.summarise`. This module only reads and formats them:

    results = load_results(out)          # every <out>/*/metrics.json, in METHOD_ORDER
    markdown_table(results)              # rows = methods, columns = metrics in METRIC_GROUPS order
    ratio_lines(results)                 # "proxy uses 8.0x fewer teacher calls per task than react (...)"
    write_summary(out, results)          # <out>/summary.md and <out>/summary.json, written atomically

Any metric may be missing for a method (success exists only on executable data); its cell reads "—".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from raytool.paths import shown_path
from raytool.tables import format_table
from raytool.tools.files import atomic_write_text

METHOD_ORDER = ("proxy", "react", "cot", "dfs")  # then every other method alphabetically
# methods given something a real request does not carry (the tasks' gold argument values): labelled in every table
ORACLE_SUFFIX = "-gold-args"
RUN_FIELDS = ("method", "data", "format", "tasks", "seed", "teacher")
ESTIMATE_FIELDS = ("mean", "ci95", "n")
MISSING = "—"
CI_NOTE = "Cells are mean [95% CI] over tasks: Wilson score intervals for 0/1 rates, Student-t intervals for means."

# Ordered groups for tables and plots; names not listed here follow, alphabetically.
METRIC_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "tool selection",
        ("recall@1", "recall@3", "recall@5", "recall@10", "complete@1", "complete@3", "complete@5", "complete@10"),
    ),
    ("plan accuracy", ("exact_match", "call_f1")),
    ("decomposition", ("segmentation_f1", "domain_accuracy", "dependency_accuracy", "plan_exact")),
    ("task success", ("success", "reward")),
    ("efficiency", ("teacher_calls", "teacher_tokens", "tool_calls", "decisions", "wall_s")),
)
METRIC_LABELS = {
    "exact_match": "exact match",
    "call_f1": "call F1",
    "segmentation_f1": "sub-task segmentation F1",
    "domain_accuracy": "sub-task domain accuracy",
    "dependency_accuracy": "sub-task dependency accuracy",
    "plan_exact": "plan exact",
    "success": "success rate",
    "reward": "reward",
    "teacher_calls": "teacher calls / task",
    "teacher_tokens": "teacher tokens / task",
    "tool_calls": "tool calls / task",
    "decisions": "decisions / task",
    "wall_s": "wall s / task",
}
# Metrics whose values lie in [0, 1]: plotted on a fixed 0-1 axis.
RATE_METRICS = frozenset({*METRIC_GROUPS[0][1], *METRIC_GROUPS[1][1], *METRIC_GROUPS[2][1], "success"})

# The headline comparison: (metric, noun, word when lower, unit).
SUCCESS = "success"
RATIOS = (("teacher_calls", "teacher calls", "fewer", ""), ("wall_s", "wall-clock time", "less", " s"))


def metric_label(name: str) -> str:
    """The column / panel label of a metric (recall@5 stays recall@5)."""
    return METRIC_LABELS.get(name, name)


def estimate(result: dict, name: str) -> dict | None:
    """The {"mean", "ci95", "n"} entry of `name` in a result's metrics or timing, or None."""
    return result.get("metrics", {}).get(name) or result.get("timing", {}).get(name)


def metric_columns(results: Sequence[dict]) -> list[str]:
    """The metrics present in any result: METRIC_GROUPS order first, then the rest alphabetically."""
    present = {name for r in results for part in ("metrics", "timing") for name in r.get(part, {})}
    ordered = [name for _, names in METRIC_GROUPS for name in names if name in present]
    return ordered + sorted(present - set(ordered))


def method_label(method: str) -> str:
    """A method's name in tables: an oracle (`proxy-gold-args`) says so, `proxy-gold-args (ORACLE)`."""
    return f"{method} (ORACLE)" if method.endswith(ORACLE_SUFFIX) else method


def method_key(method: str) -> tuple[int, str]:
    """Sort key: proxy, react, cot, dfs, then the others alphabetically."""
    return (METHOD_ORDER.index(method), "") if method in METHOD_ORDER else (len(METHOD_ORDER), method)


def format_number(x: float, scale: float | None = None) -> str:
    """3 decimals below 10 (3 significant digits below 0.1), 1 below 1000, none above; `scale` picks the rule."""
    return f"{x:.{_decimals(abs(x) if scale is None else scale)}f}"


def format_estimate(entry: dict, scale: float | None = None) -> str:
    """'0.733 [0.55, 0.87]': the mean and its interval, fewer decimals for large numbers (or a large `scale`)."""
    mean, (low, high) = entry["mean"], entry["ci95"]
    if scale is None:
        scale = abs(mean) or max(abs(low), abs(high))
    decimals = _decimals(scale)
    ci_decimals = decimals - 1 if 0.1 <= scale < 10 else decimals  # rates: 0.733 [0.55, 0.87]
    return f"{mean:.{decimals}f} [{low:.{ci_decimals}f}, {high:.{ci_decimals}f}]"


def markdown_table(results: Sequence[dict], metrics: list[str] | None = None) -> str:
    """Rows = methods, columns = `metrics` (default: those present, in METRIC_GROUPS order); missing -> '—'."""
    columns = metric_columns(results) if metrics is None else list(metrics)
    headers = ["method", "tasks", *(metric_label(m) for m in columns)]
    # One decimals rule per column, from its largest mean, so a column reads 915.7 and 1078 as 916 and 1078.
    scales = [max((abs(e["mean"]) for r in results if (e := estimate(r, m))), default=0.0) for m in columns]
    rows = []
    for result in results:
        entries = [estimate(result, m) for m in columns]
        cells = [format_estimate(e, s or None) if e else MISSING for e, s in zip(entries, scales, strict=True)]
        rows.append([method_label(result["method"]), result.get("tasks", MISSING), *cells])
    return format_table(headers, rows)


def ratio_lines(results: Sequence[dict], baseline: str = "react", method: str = "proxy") -> list[str]:
    """Plain sentences comparing `method` with `baseline`: success difference, teacher-call and wall-time ratios."""
    by_method = {r["method"]: r for r in results}
    if method not in by_method or baseline not in by_method:
        return []
    ours, theirs = by_method[method], by_method[baseline]
    lines = []
    if (a := estimate(ours, SUCCESS)) and (b := estimate(theirs, SUCCESS)):
        points = (a["mean"] - b["mean"]) * 100.0
        lines.append(
            f"Success rate: {method} {a['mean']:.1%} vs {baseline} {b['mean']:.1%} ({points:+.1f} percentage points)."
        )
    for name, noun, fewer, unit in RATIOS:
        if (a := estimate(ours, name)) and (b := estimate(theirs, name)):
            lines.append(_ratio_sentence(method, baseline, a["mean"], b["mean"], noun, fewer, unit))
    return lines


def describe_run(results: Sequence[dict]) -> str:
    """'data `x` (format seal_tools), 100 tasks, seed 0, teacher `t`'; differing values are joined by ' / '."""

    def values(field: str) -> str:
        seen = list(dict.fromkeys(shown_path(r.get(field, "?")) for r in results))
        return " / ".join(s for s in seen if s) or "none"  # a method without one (no teacher asked) adds nothing

    return (
        f"data `{values('data')}` (format {values('format')}), {values('tasks')} tasks, "
        f"seed {values('seed')}, teacher `{values('teacher')}`"
    )


def summary_markdown(results: Sequence[dict]) -> str:
    """summary.md: a title line, the run, the table, the headline ratios and the CI note."""
    parts = ["# Agent evaluation", "", describe_run(results) + ".", "", markdown_table(results), ""]
    report = next((r["import_report"] for r in results if r.get("import_report")), None)
    if report:  # the input's counted quirks and skips
        from raytool.tools.dataset import ImportReport
        from raytool.tools.stats import report_lines

        parts += [*(f"Input: {line}" for line in report_lines(ImportReport.from_dict(report))), ""]
    lines = ratio_lines(results)
    if lines:
        parts += [*(f"- {line}" for line in lines), ""]
    return "\n".join([*parts, CI_NOTE, ""])


def write_summary(out_dir: str | Path, results: Sequence[dict]) -> tuple[Path, Path]:
    """Write `<out_dir>/summary.md` and `<out_dir>/summary.json` (the list of results), each atomically."""
    out_dir = Path(out_dir)
    md, js = out_dir / "summary.md", out_dir / "summary.json"
    atomic_write_text(md, summary_markdown(results))
    atomic_write_text(js, json.dumps(list(results), indent=2, ensure_ascii=False) + "\n")
    return md, js


def load_results(out_dir: str | Path) -> list[dict]:
    """Every `<out_dir>/*/metrics.json`, checked, in METHOD_ORDER; a malformed one raises ValueError naming it."""
    results = [_load_one(path) for path in sorted(Path(out_dir).glob("*/metrics.json"))]
    return sorted(results, key=lambda r: method_key(r["method"]))


def _load_one(path: Path) -> dict:
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(result, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(result).__name__}")
    for field in (*RUN_FIELDS, "metrics", "timing"):
        if field not in result:
            raise ValueError(f"{path}: missing field '{field}'")
    if not isinstance(result["method"], str) or not result["method"]:
        raise ValueError(f"{path}: field 'method' must be a non-empty string")
    for part in ("metrics", "timing"):
        if not isinstance(result[part], dict):
            raise ValueError(f"{path}: field '{part}' must be an object of metric -> estimate")
        for name, entry in result[part].items():
            _check_estimate(path, f"{part}.{name}", entry)
    return result


def _check_estimate(path: Path, where: str, entry: object) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: field '{where}' must be an object with {', '.join(ESTIMATE_FIELDS)}")
    for field in ESTIMATE_FIELDS:
        if field not in entry:
            raise ValueError(f"{path}: missing field '{where}.{field}'")
    ci = entry["ci95"]
    numbers = [entry["mean"], *(ci if isinstance(ci, list) else [])]
    if not (isinstance(ci, list) and len(ci) == 2) or not all(_is_number(x) for x in numbers):
        raise ValueError(f"{path}: field '{where}' needs a numeric mean and ci95 = [low, high]")
    if not isinstance(entry["n"], int) or isinstance(entry["n"], bool) or entry["n"] < 1:
        raise ValueError(f"{path}: field '{where}.n' must be a positive integer")


def _ratio_sentence(method: str, baseline: str, ours: float, theirs: float, noun: str, fewer: str, unit: str) -> str:
    scale = max(abs(ours), abs(theirs))
    a, b = format_number(ours, scale) + unit, format_number(theirs, scale) + unit
    if ours == theirs:
        return f"{method} and {baseline} use the same {noun} per task ({a})."
    if ours == 0.0 or theirs == 0.0:  # no ratio to a zero: state both values instead
        return f"{noun.capitalize()} per task: {method} {a} vs {baseline} {b}."
    ratio = theirs / ours if theirs > ours else ours / theirs
    word = fewer if theirs > ours else "more"
    return f"{method} uses {ratio:.1f}x {word} {noun} per task than {baseline} ({a} vs {b})."


def _decimals(scale: float) -> int:
    if scale >= 1000:
        return 0
    if scale >= 10:
        return 1
    if scale >= 0.1 or scale == 0.0:
        return 3
    return 2 - math.floor(math.log10(scale))  # 3 significant digits: 0.0123


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
