"""Built-in inpainter networks, each split into an encoder and a decoder (methods edit the encoder).

- `conv-inpaint-encoder` / `conv-inpaint-decoder`: a convolutional encoder-decoder (two stride-2
  stages, dilated convolutions at 1/4 resolution so the centre of a large hole sees its border).
- `mae-encoder` / `mae-decoder`: a small masked-autoencoder-style transformer. The image is cut into
  patches; a patch that lies wholly in the hole becomes a learned mask token; a transformer encoder
  turns the tokens into the latent (B, N, dim); a light transformer decoder maps it back to pixels.

GroupNorm/LayerNorm only (no batch statistics), so a student encoder in train mode computes exactly
what it computes in eval mode.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from genredact.models.base import NETS


class _Net(nn.Module):
    net_name = ""

    def __init__(self, **config) -> None:
        super().__init__()
        self.config = dict(config)


def _conv(cin: int, cout: int, k: int = 3, s: int = 1, p: int = 1, d: int = 1, groups: int = 8) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, s, p, dilation=d), nn.GroupNorm(min(groups, cout), cout), nn.SiLU()]


@NETS.register("conv-inpaint-encoder")
class ConvInpaintEncoder(_Net):
    """(x_masked (B, C, S, S), mask (B, 1, S, S)) -> latent (B, 4*width, S/4, S/4)."""

    net_name = "conv-inpaint-encoder"

    def __init__(self, *, channels: int = 1, size: int = 28, width: int = 32) -> None:
        super().__init__(channels=channels, size=size, width=width)
        w = width
        self.body = nn.Sequential(
            *_conv(channels + 1, w),
            *_conv(w, 2 * w, 4, 2, 1),  # S/2
            *_conv(2 * w, 4 * w, 4, 2, 1),  # S/4
            *_conv(4 * w, 4 * w, 3, 1, 2, d=2),
            *_conv(4 * w, 4 * w, 3, 1, 2, d=2),
            nn.Conv2d(4 * w, 4 * w, 3, 1, 1),
        )

    def forward(self, x_masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([x_masked, mask], 1))


@NETS.register("conv-inpaint-decoder")
class ConvInpaintDecoder(_Net):
    """latent (B, 4*width, S/4, S/4) -> image (B, C, S, S) in [-1, 1]."""

    net_name = "conv-inpaint-decoder"

    def __init__(self, *, channels: int = 1, size: int = 28, width: int = 32) -> None:
        super().__init__(channels=channels, size=size, width=width)
        w = width
        self.body = nn.Sequential(
            *_conv(4 * w, 4 * w),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.GroupNorm(8, 2 * w), nn.SiLU(),  # S/2
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.GroupNorm(min(8, w), w), nn.SiLU(),  # S
            nn.Conv2d(w, channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h)


class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, dim: int, heads: int, mlp: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        h = self.norm1(t)
        t = t + self.attn(h, h, h, need_weights=False)[0]
        return t + self.mlp(self.norm2(t))


def _patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, S, S) -> (B, N, C*p*p) with N = (S/p)^2."""
    return F.unfold(x, p, stride=p).transpose(1, 2)


@NETS.register("mae-encoder")
class MAEEncoder(_Net):
    """(x_masked (B, C, S, S), mask (B, 1, S, S)) -> latent tokens (B, (S/patch)^2, dim)."""

    net_name = "mae-encoder"

    def __init__(self, *, channels: int = 1, size: int = 28, patch: int = 4, dim: int = 96, depth: int = 4, heads: int = 4) -> None:
        super().__init__(channels=channels, size=size, patch=patch, dim=dim, depth=depth, heads=heads)
        if size % patch:
            raise ValueError(f"image size {size} is not a multiple of the patch size {patch}")
        n = (size // patch) ** 2
        self.patch = patch
        self.embed = nn.Linear((channels + 1) * patch * patch, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, 2 * dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x_masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(_patchify(torch.cat([x_masked, mask], 1), self.patch))  # (B, N, dim)
        hidden = _patchify(mask, self.patch).amin(2, keepdim=True)  # (B, N, 1): 1 where the whole patch is hole
        # lerp wants one dtype: under bf16 autocast the embedding comes out bfloat16, the parameters stay float32
        t = torch.lerp(tokens, self.mask_token.to(tokens.dtype).expand_as(tokens), hidden.to(tokens.dtype)) + self.pos
        for blk in self.blocks:
            t = blk(t)
        return self.norm(t)


@NETS.register("mae-decoder")
class MAEDecoder(_Net):
    """latent tokens (B, N, dim) -> image (B, C, S, S) in [-1, 1]; lighter than the encoder."""

    net_name = "mae-decoder"

    def __init__(self, *, channels: int = 1, size: int = 28, patch: int = 4, dim: int = 96, dec_dim: int = 64, depth: int = 1, heads: int = 4) -> None:
        super().__init__(channels=channels, size=size, patch=patch, dim=dim, dec_dim=dec_dim, depth=depth, heads=heads)
        n = (size // patch) ** 2
        self.size, self.patch = size, patch
        self.proj = nn.Linear(dim, dec_dim)
        self.pos = nn.Parameter(torch.randn(1, n, dec_dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dec_dim, heads, 2 * dec_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dec_dim)
        self.head = nn.Linear(dec_dim, channels * patch * patch)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        t = self.proj(h) + self.pos
        for blk in self.blocks:
            t = blk(t)
        pix = self.head(self.norm(t)).transpose(1, 2)  # (B, C*p*p, N)
        return torch.tanh(F.fold(pix, (self.size, self.size), self.patch, stride=self.patch))


def _conv_pair(*, channels: int, size: int, width: int = 24) -> tuple[nn.Module, nn.Module]:
    return ConvInpaintEncoder(channels=channels, size=size, width=width), ConvInpaintDecoder(channels=channels, size=size, width=width)


def _mae_pair(*, channels: int, size: int, patch: int = 4, dim: int = 64, depth: int = 4, dec_dim: int = 64, dec_depth: int = 1, heads: int = 4) -> tuple[nn.Module, nn.Module]:
    return (
        MAEEncoder(channels=channels, size=size, patch=patch, dim=dim, depth=depth, heads=heads),
        MAEDecoder(channels=channels, size=size, patch=patch, dim=dim, dec_dim=dec_dim, depth=dec_depth, heads=heads),
    )


#: Built-in inpainter architectures: name -> (channels, size, **kw) -> (encoder, decoder). The tiny ones are for tests.
ARCHS: dict[str, Callable[..., tuple[nn.Module, nn.Module]]] = {
    "conv": _conv_pair,
    "mae": _mae_pair,
    "tiny-conv": lambda *, channels, size, **kw: _conv_pair(channels=channels, size=size, **{"width": 4, **kw}),
    "tiny-mae": lambda *, channels, size, **kw: _mae_pair(channels=channels, size=size, **{"patch": 4, "dim": 16, "depth": 1, "dec_dim": 8, "heads": 2, **kw}),
}
