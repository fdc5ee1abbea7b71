"""A small training loop on Hugging Face Accelerate, shared by every method and zoo recipe.

It owns the device placement (through `accelerate.Accelerator`, so `accelerate launch` spreads a run
over processes), the progress bar, periodic atomic checkpoints of the trained modules, timing and
peak memory, and a guard that stops with a clear message when a loss turns NaN or explodes.

A caller gives the modules and optimisers, and a `step(i) -> {name: loss}` function that calls
`loop.backward(loss)` instead of `loss.backward()`.
"""
from __future__ import annotations

import json
import math
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from genredact.errors import TrainingDivergedError


@dataclass
class LoopResult:
    steps: int
    wall_s: float
    peak_mem_mb: float
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = ""


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc; falls back to the lifetime peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class MemoryWatch:
    """Peak memory while a block runs: CUDA peak allocation, or on CPU the highest resident size of
    the process sampled every 20 ms by a background thread (so one run's figure is not another's)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> "MemoryWatch":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self.peak = rss_mb()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak = max(self.peak, rss_mb())


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Loop:
    """Runs `step` for `steps` iterations with progress, guards and checkpoints.

    Args:
        steps: number of optimiser steps.
        desc: progress-bar label.
        progress: show a tqdm bar on stderr (main process only).
        log_every: keep every n-th step's losses in the history.
        checkpoint_dir: where to write `loop_state.safetensors` every `checkpoint_every` steps.
        max_loss: a loss above this (or NaN/inf) stops the run with TrainingDivergedError.
    """

    def __init__(
        self,
        *,
        steps: int,
        desc: str = "training",
        progress: bool = True,
        log_every: int = 10,
        checkpoint_dir: str | Path | None = None,
        checkpoint_every: int = 0,
        max_loss: float = 1e4,
        device: torch.device | str | None = None,
    ) -> None:
        from accelerate import Accelerator

        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        device = torch.device(device) if device is not None else default_device()
        self.accelerator = Accelerator(cpu=device.type == "cpu")
        self.steps = int(steps)
        self.desc = desc
        self.progress = progress and self.accelerator.is_main_process
        self.log_every = max(1, int(log_every))
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.checkpoint_every = int(checkpoint_every)
        self.max_loss = float(max_loss)

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    def backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def _check(self, i: int, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if not math.isfinite(value) or abs(value) > self.max_loss:
                raise TrainingDivergedError(
                    f"training diverged at step {i} ({name} = {value:.4g}); lower the learning rate "
                    "(e.g. --set lr=...) or the loss weights and run again"
                )

    def _save(self, i: int, modules: dict[str, nn.Module]) -> None:
        from safetensors.torch import save_file

        if self.checkpoint_dir is None or not self.accelerator.is_main_process:
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        state = {f"{name}.{k}": v.detach().cpu().contiguous().clone() for name, m in modules.items() for k, v in m.state_dict().items()}
        tmp = self.checkpoint_dir / ".loop_state.safetensors.tmp"
        save_file(state, str(tmp), metadata={"step": str(i)})
        os.replace(tmp, self.checkpoint_dir / "loop_state.safetensors")
        (self.checkpoint_dir / ".loop_step.json.tmp").write_text(json.dumps({"step": i}))
        os.replace(self.checkpoint_dir / ".loop_step.json.tmp", self.checkpoint_dir / "loop_step.json")

    def run(
        self,
        step: Callable[[int], dict[str, float]],
        *,
        modules: dict[str, nn.Module] | None = None,
        stop: Callable[[int], str] | None = None,
    ) -> LoopResult:
        """Run the loop. `stop(i)` may return a non-empty reason to end early (e.g. a band reached)."""
        from tqdm.auto import tqdm

        modules = modules or {}
        watch = MemoryWatch(self.device).__enter__()
        history: list[dict[str, float]] = []
        start = time.perf_counter()
        bar = tqdm(total=self.steps, desc=self.desc, disable=not self.progress, leave=False, dynamic_ncols=True)
        done, reason = 0, ""
        try:
            for i in range(self.steps):
                if stop is not None and (reason := stop(i)):
                    break
                losses = step(i)
                self._check(i, losses)
                done = i + 1
                if i % self.log_every == 0 or done == self.steps:
                    history.append({"step": float(i), **losses})
                    bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                if self.checkpoint_every and done % self.checkpoint_every == 0:
                    self._save(done, modules)
                bar.update(1)
        finally:
            bar.close()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            watch.__exit__()
        wall = time.perf_counter() - start
        return LoopResult(steps=done, wall_s=wall, peak_mem_mb=watch.peak, history=history, stopped_early=bool(reason), stop_reason=reason)
