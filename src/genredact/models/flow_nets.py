"""Built-in normalizing-flow networks: a multi-scale Glow-style coupling flow (Kingma & Dhariwal 2018;
Dinh et al. 2017 for the multi-scale split).

Each flow step is ActNorm -> invertible 1x1 convolution -> affine coupling, so both directions are one
pass. A level squeezes (C, H, W) -> (4C, H/2, W/2), runs `steps` flow steps and, except at the last
level, factors out half of the channels as latent. Every layer has

    encode(x) -> (y, log_det)   data -> latent direction, log_det = log|det dy/dx| per example (B,)
    decode(y) -> (x, log_det)   latent -> data direction, log_det = log|det dx/dy| (= -encode's)

ActNorm initialises itself from the first batch it encodes (zero mean, unit variance per channel) and
records that in an `initialized` buffer, which is saved with the weights, so a reloaded model never
re-initialises on whatever batch it sees next (Taming's reference code had to guard against that).
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from genredact.models.base import NETS


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C, H/2, W/2)."""
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """(B, 4C, H/2, W/2) -> (B, C, H, W)."""
    b, c4, h, w = x.shape
    x = x.view(b, c4 // 4, 2, 2, h, w)
    return x.permute(0, 1, 4, 2, 5, 3).reshape(b, c4 // 4, h * 2, w * 2)


class ActNorm(nn.Module):
    """Per-channel affine y = (x + bias) * exp(log_scale) with data-dependent initialisation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True) if x.numel() // x.shape[1] > 1 else torch.ones_like(mean)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std.clamp_min(1e-3)))
        self.initialized.fill_(1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not bool(self.initialized):
            self.initialize(x)
        log_det = self.log_scale.sum() * x.shape[2] * x.shape[3]
        return (x + self.bias) * torch.exp(self.log_scale), log_det.expand(x.shape[0])

    def decode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = -self.log_scale.sum() * y.shape[2] * y.shape[3]
        return y * torch.exp(-self.log_scale) - self.bias, log_det.expand(y.shape[0])


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution with a full weight matrix (channels are few, so slogdet is cheap)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        w = torch.linalg.qr(torch.randn(channels, channels))[0]
        self.weight = nn.Parameter(w)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = torch.linalg.slogdet(self.weight)[1] * x.shape[2] * x.shape[3]
        return F.conv2d(x, self.weight[:, :, None, None]), log_det.expand(x.shape[0])

    def decode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = -torch.linalg.slogdet(self.weight)[1] * y.shape[2] * y.shape[3]
        return F.conv2d(y, torch.linalg.inv(self.weight)[:, :, None, None]), log_det.expand(y.shape[0])


class AffineCoupling(nn.Module):
    """The second half of the channels is scaled and shifted by a CNN of the first half.

    y_b = (x_b + t(x_a)) * s(x_a) with s = sigmoid(h + 2) in (0, 1) (Glow's stable choice); the last
    convolution starts at zero so every coupling starts near the identity.
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.n_a = channels // 2
        n_b = channels - self.n_a
        self.net = nn.Sequential(
            nn.Conv2d(self.n_a, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, 2 * n_b, 3, padding=1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _scale_shift(self, x_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(x_a)
        shift, raw = h[:, 0::2], h[:, 1::2]
        return F.logsigmoid(raw + 2.0), shift

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_a, x_b = x[:, : self.n_a], x[:, self.n_a :]
        log_s, t = self._scale_shift(x_a)
        y_b = (x_b + t) * torch.exp(log_s)
        return torch.cat([x_a, y_b], 1), log_s.flatten(1).sum(1)

    def decode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y_a, y_b = y[:, : self.n_a], y[:, self.n_a :]
        log_s, t = self._scale_shift(y_a)
        x_b = y_b * torch.exp(-log_s) - t
        return torch.cat([y_a, x_b], 1), -log_s.flatten(1).sum(1)


class FlowStep(nn.Module):
    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([ActNorm(channels), InvConv1x1(channels), AffineCoupling(channels, hidden)])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        total = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer.encode(x)
            total = total + ld
        return x, total

    def decode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        total = y.new_zeros(y.shape[0])
        for layer in reversed(self.layers):
            y, ld = layer.decode(y)
            total = total + ld
        return y, total


@NETS.register("glow")
class GlowNet(nn.Module):
    """Multi-scale Glow-style flow on images (C, H, W) with a flat latent of size C*H*W.

    Args:
        channels, height, width: the image shape.
        levels: number of scales; each squeezes (when `squeeze` and H, W are even) and all but the last
            factor out half of the channels.
        steps: flow steps per level.
        hidden: width of the coupling CNNs (doubled at each level).
        squeeze: squeeze at every level (False for non-image data such as a (2, 1, 1) toy flow).
    """

    net_name = "glow"

    def __init__(self, *, channels: int = 1, height: int = 28, width: int = 28, levels: int = 2, steps: int = 8, hidden: int = 64, squeeze: bool = True) -> None:
        super().__init__()
        self.config: dict[str, Any] = {"channels": channels, "height": height, "width": width, "levels": levels, "steps": steps, "hidden": hidden, "squeeze": squeeze}
        self.image_shape = (channels, height, width)
        self.levels = nn.ModuleList()
        self.plan: list[tuple[bool, tuple[int, int, int], int]] = []  # per level: squeezed?, shape inside, channels kept
        c, h, w = channels, height, width
        for i in range(levels):
            sq = squeeze and h % 2 == 0 and w % 2 == 0
            if sq:
                c, h, w = c * 4, h // 2, w // 2
            self.levels.append(nn.ModuleList([FlowStep(c, hidden * 2**i) for _ in range(steps)]))
            keep = c // 2 if i < levels - 1 and c > 1 else c
            self.plan.append((sq, (c, h, w), keep))
            c = keep
        self.dim = channels * height * width

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, C, H, W) -> flat latent (B, D) and log|det dz/dx| (B,)."""
        log_det = x.new_zeros(x.shape[0])
        parts = []
        for (sq, _, keep), steps in zip(self.plan, self.levels):
            if sq:
                x = squeeze(x)
            for step in steps:
                x, ld = step.encode(x)
                log_det = log_det + ld
            parts.append(x[:, keep:].flatten(1))
            x = x[:, :keep]
        parts.append(x.flatten(1))
        return torch.cat(parts, 1), log_det

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat latent (B, D) -> images (B, C, H, W) and log|det dx/dz| (B,)."""
        b = z.shape[0]
        # Cut the flat latent back into the factored-out parts, in encode's order.
        sizes = [(c - keep) * h * w for (_, (c, h, w), keep) in self.plan]
        last_c, last_h, last_w = self.plan[-1][1]
        sizes.append(self.plan[-1][2] * last_h * last_w)
        chunks = list(torch.split(z, sizes, dim=1))
        x = chunks.pop().view(b, self.plan[-1][2], last_h, last_w)
        log_det = z.new_zeros(b)
        for (sq, (c, h, w), keep), steps, out in zip(reversed(self.plan), reversed(self.levels), reversed(chunks)):
            x = torch.cat([x, out.view(b, c - keep, h, w)], 1)
            for step in reversed(steps):
                x, ld = step.decode(x)
                log_det = log_det + ld
            if sq:
                x = unsqueeze(x)
        return x, log_det


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the flat latent (B, D) -> (B,)."""
    return -0.5 * (z.pow(2).sum(1) + z.shape[1] * math.log(2 * math.pi))
