"""Several processes (`accelerate launch --num_processes N`, PyTorch DDP over gloo or NCCL).

Under a launcher every process runs the same command. Training loops keep one set of weights and one
set of random streams: every process draws the same full batch (so `batch_size` means the same as in one
process), works on its own contiguous part of it (`shard`), and the gradients are averaged across
processes after every backward pass. BatchNorm layers in training mode normalise with the statistics
of the whole batch (summed across processes, `synced_batchnorm`). With a batch size that the number of
processes divides, a step's gradient is the one-process gradient up to float rounding, so a run's result
does not depend on how many processes ran it. A loop that does not shard simply repeats the same work
in every process. Evaluations split their latent chunks over the processes and gather the results, so
every process ends with the same figures. Only the main process writes files and prints progress.
"""
from __future__ import annotations

import atexit
import os
from contextlib import contextmanager
from functools import partial
from typing import Any, Iterator

import torch
from torch import nn

_teardown = False  # whether the process group's shutdown at exit is registered (world())


def world() -> tuple[int, int]:
    """(rank, number of processes); (0, 1) outside a launcher. Starts the process group if needed."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        from accelerate import PartialState

        # On GPUs, NCCL carries the CUDA tensors (gradients, batch sums) and gloo the small CPU ones (flags,
        # logged values, judged chunks): NCCL alone refuses CPU tensors. PartialState also pins each process
        # to its own GPU (cuda:LOCAL_RANK), so "cuda" means that GPU from here on.
        cuda = torch.cuda.is_available()
        PartialState(cpu=not cuda, **({"backend": "cuda:nccl,cpu:gloo"} if cuda else {}))
    global _teardown
    if not _teardown:
        # Shut the process group down before the interpreter exits: left to the exit, gloo's threads were
        # destroyed unjoined and a rank aborted ("terminate called without an active exception", SIGABRT)
        # after its work was done (tests/ddp_worker.py, now and then; benchmarks/probes/ddp_exit_repeat.py).
        atexit.register(lambda: dist.destroy_process_group() if dist.is_initialized() else None)
        _teardown = True
    return dist.get_rank(), dist.get_world_size()


def is_main() -> bool:
    return world()[0] == 0


def local_device(device: torch.device | str) -> torch.device:
    """`device` for this process: under a launcher, a plain "cuda" is this process's own GPU (the process
    group is started first, which pins it), so that models loaded before any loop runs do not all land on
    GPU 0."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and world()[1] > 1:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def _wire(t: torch.Tensor) -> torch.Tensor:
    """`t` on the device the process group can send it from: the GPU where the group is NCCL alone (one a
    caller started, e.g. their own Accelerator), else as it is (gloo takes CPU tensors)."""
    import torch.distributed as dist

    backend = str(dist.get_backend())
    return t.to("cuda") if backend == "nccl" else t


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
    t = _wire(torch.tensor([1.0 if flag else 0.0]))
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


def shard(x: torch.Tensor) -> torch.Tensor:
    """This process's contiguous part of a batch (dim 0); the whole batch in one process."""
    rank, size = world()
    return x if size == 1 else x.tensor_split(size)[rank]


def gather(x: torch.Tensor, n: int) -> torch.Tensor:
    """The whole batch of `n` rows back from every process's `shard` of it, in order (no gradient)."""
    import torch.distributed as dist

    rank, size = world()
    if size == 1:
        return x
    counts = [len(part) for part in torch.arange(n).tensor_split(size)]
    pad = x.new_zeros((max(counts), *x.shape[1:]))
    pad[: x.shape[0]] = x.detach()
    parts = [torch.empty_like(pad) for _ in range(size)]
    dist.all_gather(parts, pad.contiguous())
    return torch.cat([part[:c] for part, c in zip(parts, counts)])


class _SumAcross(torch.autograd.Function):
    """Sum over the processes; the backward pass sums the gradients the same way (each process's loss
    depends on every process's input), so averaged gradients are those of the whole-batch loss."""

    @staticmethod
    def forward(ctx: Any, t: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        out = t.detach().clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad


def batch_sums(parts: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor summed over the processes, with gradients (the backward pass sums them back)."""
    if world()[1] == 1:
        return parts
    flat = _SumAcross.apply(torch.cat([t.reshape(-1) for t in parts]))
    out, offset = [], 0
    for t in parts:
        out.append(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()
    return out


def mean_values(values: dict[str, float]) -> dict[str, float]:
    """The average over the processes of each (scalar) value, e.g. the losses of a step's shards."""
    import torch.distributed as dist

    if world()[1] == 1 or not values:
        return values
    t = _wire(torch.tensor(list(values.values()), dtype=torch.float64))
    dist.all_reduce(t)
    return dict(zip(values, (t / world()[1]).tolist()))


def _synced_bn_forward(bn: nn.modules.batchnorm._BatchNorm, plain: Any, x: torch.Tensor) -> torch.Tensor:
    """Batch norm over the whole batch held by all processes (autograd flows through the all-reduce)."""
    if not bn.training:
        return plain(x)
    dims = [0, *range(2, x.dim())]
    count = torch.tensor(float(x.numel() // x.shape[1]), dtype=x.dtype, device=x.device)
    stats = _SumAcross.apply(torch.cat([x.sum(dims), count.view(1)]))
    c = x.shape[1]
    shape = [1, c] + [1] * (x.dim() - 2)
    n = stats[-1]
    mean = stats[:c] / n
    var = _SumAcross.apply((x - mean.view(shape)).pow(2).sum(dims)) / n  # two passes: no cancellation
    if bn.track_running_stats and bn.running_mean is not None:
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            m = bn.momentum if bn.momentum is not None else 1.0 / float(bn.num_batches_tracked)
            bn.running_mean.mul_(1 - m).add_(m * mean.detach())
            bn.running_var.mul_(1 - m).add_(m * var.detach() * n / (n - 1).clamp_min(1))
    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + bn.eps)
    if bn.affine:
        y = y * bn.weight.view(shape) + bn.bias.view(shape)
    return y


@contextmanager
def synced_batchnorm(modules: list[nn.Module]) -> Iterator[None]:
    """Within the block, the BatchNorm layers of `modules` take whole-batch statistics across processes
    (CPU and GPU alike; torch's SyncBatchNorm is GPU only). Nothing changes in one process."""
    if world()[1] == 1:
        yield
        return
    layers = [m for mod in modules for m in mod.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in layers:
        bn.forward = partial(_synced_bn_forward, bn, bn.forward)
    try:
        yield
    finally:
        for bn in layers:
            del bn.forward


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
        shapes = _wire(shapes)
        dist.broadcast(shapes, src=owner)
        shapes = shapes.cpu()
        tensors = []
        for j in range(4):
            if shapes[j, 0] == 0:
                break
            t = _wire(mine[j].contiguous() if owner == rank else torch.empty(tuple(shapes[j].tolist()), dtype=torch.float64))
            dist.broadcast(t, src=owner)
            tensors.append(t.cpu())
        out.append(tuple(tensors))
    return out
