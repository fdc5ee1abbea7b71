"""A small training loop on Hugging Face Accelerate, shared by every method and zoo recipe.

It owns the device, the progress bar, timing and peak memory, several processes (gradients averaged,
see `genredact.engine.dist`), bf16 autocast (`genredact.engine.precision`), divergence recovery (back
to the last good state with half the learning rate, once) and resumable checkpoints
(`genredact.engine.resume`).

A caller gives a `step(i) -> {name: loss}` function that calls `loop.backward(loss)` instead of
`loss.backward()`, and registers in `state` everything the steps change.
"""
from __future__ import annotations

import math
import os
import resource
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch import nn

from genredact.engine import dist
from genredact.engine import precision as precision_mod
from genredact.errors import GenredactError, TrainingDivergedError


@dataclass
class LoopResult:
    steps: int
    wall_s: float
    peak_mem_mb: float
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = ""
    recoveries: list[dict[str, Any]] = field(default_factory=list)


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


_RECOVERIES: ContextVar[list[dict[str, Any]] | None] = ContextVar("genredact_recoveries", default=None)


@contextmanager
def collect_recoveries() -> Iterator[list[dict[str, Any]]]:
    """Every divergence recovery of the loops run inside the block, in order (for a run's log)."""
    events: list[dict[str, Any]] = []
    token = _RECOVERIES.set(events)
    try:
        yield events
    finally:
        _RECOVERIES.reset(token)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Loop:
    """Runs `step` for `steps` iterations with progress, guards, recovery and checkpoints.

    Args:
        steps: number of optimiser steps.
        desc: progress-bar label.
        progress: show a tqdm bar on stderr (main process only).
        log_every: keep every n-th step's losses in the history.
        max_loss: a loss above this (or NaN/inf) counts as divergence.
        snapshot_every: steps between in-memory copies of the registered state (the "last good state"
            that divergence recovery goes back to).

    `run(step, state={...})` registers everything the steps change (modules, optimisers, generators,
    dicts of running values). With registered state the loop can (a) recover from divergence once:
    restore the last good state, halve every learning rate and go on, stopping with a clear message if
    it diverges again, and (b) inside a `genredact.engine.resume.resumable` session, checkpoint and
    resume bit-identically. Without it, divergence stops the run and nothing is checkpointed.
    """

    def __init__(
        self,
        *,
        steps: int,
        desc: str = "training",
        progress: bool = True,
        log_every: int = 10,
        max_loss: float = 1e4,
        snapshot_every: int = 25,
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
        self.max_loss = float(max_loss)
        self.snapshot_every = max(1, int(snapshot_every))
        self._world = dist.world()[1]
        self._modules: list[nn.Module] = []

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def processes(self) -> int:
        """How many processes run this loop (1 outside a launcher)."""
        return self._world

    def shard(self, x: torch.Tensor) -> torch.Tensor:
        """This process's part of a batch that every process drew whole (the whole batch in one process).
        Draw every random thing of a step at full size first, then shard: the streams stay in step."""
        return dist.shard(x) if self._world > 1 else x

    def gather(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """The whole batch of `n` rows from the processes' shards of it (no gradient)."""
        return dist.gather(x, n) if self._world > 1 else x

    def batch_mean(self, v: torch.Tensor) -> torch.Tensor:
        """The mean of per-example values `v` over the whole batch (all processes' shards; exact for
        uneven shards too). Differentiable; in one process, `v.mean()`."""
        if self._world == 1:
            return v.mean()
        total, count = dist.batch_sums([v.sum(), v.new_tensor(float(v.numel()))])
        return total / count

    def batch_mean_std(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and (unbiased) standard deviation of `v` over the whole batch; `(v.mean(), v.std())` in
        one process."""
        if self._world == 1:
            return v.mean(), v.std()
        total, count = dist.batch_sums([v.sum(), v.new_tensor(float(v.numel()))])
        mean = total / count
        (squares,) = dist.batch_sums([(v - mean).pow(2).sum()])  # two passes: no cancellation in float32
        return mean, (squares / (count - 1)).sqrt()

    def backward(self, loss: torch.Tensor) -> None:
        with precision_mod.no_autocast(self.device):
            self.accelerator.backward(loss)
        if self._world > 1:  # one set of weights: the processes' gradients are averaged
            dist.average_gradients(self._modules)

    def _diverged(self, losses: dict[str, float]) -> str:
        for name, value in losses.items():
            if not math.isfinite(value) or abs(value) > self.max_loss:
                return f"{name} = {value:.4g}"
        return ""

    def run(
        self,
        step: Callable[[int], dict[str, float]],
        *,
        state: dict[str, Any] | None = None,
        stop: Callable[[int], str] | None = None,
    ) -> LoopResult:
        """Run the loop. `stop(i)` may return a non-empty reason to end early (e.g. a band reached);
        it is called before step i, so anything it keeps between calls belongs in `state`."""
        from tqdm.auto import tqdm

        from genredact.engine import resume as resume_mod
        from genredact.engine.state import capture, copy_snapshot, load_state, restore, save_state, scale_lr

        state = state or {}
        # Resume is tested in one process; several processes run without checkpoints.
        session = resume_mod.current() if state and self._world == 1 else None
        self._modules = [m for m in state.values() if isinstance(m, nn.Module)]
        ckpt = session.next_path("loop") if session is not None else None
        meta = {"desc": self.desc, "steps": self.steps}
        history: list[dict[str, float]] = []
        start_step, wall_before, recoveries, reason = 0, 0.0, [], ""
        if ckpt is not None and session.resume and ckpt.exists():
            snap, saved = load_state(ckpt)
            if saved["desc"] != self.desc or saved["steps"] != self.steps:
                raise GenredactError(f"checkpoint {ckpt} was written by another loop ({saved['desc']}, {saved['steps']} steps); "
                                     "drop --resume to start afresh")
            restore(state, snap)
            start_step, wall_before, history = saved["step"], saved["wall_s"], saved["history"]
            recoveries, reason = saved["recoveries"], saved["stop_reason"]
            if saved["finished"]:
                return LoopResult(steps=start_step, wall_s=wall_before, peak_mem_mb=saved["peak_mem_mb"], history=history,
                                  stopped_early=bool(reason), stop_reason=reason, recoveries=recoveries)
        watch = MemoryWatch(self.device).__enter__()
        start = time.perf_counter()
        last_save = start

        def save(done: int, finished: bool) -> None:
            if ckpt is None or not self.accelerator.is_main_process:
                return
            save_state(ckpt, capture(state), {**meta, "step": done, "finished": finished, "wall_s": wall_before + time.perf_counter() - start,
                                              "history": history, "recoveries": recoveries, "stop_reason": reason, "peak_mem_mb": watch.peak})

        good = copy_snapshot(capture(state)) if state else None
        good_step = start_step
        bar = tqdm(total=self.steps, initial=start_step, desc=self.desc, disable=not self.progress, leave=False, dynamic_ncols=True)
        done, i = start_step, start_step
        try:
            while i < self.steps:
                if stop is not None:
                    reason = stop(i)
                    if self._world > 1 and dist.any_process(bool(reason)):  # all processes stop together
                        reason = reason or "another process stopped"
                    if reason:
                        break
                with precision_mod.autocast(self.device), dist.synced_batchnorm(self._modules):
                    losses = step(i)
                if self._world > 1:  # each process saw its shard of the batch: report the whole batch's figures
                    losses = dist.mean_values(losses)
                bad = self._diverged(losses)
                if bad:
                    if good is None or recoveries:
                        again = f" again after going back to step {recoveries[0]['restored_step']} with the learning rate halved" if recoveries else ""
                        raise TrainingDivergedError(f"training diverged at step {i} ({bad}){again}; lower the learning rate "
                                                    "(e.g. --set lr=...) or the loss weights and run again")
                    restore(state, good)
                    scale_lr(state, 0.5)
                    recoveries.append({"loop": self.desc, "step": i, "loss": bad, "restored_step": good_step, "lr_factor": 0.5})
                    if (events := _RECOVERIES.get()) is not None:
                        events.append(recoveries[-1])
                    print(f"warning: {self.desc} diverged at step {i} ({bad}); went back to step {good_step} and halved the learning rate",
                          file=sys.stderr)
                    history = [h for h in history if h["step"] < good_step]
                    done = i = good_step
                    bar.n = i
                    continue
                done = i = i + 1
                if (i - 1) % self.log_every == 0 or done == self.steps:
                    history.append({"step": float(i - 1), **losses})
                    bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
                if good is not None and done % self.snapshot_every == 0:
                    good, good_step = copy_snapshot(capture(state)), done
                if ckpt is not None and time.perf_counter() - last_save >= session.every_s and done < self.steps:
                    save(done, finished=False)
                    last_save = time.perf_counter()
                bar.update(1)
            save(done, finished=True)
            dist.broadcast_buffers(self._modules)
        finally:
            bar.close()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            watch.__exit__()
        wall = wall_before + time.perf_counter() - start
        return LoopResult(steps=done, wall_s=wall, peak_mem_mb=watch.peak, history=history, stopped_early=bool(reason), stop_reason=reason,
                          recoveries=recoveries)
