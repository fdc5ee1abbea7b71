"""Explicit random generators; library code never touches global RNG state."""
from __future__ import annotations

import torch


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(seed))


def fork(generator: torch.Generator) -> torch.Generator:
    """A new generator seeded from `generator`, so sub-tasks get independent streams."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
    return make_generator(seed, generator.device)
