"""What the flow methods share (taming, likelihood-ascent, retrain on flows): which training images
are the forget set, and the remember set that never contains one of them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from genredact.data import ImageData, to_float
from genredact.engine.optim import adam
from genredact.errors import GenredactError
from genredact.models.flow import finite_images
from genredact.targets import ClassifierTarget, IndicesTarget, SamplesTarget, Target


@dataclass
class ForgetSplit:
    """The forget images (uint8 (F, C, H, W)), their train indices when they are training images, the
    remember set (training data minus every forget image) and the classes the forget images belong to."""

    forget: np.ndarray
    forget_idx: np.ndarray
    remember: ImageData
    classes: tuple[int, ...]


def _hashes(x: np.ndarray) -> np.ndarray:
    return np.array([hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest() for a in x])


def matching_rows(data: ImageData, images: np.ndarray) -> np.ndarray:
    """Indices of every training image that is pixel-identical to one of `images`."""
    if images.shape[1:] != data.x.shape[1:]:
        raise GenredactError(f"the forget images are {tuple(images.shape[1:])} but the model's data are {tuple(data.x.shape[1:])}; resize them first")
    wanted = set(_hashes(images))
    return np.flatnonzero(np.isin(_hashes(data.x), list(wanted)))


@torch.no_grad()
def classifier_flags(target: ClassifierTarget, data: ImageData, batch_size: int = 2000) -> np.ndarray:
    device = next(target.classifier.parameters()).device
    out = []
    for i in range(0, len(data), batch_size):
        probs = torch.softmax(target.classifier(to_float(data.x[i : i + batch_size]).to(device)), 1)
        out.append(target.flags(probs).cpu().numpy())
    return np.concatenate(out)


def forget_split(data: ImageData | None, target: Target, *, by: str = "labels") -> ForgetSplit:
    """Resolve the forget set of `target` on the training `data` and the remember set without it.

    - samples (files): the given images; any training image identical to one of them leaves the
      remember set (the reference code kept them there, a bug the paper's original code did not have).
    - indices: those training images.
    - classifier (a class): all training images with one of the labels (`by="labels"`, when the data's
      classes are the classifier's) or that the classifier flags (`by="classifier"`).
    """
    if data is None or len(data) == 0:
        raise GenredactError("this flow method needs the model's training data (the remember set); pass data=... or --data")
    if isinstance(target, IndicesTarget):
        idx = np.asarray(target.indices, dtype=np.int64)
        forget = data.x[idx]
        idx = np.union1d(idx, matching_rows(data, forget))
    elif isinstance(target, SamplesTarget):
        forget = target.images
        idx = matching_rows(data, forget)
    elif isinstance(target, ClassifierTarget):
        if by == "labels" and tuple(target.classifier.class_names) == tuple(data.class_names):
            keep = np.isin(data.y, list(target.labels))
        else:
            keep = classifier_flags(target, data)
        idx = np.flatnonzero(keep)
        forget = data.x[idx]
    else:
        raise GenredactError(f"a {target.kind} target names no forget images; give samples=DIR, indices=... or label=...")
    if len(forget) == 0:
        raise GenredactError("the forget set is empty: no training image matches the target; check the label or the images")
    mask = np.ones(len(data), bool)
    mask[idx] = False
    if not mask.any():
        raise GenredactError("the forget set covers the whole training set, so nothing is left to remember; forget fewer images")
    classes = tuple(sorted(set(int(c) for c in data.y[idx]))) if len(idx) else ()
    return ForgetSplit(forget=np.ascontiguousarray(forget), forget_idx=idx, remember=data.where(mask), classes=classes)


def gaussian_kl(mu_p: torch.Tensor, sd_p: torch.Tensor, mu_q: torch.Tensor, sd_q: torch.Tensor) -> torch.Tensor:
    """KL(N(mu_p, sd_p^2) || N(mu_q, sd_q^2)) with torch.log, so the log-sigma term keeps its gradient
    (the reference code's math.log dropped it)."""
    return torch.log(sd_q / sd_p) + (sd_p.pow(2) + (mu_p - mu_q).pow(2)) / (2 * sd_q.pow(2)) - 0.5


def warmup_adam(model: torch.nn.Module, lr: float, warmup: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """Adam with a linear warm-up over `warmup` steps: Adam's first steps move every parameter by about
    the learning rate at once, which a trained flow does not survive above ~1e-4 without it."""
    opt = adam(model.parameters(), lr)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / max(1, warmup)))


@torch.no_grad()
def sample_mix(model: torch.nn.Module, classifier: torch.nn.Module, z: torch.Tensor, batch_size: int = 500, *, overflow: bool = False) -> np.ndarray:
    """Class shares (K,) of the samples a flow generates from latents z, by the classifier's argmax.
    Non-finite pixels (an overflowed inverse) count as background, as in `FlowModel.sample`; with
    `overflow`, (K + 1,) shares whose last is that of the overflowed samples, which are then not classified."""
    k = len(classifier.class_names)
    counts = np.zeros(k + 1)
    for i in range(0, len(z), batch_size):
        x = model.generate(z[i : i + batch_size])
        pred = classifier(finite_images(x)[0]).argmax(1).cpu().numpy()
        if overflow:
            pred[(~torch.isfinite(x)).flatten(1).any(1).cpu().numpy()] = k
        counts += np.bincount(pred, minlength=k + 1)
    shares = counts / counts.sum()
    return shares if overflow else shares[:k]


def class_share(model: torch.nn.Module, target: ClassifierTarget, z: torch.Tensor) -> float:
    """Share of the samples from latents z that the target's classifier puts in the target's labels
    (the class-mode stopping rule of taming and finetune-valid on flows)."""
    return float(sample_mix(model, target.classifier.to(z.device), z)[list(target.labels)].sum())
