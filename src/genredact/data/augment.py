"""Augmentations shared by the classifier recipes and the classifier-guided methods."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def random_shift(x: torch.Tensor, pixels: int, gen: torch.Generator, *, whole: int | None = None,
                 shard: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Random translation by up to `pixels` (pad with background and crop). When x is one process's
    `shard` of a batch of `whole` images, the offsets are drawn for the whole batch and sharded alike."""
    if pixels <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, value=-1.0)
    n = b if whole is None else whole
    dx = torch.randint(0, 2 * pixels + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * pixels + 1, (n,), generator=gen)
    if shard is not None:
        dx, dy = shard(dx), shard(dy)
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)  # (B, H)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)  # (B, W)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    return padded[idx_b, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
