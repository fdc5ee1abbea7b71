"""Sample grids as PNG (Pillow; no plotting library needed)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from genredact.data import to_uint8


def grid_array(x: torch.Tensor | np.ndarray, *, nrow: int | None = None, pad: int = 2, scale: int = 2) -> np.ndarray:
    """(N, C, H, W) images ([-1, 1] float or uint8) -> one uint8 (H', W') or (H', W', 3) grid."""
    a = x if isinstance(x, np.ndarray) else to_uint8(x)
    n, c, h, w = a.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / nrow))
    out = np.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), 128, np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        out[:, pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = a[i]
    out = out.repeat(scale, 1).repeat(scale, 2)
    return out[0] if c == 1 else out.transpose(1, 2, 0)


def save_grid(x: torch.Tensor | np.ndarray, path: str | Path, **kwargs: int) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(grid_array(x, **kwargs)).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
