"""Before/after evaluation of a flow edit (used by the run folder and the benchmark).

- forget targets (images, indices, a class): `metrics.flow.flow_metrics` (BPD and likelihood quantile of
  forget / held-out same-class / random retain / judge-nearest-neighbour images, band share, remember
  BPD shift, membership AUC);
- class and mix targets: the class mix of `n` samples at `temperature` under the independent judge,
  with 95% Clopper-Pearson intervals.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from genredact.data import ImageData
from genredact.metrics.flow import class_mix, flow_metrics, strip_arrays
from genredact.seeding import make_generator
from genredact.targets import DistributionTarget, Target

EVAL_TEMPERATURE = 0.7


@torch.no_grad()
def sample_class_mix(model: torch.nn.Module, judge: torch.nn.Module, *, n: int, seed: int, temperature: float = EVAL_TEMPERATURE) -> dict[str, Any]:
    x = model.sample(n, temperature=temperature, generator=make_generator(seed))
    probs, _ = judge.predict(x)
    return {**class_mix(probs, judge.class_names), "temperature": temperature}


def evaluate_flow(
    original: torch.nn.Module,
    edited: torch.nn.Module,
    target: Target,
    *,
    train: ImageData,
    test: ImageData,
    judge: torch.nn.Module | None,
    n: int = 10000,
    seed: int = 1234,
    temperature: float = EVAL_TEMPERATURE,
    k: float = 4.0,
    band: float = 0.15,
    mix: bool | None = None,
) -> dict[str, Any]:
    """Metrics of `edited` against `original`. Returns a JSON-ready dict; per-image BPD arrays (for
    histograms) are under `arrays`."""
    from genredact.methods._flow import forget_split

    out: dict[str, Any] = {"temperature": temperature}
    if not isinstance(target, DistributionTarget):
        split = forget_split(train, target)
        classes = split.classes
        if not classes and judge is not None:  # images from files that are not training images
            probs, _ = judge.predict(torch.as_tensor(split.forget).float().div(127.5).sub(1))
            classes = tuple(sorted(set(probs.argmax(1).tolist())))
        fm = flow_metrics(original, edited, train=train, test=test, forget_idx=split.forget_idx, forget=split.forget, classes=classes, judge=judge, k=k, band=band, seed=seed)
        out["arrays"] = {"before": fm["before"]["_bpd"], "after": fm["after"]["_bpd"]}
        out.update(strip_arrays(fm))
        out["n_forget"] = int(len(split.forget))
        out["classes"] = list(classes)
    want_mix = mix if mix is not None else (target.kind in ("classifier", "distribution"))
    if want_mix and judge is not None:
        out["mix_before"] = sample_class_mix(original, judge, n=n, seed=seed, temperature=temperature)
        out["mix_after"] = sample_class_mix(edited, judge, n=n, seed=seed, temperature=temperature)
        if isinstance(target, DistributionTarget):
            q = target.resolve(out["mix_before"]["shares"])  # open classes: their proportions under the judge before
            out["target_mix"] = q.tolist()
            out["max_mix_error_pp"] = float(100 * np.abs(np.asarray(out["mix_after"]["shares"]) - q).max())
            out["max_mix_error_pp_before"] = float(100 * np.abs(np.asarray(out["mix_before"]["shares"]) - q).max())
    return out
