"""Several processes (`accelerate launch --num_processes N`, PyTorch DDP over gloo or NCCL).

Under a launcher every process runs the same command. Training loops keep one set of weights: each
process draws its own batches (the batch size is per process, as in DDP), the gradients are averaged
across processes after every backward pass, and BatchNorm statistics are taken from the main process
at the end. Evaluations split their latent chunks over the processes and gather the results, so every
process ends with the same figures. Only the main process writes files and prints progress.
"""
from __future__ import annotations

import os

import torch
from torch import nn


def world() -> tuple[int, int]:
    """(rank, number of processes); (0, 1) outside a launcher. Starts the process group if needed."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available())
    return dist.get_rank(), dist.get_world_size()


def is_main() -> bool:
    return world()[0] == 0


def average_gradients(modules: list[nn.Module]) -> None:
    """Average the gradients of `modules` over the processes (one flat all-reduce)."""
    import torch.distributed as dist

    rank, size = world()
    if size == 1:
        return
    grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def any_process(flag: bool) -> bool:
    """True when `flag` is True in any process (so that all take the same branch)."""
    import torch.distributed as dist

    if world()[1] == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_buffers(modules: list[nn.Module]) -> None:
    """Copy the main process's buffers (BatchNorm running statistics) to every process."""
    import torch.distributed as dist

    if world()[1] == 1:
        return
    for m in modules:
        for b in m.buffers():
            dist.broadcast(b.data, src=0)


def spread_generators(generators: list[torch.Generator]) -> None:
    """Give every process its own random stream, derived from the shared one (rank 0 keeps its stream)."""
    rank, size = world()
    if size == 1 or rank == 0:
        return
    for g in generators:
        seed = int(torch.randint(0, 2**62, (1,), generator=g))
        g.manual_seed(seed + rank)


def gather_chunks(parts: dict[int, tuple[torch.Tensor, ...]], n_chunks: int) -> list[tuple[torch.Tensor, ...]]:
    """Every chunk's tensors in every process; chunk c was computed by process c % size (`parts` holds
    this process's chunks: up to four 2-D float64 tensors each). Shapes are sent first, then tensors."""
    import torch.distributed as dist

    rank, size = world()
    out = []
    for c in range(n_chunks):
        owner = c % size
        mine = parts.get(c)
        shapes = torch.zeros(4, 2, dtype=torch.long)
        if owner == rank:
            for j, t in enumerate(mine):
                shapes[j] = torch.tensor(t.shape)
        dist.broadcast(shapes, src=owner)
        tensors = []
        for j in range(4):
            if shapes[j, 0] == 0:
                break
            t = mine[j].contiguous() if owner == rank else torch.empty(tuple(shapes[j].tolist()), dtype=torch.float64)
            dist.broadcast(t, src=owner)
            tensors.append(t)
        out.append(tuple(tensors))
    return out
