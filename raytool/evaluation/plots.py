"""Bar charts of the agent evaluation as PNG, with Pillow (matplotlib is not installed): one bar per method.

    bar_panels(out / "plots" / "metrics.png", load_results(out))                       one panel per metric
    bar_panels(path, results, groups=METRIC_GROUPS)                                      one panel per group

Each bar is a method's mean, with its 95% CI as a whisker and the value above it; colors follow the order of
`results` and a shared legend at the bottom names them. Metrics no method has are skipped. Rates (recall@k,
exact match, success, ...) share a fixed 0-1 axis; other panels start at 0 and end at a round number above the
highest interval. A group panel puts its metrics on one axis, so group metrics of like scale (teacher calls and
tool calls, not calls and tokens). The look follows benchmarks/plotting.py: 420-pixel panels, its colors.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from raytool.evaluation.report import RATE_METRICS, estimate, format_number, metric_columns, metric_label

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 420, 300, 52, 14, 34, 36  # one panel, pixels
COLUMNS = 4  # panels per row
LEGEND_ROW, LEGEND_ITEM = 16, 150  # legend line height and item width
WHISKER = (40, 40, 40)
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def bar_panels(
    path: str | Path, results: Sequence[dict], groups: Sequence[tuple[str, Sequence[str]]] | None = None
) -> Path:
    """Write the chart to `path` (through a temporary file and a rename) and return it.

    groups: (title, metric names) per panel, e.g. report.METRIC_GROUPS; None gives one panel per metric.
    """
    if not results:
        raise ValueError("bar_panels needs at least one method's results")
    present = metric_columns(results)
    if groups is None:
        panels = [(metric_label(m), [m]) for m in present]
    else:
        panels = [(title, [m for m in names if m in present]) for title, names in groups]
        panels = [(title, names) for title, names in panels if names]
    if not panels:
        raise ValueError("none of the methods has any of the metrics to plot")
    methods = [r["method"] for r in results]
    columns = min(len(panels), COLUMNS)
    rows = math.ceil(len(panels) / columns)
    per_line = max(1, columns * W // LEGEND_ITEM)
    legend_h = 12 + LEGEND_ROW * math.ceil(len(methods) / per_line)
    image = Image.new("RGB", (columns * W, rows * H + legend_h), "white")
    draw = ImageDraw.Draw(image)
    for i, (title, names) in enumerate(panels):
        _panel(draw, (i % columns) * W, (i // columns) * H, title, names, results)
    _legend(draw, rows * H + 6, methods, per_line)
    return _save(image, Path(path))


def _panel(
    draw: ImageDraw.ImageDraw, left: int, top: int, title: str, names: list[str], results: Sequence[dict]
) -> None:
    x0, x1, y0, y1 = left + PAD_L, left + W - PAD_R, top + PAD_T, top + H - PAD_B
    entries = [[estimate(r, m) for r in results] for m in names]  # (metrics, methods), None where missing
    present = [e for row in entries for e in row if e]
    lo, hi = _y_range(names, present)
    scale = max(abs(e["mean"]) for e in present)  # one decimals rule for the panel's value labels

    def py(y: float) -> float:
        return y1 - (min(max(y, lo), hi) - lo) / (hi - lo) * (y1 - y0)

    draw.rectangle([x0, y0, x1, y1], outline="black")
    for i in range(6):
        y = lo + (hi - lo) * i / 5
        label = f"{y:,.0f}" if abs(hi) >= 1000 else f"{y:.3g}"
        draw.line([x0 - 3, py(y), x0, py(y)], fill="black")
        draw.text((x0 - 6 - draw.textlength(label), py(y) - 6), label, fill="black")
    _centered(draw, left + W / 2, top + 10, title)
    cluster = (x1 - x0) / len(names)
    slot = cluster * 0.8 / len(results)
    for j, (name, row) in enumerate(zip(names, entries, strict=True)):
        start = x0 + j * cluster + cluster * 0.1
        if len(names) > 1 or title != metric_label(name):  # a group panel names its metrics
            _centered(draw, x0 + (j + 0.5) * cluster, y1 + 6, metric_label(name))
        for k, entry in enumerate(row):
            if entry is None:
                continue
            cx, half = start + (k + 0.5) * slot, slot * 0.85 / 2
            mean, (low, high) = entry["mean"], entry["ci95"]
            base, bar = py(min(max(0.0, lo), hi)), py(mean)
            draw.rectangle([cx - half, min(base, bar), cx + half, max(base, bar)], fill=COLORS[k % len(COLORS)])
            cap = min(half / 2, 6)
            draw.line([cx, py(low), cx, py(high)], fill=WHISKER, width=1)
            for y in (low, high):
                draw.line([cx - cap, py(y), cx + cap, py(y)], fill=WHISKER, width=1)
            label = format_number(mean, scale)
            if draw.textlength(label) <= slot:  # skip labels that would run into the next bar
                _centered(draw, cx, py(max(mean, high)) - 13, label)


def _legend(draw: ImageDraw.ImageDraw, top: int, methods: list[str], per_line: int) -> None:
    for i, method in enumerate(methods):
        lx, ly = PAD_L + (i % per_line) * LEGEND_ITEM, top + (i // per_line) * LEGEND_ROW
        draw.rectangle([lx, ly + 2, lx + 12, ly + 12], fill=COLORS[i % len(COLORS)])
        draw.text((lx + 18, ly), method, fill="black")


def _y_range(names: list[str], entries: list[dict]) -> tuple[float, float]:
    """(0, 1) for rates; otherwise from min(0, lowest) to a round number above the highest interval."""
    lows = [min(e["mean"], e["ci95"][0]) for e in entries]
    highs = [max(e["mean"], e["ci95"][1]) for e in entries]
    if all(n in RATE_METRICS for n in names) and min(lows) >= 0.0 and max(highs) <= 1.0:
        return 0.0, 1.0
    lo, hi = min(0.0, min(lows)), max(0.0, max(highs))
    lo = -_nice_ceiling(-lo) if lo < 0 else 0.0
    hi = _nice_ceiling(hi) if hi > 0 else 0.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _nice_ceiling(x: float) -> float:
    """The smallest 1, 1.2, 1.5, 2, 2.5, ... times a power of ten that is >= x > 0."""
    magnitude = 10.0 ** math.floor(math.log10(x))
    return next(step * magnitude for step in NICE_STEPS if step * magnitude >= x * (1 - 1e-12))


def _centered(draw: ImageDraw.ImageDraw, cx: float, y: float, text: str) -> None:
    draw.text((cx - draw.textlength(text) / 2, y), text, fill="black")


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=".png", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            image.save(fh, format="PNG", optimize=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
