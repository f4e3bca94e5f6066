"""A heatmap PNG of a sweep's metric over two swept settings (lambda1 x lambda2 by default), with Pillow.

One panel per view of the sweep (e.g. every trial at the first ASHA rung, and the trials that ran every iteration
at the end), side by side. Cells are the mean over the trials that fall in them (other settings, e.g. sigma,
averaged out); each cell prints its mean and trial count, empty cells are grey. Axes with at most `MAX_CELLS`
distinct values use them as they are (grids); continuous samples are binned into `MAX_CELLS` equal bins, on a log
scale when the values are all positive and span more than 10x. Color runs from white (the lowest mean) to dark
blue (the highest).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from raytool.evaluation.plots import _centered, _save

MAX_CELLS = 5
CELL_W, CELL_H, PAD_L, PAD_T, PAD_B = 96, 56, 92, 40, 52
LOW, HIGH, EMPTY = (247, 251, 255), (8, 48, 107), (220, 220, 220)


def axis_bins(values: Sequence[float]) -> tuple[list[str], list[int]]:
    """(labels, bin index of each value) for one axis (module docstring)."""
    distinct = sorted(set(values))
    if len(distinct) <= MAX_CELLS:
        return [f"{v:g}" for v in distinct], [distinct.index(v) for v in values]
    low, high = distinct[0], distinct[-1]
    log = low > 0 and high / low > 10
    f = math.log if log else float
    edges = [f(low) + (f(high) - f(low)) * i / MAX_CELLS for i in range(MAX_CELLS + 1)]
    labels = [f"{_inv(a, log):.3g}-{_inv(b, log):.3g}" for a, b in zip(edges, edges[1:], strict=False)]
    index = [min(int((f(v) - edges[0]) / (edges[-1] - edges[0]) * MAX_CELLS), MAX_CELLS - 1) for v in values]
    return labels, index


def _inv(x: float, log: bool) -> float:
    return math.exp(x) if log else x


def heatmap(path: str | Path, panels: Sequence[dict], x_name: str = "lambda1", y_name: str = "lambda2") -> list:
    """Write one PNG (temp file + rename) with a heatmap per panel, side by side; returns each panel's grid of cell
    means (rows: y bins, columns: x bins). A panel: {"title", "xs", "ys", "values"} (NaN values are left out)."""
    images, grids = [], []
    for panel in panels:
        image, means = _panel(panel["xs"], panel["ys"], panel["values"], x_name, y_name, panel["title"])
        images.append(image)
        grids.append(means)
    canvas = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)), "white")
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width
    _save(canvas, Path(path))
    return grids


def _panel(xs, ys, values, x_name: str, y_name: str, title: str):
    x_labels, x_index = axis_bins(xs)
    y_labels, y_index = axis_bins(ys)
    sums = [[0.0] * len(x_labels) for _ in y_labels]
    counts = [[0] * len(x_labels) for _ in y_labels]
    for i, j, value in zip(y_index, x_index, values, strict=True):
        if value == value:  # NaN: a trial left out of this panel
            sums[i][j] += value
            counts[i][j] += 1
    means = [[s / c if c else None for s, c in zip(srow, crow, strict=True)]
             for srow, crow in zip(sums, counts, strict=True)]  # fmt: skip
    filled = [m for row in means for m in row if m is not None]
    low, high = (min(filled), max(filled)) if filled else (0.0, 1.0)
    title_width = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(title))
    width = max(PAD_L + CELL_W * len(x_labels) + 16, title_width + 24)
    height = PAD_T + CELL_H * len(y_labels) + PAD_B
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    _centered(draw, width / 2, 10, title)
    for i, row in enumerate(means):
        top = PAD_T + CELL_H * (len(y_labels) - 1 - i)  # the smallest y at the bottom
        draw.text((6, top + CELL_H / 2 - 6), y_labels[i][:14], fill="black")
        for j, mean in enumerate(row):
            left = PAD_L + CELL_W * j
            share = 0.0 if mean is None or high == low else (mean - low) / (high - low)
            color = EMPTY if mean is None else tuple(int(a + (b - a) * share) for a, b in zip(LOW, HIGH, strict=True))
            draw.rectangle((left, top, left + CELL_W - 2, top + CELL_H - 2), fill=color)
            ink = "white" if share > 0.55 else "black"
            lines = (f"{mean:.3f}", f"n={counts[i][j]}") if mean is not None else ("no trial", "")
            for k, text in enumerate(lines):
                draw.text((left + CELL_W / 2 - draw.textlength(text) / 2, top + 12 + 18 * k), text, fill=ink)
    bottom = PAD_T + CELL_H * len(y_labels)
    for j, label in enumerate(x_labels):
        _centered(draw, PAD_L + CELL_W * j + CELL_W / 2, bottom + 6, label)
    _centered(draw, PAD_L + CELL_W * len(x_labels) / 2, bottom + 26, x_name)
    draw.text((6, PAD_T - 16), y_name, fill="black")
    return image, means
