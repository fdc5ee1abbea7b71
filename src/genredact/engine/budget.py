"""Fail early, with the figure needed, when a run will not fit in the free disk or memory.

The estimates are upper-side rules of thumb from the model's size: a training run holds the input
model, the edited copy, gradients, two Adam moments, the in-memory last good state and a checkpoint
being written (about 8 copies of the weights) plus working memory for batches; on disk it writes the
edited model and, while it runs, a checkpoint with optimiser state (about 6 copies) plus grids and
metrics.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from torch import nn

from genredact.errors import GenredactError

MB = 2**20
WORK_MEMORY = 512 * MB  # batches, activations, evaluation features
WORK_DISK = 20 * MB  # grids, metrics, report


def weight_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def free_memory(device: torch.device | str) -> int | None:
    """Bytes free on `device` (CUDA: the driver's figure; CPU: MemAvailable), None if unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_run_fits(model: nn.Module, out: str | Path, device: torch.device | str) -> dict[str, int]:
    """Raise a GenredactError naming the figures when a training run of `model` writing under `out`
    will not fit; return the estimates otherwise."""
    w = weight_bytes(model)
    need_disk, need_mem = 6 * w + WORK_DISK, 8 * w + WORK_MEMORY
    where = Path(out).parent if not Path(out).is_dir() else Path(out)
    where = next((p for p in [where, *where.parents] if p.exists()), Path(os.getcwd()))
    free_disk = shutil.disk_usage(where).free
    if free_disk < need_disk:
        raise GenredactError(f"this run needs about {need_disk / MB:.0f} MB of free disk in {where} (edited model and checkpoints) but "
                             f"{free_disk / MB:.0f} MB are free; free some space or choose another --out")
    free_mem = free_memory(device)
    if free_mem is not None and free_mem < need_mem:
        raise GenredactError(f"this run needs about {need_mem / MB:.0f} MB of {torch.device(device).type} memory but {free_mem / MB:.0f} MB are free; "
                             "close other jobs or use a larger device")
    return {"disk_bytes": need_disk, "memory_bytes": need_mem}
