"""Line charts as PNG with Pillow (installed with the stack; matplotlib is not): panels side by side.

line_panels(path, panels, columns=None)
    panels: [{"title", "xlabel", "ylabel", "lines": [{"label", "x", "y", "band"?}], "hlines": [{"label", "y"}]}],
    in rows of `columns` (default: all in one row)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 420, 340, 52, 14, 28, 96


def line_panels(
    path: str | Path, panels: list[dict], y_range: tuple[float, float] = (0.0, 1.0), columns: int | None = None
) -> None:
    columns = min(columns or len(panels), len(panels))
    image = Image.new("RGB", (W * columns, H * -(-len(panels) // columns)), "white")
    draw = ImageDraw.Draw(image)
    for p, panel in enumerate(panels):
        _panel(draw, (p % columns) * W, (p // columns) * H, panel, y_range)
    image.save(path)


def _panel(draw: ImageDraw.ImageDraw, left: int, top: int, panel: dict, y_range: tuple[float, float]) -> None:
    x0, x1, y0, y1 = left + PAD_L, left + W - PAD_R, top + PAD_T, top + H - PAD_B
    xs = [x for line in panel["lines"] for x in line["x"]] or [0.0, 1.0]
    lo_x, hi_x = min(xs), max(max(xs), min(xs) + 1e-9)
    lo_y, hi_y = y_range

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + (x - lo_x) / (hi_x - lo_x) * (x1 - x0), y1 - (min(max(y, lo_y), hi_y) - lo_y) / (hi_y - lo_y) * (
            y1 - y0
        )

    draw.rectangle([x0, y0, x1, y1], outline="black")
    for i in range(6):
        y = lo_y + (hi_y - lo_y) * i / 5
        _, py = px(lo_x, y)
        draw.line([x0 - 3, py, x0, py], fill="black")
        draw.text((left + 8, py - 6), f"{y:.1f}", fill="black")
    for i in range(5):
        x = lo_x + (hi_x - lo_x) * i / 4
        qx, _ = px(x, lo_y)
        draw.line([qx, y1, qx, y1 + 3], fill="black")
        draw.text((qx - 12, y1 + 5), f"{x:,.0f}" if hi_x - lo_x >= 10 else f"{x:.2f}", fill="black")
    draw.text((left + W // 2 - 40, top + 8), panel["title"], fill="black")
    draw.text((left + W // 2 - 30, y1 + 20), panel.get("xlabel", ""), fill="black")
    draw.text((left + 4, top + 8), panel.get("ylabel", ""), fill="black")
    legend = []
    for i, line in enumerate(panel["lines"]):
        color = COLORS[i % len(COLORS)]
        points = [px(x, y) for x, y in zip(line["x"], line["y"], strict=True)]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        for q in points:
            draw.ellipse([q[0] - 2, q[1] - 2, q[0] + 2, q[1] + 2], fill=color)
        legend.append((line["label"], color, False))
    for hline in panel.get("hlines", []):
        _, py = px(lo_x, hline["y"])
        for start in range(int(x0), int(x1), 10):
            draw.line([start, py, min(start + 5, x1), py], fill=(110, 110, 110), width=1)
        draw.text((x1 - 110, py - 12), hline["label"], fill=(90, 90, 90))
    for i, (label, color, _) in enumerate(legend):
        lx, ly = left + PAD_L + (i % 3) * 120, y1 + 38 + (i // 3) * 14
        draw.line([lx, ly + 6, lx + 16, ly + 6], fill=color, width=3)
        draw.text((lx + 20, ly), label, fill="black")
