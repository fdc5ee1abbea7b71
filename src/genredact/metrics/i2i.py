"""Paired image-to-image metrics (Li et al., ICLR 2024, section 4.3 of the research notes), measured on
held-out forget and retain images separately, per mask:

- `fid`: Frechet distance between the judge features of the outputs and of the ground truth;
- `acc`: the judge's accuracy on the outputs (retain should stay high, forget fall to chance or below);
- `cos`: mean cosine similarity of judge embeddings, output vs its own ground truth (the paper's CLIP score);
- `psnr`: PSNR inside the hole, images scaled to [0, 1].

Under `accelerate launch` each process completes and judges its shard of the images; the per-image
results are gathered, so every process computes the figures of the whole set.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from genredact.data import ImageData, to_float
from genredact.engine import dist
from genredact.errors import GenredactError
from genredact.metrics.functional import fid

#: The masks every report carries: centre inpainting with half the image hidden (a 20x20 box on 28x28)
#: and outpainting of a 5-pixel border (on 28x28).
DEFAULT_MASKS: tuple[tuple[str, float], ...] = (("center", 0.71), ("outpaint", 0.18))


def mask_name(kind: str, size: float) -> str:
    return f"{kind}-{size:g}"


def psnr_in_hole(out: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) over the hole pixels, images in [-1, 1] mapped to [0, 1]. (B,)"""
    err = ((out - truth) / 2).pow(2) * mask
    mse = err.flatten(1).sum(1) / (mask.flatten(1).sum(1) * out.shape[1]).clamp_min(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.no_grad()
def paired_metrics(model: nn.Module, x: torch.Tensor, y: np.ndarray, judge: nn.Module, *, kind: str, size: float, truth_feats: torch.Tensor | None = None) -> dict[str, Any]:
    """Metrics of `model`'s outputs on images `x` (N, C, H, W) in [-1, 1] with labels `y`, for one mask."""
    if x.shape[0] < 2:
        raise GenredactError(f"paired metrics need at least 2 images, got {x.shape[0]}")
    n = x.shape[0]
    part = dist.shard(x)
    out = model.complete(part, kind=kind, size=size)
    _, m = model.mask(x[:1], kind=kind, size=size)
    probs, feats = judge.predict(out)
    psnr = psnr_in_hole(out, part, m.cpu().expand_as(out[:, :1]))
    probs, feats, psnr = (dist.gather(t, n) for t in (probs, feats, psnr))
    if truth_feats is None:
        truth_feats = judge_features(judge, x)
    cos = torch.nn.functional.cosine_similarity(feats, truth_feats, dim=1)
    return {
        "n": int(n),
        "fid": float(fid(truth_feats, feats)),
        "acc": float((probs.argmax(1).numpy() == np.asarray(y)).mean()),
        "cos": float(cos.mean()),
        "psnr": float(psnr.mean()),
    }


def judge_features(judge: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The judge's features of images `x`, each process judging its shard (gathered)."""
    return dist.gather(judge.predict(dist.shard(x))[1], x.shape[0])


@torch.no_grad()
def evaluate_i2i(
    model: nn.Module,
    test: ImageData,
    forget_labels: tuple[int, ...] | list[int],
    judge: nn.Module,
    *,
    masks: tuple[tuple[str, float], ...] = DEFAULT_MASKS,
    n: int | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """{mask name: {"forget": metrics, "retain": metrics}} on the held-out images `test`.

    `n` caps the images per split (the first n, so every model sees the same ones).
    """
    forget_labels = tuple(int(v) for v in forget_labels)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    splits = {"forget": test.only(forget_labels), "retain": test.without(forget_labels)}
    if len(splits["forget"]) < 2:
        raise GenredactError(f"the test set holds fewer than 2 images of the forget labels {list(forget_labels)}; pick labels the data set has")
    prepared = {}
    for split, data in splits.items():
        if len(data) < 2:
            continue
        x = to_float(data.x[:n] if n else data.x)
        y = data.y[:n] if n else data.y
        prepared[split] = (x, y, judge_features(judge, x))
    for kind, size in masks:
        out[mask_name(kind, size)] = {
            split: paired_metrics(model, x, y, judge, kind=kind, size=size, truth_feats=tf) for split, (x, y, tf) in prepared.items()
        }
    return out
