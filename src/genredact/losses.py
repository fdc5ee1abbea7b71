"""Adversarial loss pieces shared by the zoo's GAN recipe and the GAN methods (non-saturating GAN)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_real_loss(logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) for samples labelled real."""
    return F.softplus(-logits).mean()


def d_fake_loss(logits: torch.Tensor) -> torch.Tensor:
    """-log(1 - D(x)) for samples labelled fake."""
    return F.softplus(logits).mean()


def g_loss(logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss -log D(G(z))."""
    return F.softplus(-logits).mean()
