"""Adam and AdamW as every training loop here builds them: torch's multi-tensor (foreach) form.

The default form on CPU runs a few small kernels per parameter tensor; a flow of 144 tensors spends 13.1 ms
an Adam step in it on one thread of the 2-core AMD EPYC (family 23), 6.3 ms in the foreach form
(`python benchmarks/probes/taming_step_costs.py mnist-flow mnist`, 2026-12-08): a twentieth of a 5-image
taming step there. On CUDA torch picks the foreach form by itself; on CPU it does not. Same algorithm;
the last bits of the arithmetic can differ from the default form.

The fused form (2.2 ms there) is not used: with it, a taming run interrupted and resumed from its checkpoint
stopped ending on the uninterrupted run's weights (tests/test_flow.py, the resume test; the weights part
within ten steps of the resume point), where the default and foreach forms resume exactly.
A checkpoint written by a run of the default form resumes in that form (its saved parameter groups say so),
so a resumed run continues exactly as it started.
"""
from collections.abc import Iterable
from typing import Any

import torch


def _multi_tensor(params: list[Any]) -> bool:
    """Whether the foreach form applies: every parameter a floating tensor on one CPU or CUDA device."""
    tensors = [p for group in params for p in (group["params"] if isinstance(group, dict) else [group])]
    devices = {p.device.type for p in tensors}
    return bool(tensors) and len(devices) == 1 and devices <= {"cpu", "cuda"} and all(p.is_floating_point() for p in tensors)


def adam(params: Iterable[Any], lr: float, **kwargs: Any) -> torch.optim.Adam:
    """`torch.optim.Adam(params, lr, **kwargs)` in the foreach form where `_multi_tensor` allows (else the
    default form)."""
    params = list(params)
    return torch.optim.Adam(params, lr, foreach=_multi_tensor(params) or None, **kwargs)


def adamw(params: Iterable[Any], lr: float, **kwargs: Any) -> torch.optim.AdamW:
    """`torch.optim.AdamW` as `adam` builds Adam."""
    params = list(params)
    return torch.optim.AdamW(params, lr, foreach=_multi_tensor(params) or None, **kwargs)
