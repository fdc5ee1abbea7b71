"""Explicit random generators; library code never touches global RNG state."""
from __future__ import annotations

import torch


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(seed))
