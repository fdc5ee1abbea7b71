"""BPD histograms as PNG, drawn with Pillow (no plotting library is needed)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def save_histograms(series: dict[str, np.ndarray], path: str | Path, *, title: str = "", bins: int = 40, lines: dict[str, float] | None = None, value_range: tuple[float, float] | None = None) -> Path:
    """Overlaid density histograms (outlines) of several 1-D arrays, a legend, an x axis in bits per
    dimension and optional vertical marker lines (e.g. the band level)."""
    from PIL import Image, ImageDraw, ImageFont

    w, h, left, right, top, bottom = 640, 360, 50, 20, 40, 40
    values = [np.asarray(v, dtype=np.float64) for v in series.values() if len(v)]
    lo, hi = value_range or (min(v.min() for v in values), max(v.max() for v in values))
    for x in (lines or {}).values():
        lo, hi = min(lo, x), max(hi, x)
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    edges = np.linspace(lo, hi, bins + 1)
    hists = {k: np.histogram(np.asarray(v, dtype=np.float64), bins=edges, density=True)[0] for k, v in series.items() if len(v)}
    ymax = max(float(hh.max()) for hh in hists.values()) or 1.0
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    # Pillow's default font at 12 px: at its default 10 px some spaces vanish ("BPD after" drew as "BPDafter").
    font = ImageFont.load_default(size=12)

    def px(x: float) -> float:
        return left + (x - lo) / (hi - lo) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - y / ymax * (h - top - bottom)

    draw.line([(left, h - bottom), (w - right, h - bottom)], fill="black")
    for t in np.linspace(lo, hi, 6):
        draw.line([(px(t), h - bottom), (px(t), h - bottom + 4)], fill="black")
        draw.text((px(t) - 12, h - bottom + 6), f"{t:.2f}", fill="black", font=font)
    draw.text((w // 2 - 40, h - 16), "bits per dimension", fill="black", font=font)
    for i, (name, hh) in enumerate(hists.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = []
        for j, v in enumerate(hh):
            pts += [(px(edges[j]), py(v)), (px(edges[j + 1]), py(v))]
        draw.line(pts, fill=colour, width=2)
        draw.text((left + 10, top + 16 * i + 4), f"{name} (n={len(series[name])})", fill=colour, font=font)
    for name, x in (lines or {}).items():
        draw.line([(px(x), top), (px(x), h - bottom)], fill=(90, 90, 90), width=1)
        width = draw.textlength(name, font=font)
        at = px(x) + 3 if px(x) + 3 + width <= w else px(x) - 3 - width  # left of the line near the right edge
        draw.text((at, top - 14), name, fill=(90, 90, 90), font=font)
    if title:
        draw.text((w - right - draw.textlength(title, font=font), 4), title, fill="black", font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
