"""The one Python call: `redact(model, target, method=..., **config) -> (edited_model, log)`."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genredact.data import DATASETS, ImageData, load_dataset
from genredact.engine.loop import MemoryWatch, collect_recoveries
from genredact.engine.precision import current as current_precision
from genredact.engine.precision import precision as use_precision
from genredact.errors import GenredactError
from genredact.seeding import make_generator
from genredact.targets import Target, parse_target


def resolve_model(model: nn.Module | str | Path, device: str = "cpu") -> nn.Module:
    if isinstance(model, (str, Path)):
        from genredact.zoo import load_model

        return load_model(model, device=device)
    return model


def training_data(model: nn.Module, data: ImageData | str | None) -> ImageData | None:
    """`data='auto'` loads the model's data set when it is a built-in one; None means data-free."""
    if data is None or isinstance(data, ImageData):
        return data
    if data == "auto":
        dataset = getattr(model, "dataset", None)
        return load_dataset(dataset, "train") if dataset in DATASETS else None
    return load_dataset(str(data), "train")


def redact(
    model: nn.Module | str | Path,
    target: Target | str,
    method: str | None = None,
    *,
    data: ImageData | str | None = "auto",
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    precision: str | None = None,
    **config: Any,
) -> tuple[nn.Module, dict[str, Any]]:
    """Redact `target` from `model` with `method` and return (edited model, log).

    Args:
        model: a GanModel (wrap your own generator/discriminator in `GanModel`), a FlowModel, a zoo name or a folder.
        target: a Target, or its compact form (`label=Sandal`, `samples=DIR`, `validity=mod:fn`).
        method: a registered method name (`genredact list methods`); default per family.
        data: the training data for the real-data variant, 'auto' (the model's built-in data set) or None.
        seed: seeds every random draw of the method (bit-identical reruns on CPU).
        precision: "fp32", or "bf16" to run the training steps under bf16 autocast (for GPUs with bf16 units);
            default: the surrounding `genredact.engine.precision.precision(...)` block's, else fp32.
        **config: the method's options, e.g. steps=300, lam=0.5, real='generator'.

    The input model is never modified.
    """
    from genredact.engine.dist import local_device
    from genredact.methods import DEFAULT_METHOD, METHODS, Context

    device = str(local_device(device))  # under a launcher, "cuda" is this process's own GPU
    model = resolve_model(model, device)
    if isinstance(target, str):
        target = parse_target(target, model)
    family = getattr(model, "family", "")
    name = method or DEFAULT_METHOD.get(family)
    if name is None:
        raise GenredactError(f"no default method for a {family or type(model).__name__} model; pass method=... (see `genredact list methods`)")
    cls = METHODS.get(name)
    cls.check_pair(model, target)
    cfg = cls.make_config(config)
    needs_data = getattr(cfg, "real", None) == "data" or name == "retrain" or (name == "redact-samples" and target.kind == "classifier") or getattr(cls, "needs_data", False)
    ctx = Context(generator=make_generator(seed), data=training_data(model, data) if needs_data else None, device=device, progress=progress)
    # The cost covers the whole method (pools, negatives, training), not only its optimiser loop.
    start = time.perf_counter()
    with MemoryWatch(torch.device(device)) as watch, torch.random.fork_rng(devices=[]), collect_recoveries() as recoveries, \
            use_precision(precision or current_precision()):
        torch.manual_seed(seed)  # methods must not depend on or leak global RNG state
        result = cls().apply(model, target, cfg, ctx)
    wall = time.perf_counter() - start
    log = {"method": name, "config": dataclasses.asdict(cfg), "target": target.to_json(), "seed": seed, "precision": precision or current_precision(), **result.log, "recoveries": recoveries}
    log.update(loop_wall_s=log.get("wall_s", 0.0), wall_s=wall, peak_mem_mb=watch.peak)
    return result.model, log
