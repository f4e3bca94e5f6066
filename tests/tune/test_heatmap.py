"""The sweep heatmap: cell means over the trials in each cell, grid axes as they are, continuous axes binned."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from raytool.tune.heatmap import MAX_CELLS, axis_bins, heatmap


def test_grid_axes_keep_their_values() -> None:
    labels, index = axis_bins([0.5, 0.0, 0.1, 0.0])
    assert labels == ["0", "0.1", "0.5"] and index == [2, 0, 1, 0]


def test_continuous_axes_are_binned_on_a_log_scale_when_they_span_decades() -> None:
    values = [10 ** (-4 + 3 * i / 19) for i in range(20)]  # 1e-4 .. 1e-1
    labels, index = axis_bins(values)
    assert len(labels) == MAX_CELLS and index[0] == 0 and index[-1] == MAX_CELLS - 1
    assert [index.count(b) for b in range(MAX_CELLS)] == [4] * MAX_CELLS  # equal bins in log space
    labels, index = axis_bins([i / 10 for i in range(11)] + [0.0])  # 0 present: linear bins
    assert index[:4] == [0, 0, 1, 1] and index[10] == MAX_CELLS - 1  # 0.2 wide bins


def test_cells_average_their_trials_and_skip_missing_values(tmp_path: Path) -> None:
    nan = float("nan")
    panels = [{"title": "all", "xs": [0.0, 0.0, 0.5, 0.5, 0.5], "ys": [0.0, 0.0, 0.0, 0.1, 0.1],
               "values": [0.2, 0.4, 1.0, nan, 0.6]},
              {"title": "one", "xs": [0.0, 0.5], "ys": [0.0, 0.1], "values": [nan, 0.5]}]  # fmt: skip
    first, second = heatmap(tmp_path / "h.png", panels)
    assert first == [[0.30000000000000004, 1.0], [None, 0.6]] and second == [[None, None], [None, 0.5]]
    image = Image.open(tmp_path / "h.png")
    assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 100
    assert not list(tmp_path.glob(".*tmp*")), "written through a temporary file"
