"""Training state as data: capture, restore and serialise without pickle.

A loop's state is a dict of named objects: modules, optimisers and schedulers (anything with
`state_dict`/`load_state_dict`), `torch.Generator`s, tensors (restored in place) and plain dicts of
numbers, strings, lists, tensors and numpy arrays (restored by replacing their contents). `pack` turns
a captured state into a JSON skeleton plus a flat dict of tensors, which is what a safetensors file
holds; `unpack` reverses it exactly (int vs float, tuples, non-string dict keys).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

TORCH_RNG = "__torch_rng__"


def capture(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of every object in `state` (plus the global torch RNG), still holding live tensors;
    `pack` copies them."""
    out: dict[str, Any] = {TORCH_RNG: torch.get_rng_state()}
    for name, obj in state.items():
        if isinstance(obj, torch.Generator):
            out[name] = obj.get_state()
        elif isinstance(obj, torch.Tensor):
            out[name] = obj
        elif isinstance(obj, dict):
            out[name] = dict(obj)
        elif hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
            out[name] = obj.state_dict()
        else:
            raise TypeError(f"cannot checkpoint {name!r} of type {type(obj).__name__}: give modules, optimisers, generators, tensors or dicts")
    return out


def restore(state: dict[str, Any], snapshot: dict[str, Any]) -> None:
    """Put `snapshot` (from `capture`, possibly through pack/unpack) back into the live objects."""
    missing = set(state) - set(snapshot)
    if missing:
        raise KeyError(f"the checkpoint has no state for {', '.join(sorted(missing))}")
    torch.set_rng_state(snapshot[TORCH_RNG])
    for name, obj in state.items():
        value = snapshot[name]
        if isinstance(obj, torch.Generator):
            obj.set_state(value)
        elif isinstance(obj, torch.Tensor):
            with torch.no_grad():
                obj.copy_(value)
        elif isinstance(obj, dict):
            obj.clear()
            obj.update(value)
        else:
            obj.load_state_dict(value)


def pack(obj: Any, tensors: dict[str, torch.Tensor], prefix: str = "t") -> Any:
    """JSON skeleton of `obj`; every tensor and numpy array is copied into `tensors` under a fresh key."""
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = torch.from_numpy(np.ascontiguousarray(obj).copy())
        return {"__ndarray__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[pack(k, tensors, prefix), pack(v, tensors, prefix)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [pack(v, tensors, prefix) for v in obj]}
    if isinstance(obj, list):
        return [pack(v, tensors, prefix) for v in obj]
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint a value of type {type(obj).__name__}")


def unpack(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]].clone()
        if "__ndarray__" in skeleton:
            return tensors[skeleton["__ndarray__"]].numpy().copy()
        if "__tuple__" in skeleton:
            return tuple(unpack(v, tensors) for v in skeleton["__tuple__"])
        return {unpack(k, tensors): unpack(v, tensors) for k, v in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [unpack(v, tensors) for v in skeleton]
    return skeleton


def save_state(path: Any, snapshot: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write `snapshot` and `meta` to one safetensors file, atomically (temp file + rename)."""
    from genredact.checkpoint import save_tensors

    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = pack(snapshot, tensors)
    tmp = path.with_name(f".{path.name}.tmp")
    save_tensors(tensors, tmp, metadata={"state": json.dumps(skeleton), "meta": json.dumps(meta)})
    os.replace(tmp, path)


def load_state(path: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(snapshot, meta) from a file written by `save_state`."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        header = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return unpack(json.loads(header["state"]), tensors), json.loads(header["meta"])


def copy_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a captured state in memory (the in-memory "last good state")."""
    tensors: dict[str, torch.Tensor] = {}
    return unpack(pack(snapshot, tensors), tensors)


def scale_lr(state: dict[str, Any], factor: float) -> None:
    """Multiply the learning rate of every optimiser in `state` (and a scheduler's bounds) by `factor`."""
    for obj in state.values():
        if isinstance(obj, torch.optim.Optimizer):
            for group in obj.param_groups:
                for key in ("lr", "initial_lr", "max_lr", "min_lr"):
                    if isinstance(group.get(key), (int, float)):
                        group[key] *= factor
        elif isinstance(obj, torch.optim.lr_scheduler.LRScheduler):
            obj.base_lrs = [lr * factor for lr in obj.base_lrs]
