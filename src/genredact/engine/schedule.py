"""Learning-rate schedules shared by the training loops."""
from __future__ import annotations

import torch


def one_cycle(opt: torch.optim.Optimizer, max_lr: float, steps: int, warm: float = 0.1) -> torch.optim.lr_scheduler.OneCycleLR:
    """torch's one-cycle schedule (a `warm` share of the steps rising to `max_lr`, then annealing).

    torch divides by (warm * steps - 1), so a warm-up of exactly one step (e.g. 10 steps at 0.1) raises
    ZeroDivisionError; such a warm-up is stretched to one and a half steps.
    """
    steps = max(1, int(steps))
    if abs(warm * steps - 1.0) < 1e-9:
        warm = 1.5 / steps
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps, pct_start=warm)
