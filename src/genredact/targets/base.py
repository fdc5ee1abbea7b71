"""Targets describe what a redacted model must stop producing.

- `SamplesTarget`: a set of images (uint8 (N, C, H, W)), e.g. a folder the user never wants to see again.
- `ValidityTarget`: a black-box function `valid(x) -> bool (B,)` on images in [-1, 1]; not differentiable.
- `IndicesTarget`: a `samples` target given as train-split indices of a built-in data set.
- `DistributionTarget`: a wanted class mix of the samples (debiasing), measured by a classifier.
- `ClassifierTarget`: a differentiable classifier plus the labels to redact (and an optional threshold on
  their summed probability; without one, a sample is target content when its argmax is a redacted label).

Every target can be written as JSON (`to_json`) so a run folder and the CLI can name it. The compact
CLI form is parsed by `parse_target`: `label=5`, `label=Sandal`, `label=5,7`, `samples=DIR`,
`validity=package.module:function`, `indices=3,17,42`, `mix=Sandal:0.3,Bag:0.05` (or a JSON object).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from genredact.errors import GenredactError


@dataclass(frozen=True)
class Target:
    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind}

    @property
    def labels(self) -> tuple[int, ...] | None:
        """Class labels of the target content, when it is described by classes."""
        return None


@dataclass(frozen=True)
class SamplesTarget(Target):
    """Images never to be produced again: uint8 (N, C, H, W), or floats in [-1, 1] (converted; NaN refused)."""

    images: np.ndarray = field(repr=False)
    source: str = "<array>"
    kind: ClassVar[str] = "samples"

    def __post_init__(self) -> None:
        images = self.images
        if isinstance(images, torch.Tensor) or (isinstance(images, np.ndarray) and images.dtype != np.uint8):
            t = torch.as_tensor(images)
            if t.is_floating_point():
                if not torch.isfinite(t).all():
                    raise GenredactError(f"the sample target {self.source} holds NaN or infinite pixel values; give real images")
                images = ((t.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()  # floats are read as [-1, 1] images
            else:
                images = t.numpy().astype(np.uint8)
            object.__setattr__(self, "images", images)
        if images.ndim != 4 or len(images) == 0:
            raise GenredactError(f"the sample target {self.source} is empty; give at least one image to redact")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "n": int(len(self.images))}


@dataclass(frozen=True)
class ValidityTarget(Target):
    """`fn(x)` returns True for valid (kept) images; False marks target content."""

    fn: Callable[[torch.Tensor], Any] = field(repr=False)
    spec: str = "<function>"
    kind: ClassVar[str] = "validity"

    @torch.no_grad()
    def valid(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.as_tensor(np.asarray(_to_numpy(self.fn(x)))).to(torch.bool).reshape(-1)
        if out.shape[0] != x.shape[0]:
            raise GenredactError(f"validity function {self.spec} returned {out.shape[0]} values for {x.shape[0]} images; it must return one bool per image")
        return out.to(x.device)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec}


def _to_numpy(v: Any) -> Any:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v


@dataclass(frozen=True)
class ClassifierTarget(Target):
    classifier: torch.nn.Module = field(repr=False)
    target_labels: tuple[int, ...] = ()
    threshold: float | None = None
    source: str = "<classifier>"
    kind: ClassVar[str] = "classifier"

    def __post_init__(self) -> None:
        k = len(self.classifier.class_names)
        if not self.target_labels:
            raise GenredactError("a classifier target needs at least one label to redact")
        bad = [lab for lab in self.target_labels if not 0 <= lab < k]
        if bad:
            raise GenredactError(f"label {bad[0]} does not exist; the classifier has labels 0..{k - 1}: {', '.join(self.classifier.class_names)}")

    @property
    def labels(self) -> tuple[int, ...]:
        return self.target_labels

    def flags(self, probs: torch.Tensor, threshold: float | None = None) -> torch.Tensor:
        """Which rows of class probabilities (B, K) are target content: summed probability of the redacted
        labels >= threshold (default: the target's own), or, with no threshold, argmax in the labels."""
        threshold = self.threshold if threshold is None else threshold
        if threshold is not None:
            return probs[:, list(self.target_labels)].sum(1) >= threshold
        return torch.isin(probs.argmax(1), torch.tensor(self.target_labels, device=probs.device))

    @torch.no_grad()
    def valid(self, x: torch.Tensor) -> torch.Tensor:
        return ~self.flags(torch.softmax(self.classifier(x), 1))

    def as_validity(self) -> ValidityTarget:
        return ValidityTarget(fn=self.valid, spec=f"{self.source} labels={list(self.target_labels)}")

    def to_json(self) -> dict[str, Any]:
        names = self.classifier.class_names
        return {"kind": self.kind, "classifier": self.source, "labels": list(self.target_labels), "label_names": [names[i] for i in self.target_labels], "threshold": self.threshold}


@dataclass(frozen=True)
class IndicesTarget(SamplesTarget):
    """Specific training images named by their indices in a data set's train split (a `samples` target)."""

    indices: tuple[int, ...] = ()
    dataset: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "dataset": self.dataset, "indices": list(self.indices)}


@dataclass(frozen=True)
class DistributionTarget(Target):
    """A wanted class mix of the samples (debiasing), measured by `classifier`. `shares[c]` is the wanted
    share of class c, or None: the classes left open keep their relative proportions in the model's
    current mix and share what the named classes leave (e.g. only 'Sandal: 0.3' raises sandals to 30%
    and scales every other class by the same factor)."""

    classifier: torch.nn.Module = field(repr=False)
    shares: tuple[float | None, ...] = ()
    source: str = "<classifier>"
    kind: ClassVar[str] = "distribution"

    def __post_init__(self) -> None:
        k = len(self.classifier.class_names)
        named = [s for s in self.shares if s is not None]
        if len(self.shares) != k or not named or any(s < 0 for s in named) or sum(named) > 1 + 1e-6 or (len(named) == k and abs(sum(named) - 1) > 1e-6):
            raise GenredactError(f"a class mix needs one share per class ({k}; None for 'keep proportion') with the named shares non-negative and summing to 1 at most (exactly 1 when every class is named), got {list(self.shares)}")

    def resolve(self, current: np.ndarray | list[float]) -> np.ndarray:
        """The wanted mix (K,) given the current mix: open classes keep their relative proportions."""
        cur = np.asarray(current, dtype=np.float64)
        named = np.array([s is not None for s in self.shares])
        q = np.array([s if s is not None else 0.0 for s in self.shares], dtype=np.float64)
        rest = 1.0 - q[named].sum()
        if (~named).any():
            open_mass = cur[~named].sum()
            q[~named] = rest * (cur[~named] / open_mass if open_mass > 0 else np.full((~named).sum(), 1.0 / (~named).sum()))
        return q

    def to_json(self) -> dict[str, Any]:
        names = self.classifier.class_names
        return {"kind": self.kind, "classifier": self.source, "mix": {names[i]: round(s, 6) for i, s in enumerate(self.shares) if s is not None}, "others": "keep their relative proportions"}


def parse_mix(text: str, class_names: list[str] | tuple[str, ...]) -> tuple[float | None, ...]:
    """'Sandal:0.3,Bag:0.05' or a JSON object -> one share per class, None for the classes left out
    (they keep their relative proportions). A wrong class name or a total above 1 is refused."""
    import json

    text = text.strip()
    if text.startswith("{"):
        try:
            pairs = [(str(k), v) for k, v in json.loads(text).items()]
        except (json.JSONDecodeError, AttributeError) as exc:
            raise GenredactError(f"mix {text!r} is not a JSON object of class: share ({exc})") from None
    else:
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, val = part.rpartition(":")
            if not sep:
                raise GenredactError(f"mix entry {part!r} must look like CLASS:SHARE, e.g. Sandal:0.3")
            pairs.append((name, val))
    if not pairs:
        raise GenredactError("the mix is empty; give e.g. mix=Sandal:0.3")
    shares: dict[int, float] = {}
    for name, val in pairs:
        try:
            share = float(val)
        except (TypeError, ValueError):
            raise GenredactError(f"share {val!r} of class {name!r} is not a number") from None
        if not 0 <= share <= 1:
            raise GenredactError(f"share {share} of class {name!r} must lie in [0, 1]")
        shares[resolve_labels(name, class_names)[0]] = share
    total = sum(shares.values())
    if total > 1 + 1e-6 or (len(shares) == len(class_names) and abs(total - 1) > 1e-6):
        raise GenredactError(f"the shares sum to {total:.3f}; they must sum to 1 (or below 1 when some classes are left out)")
    return tuple(shares.get(i) for i in range(len(class_names)))


LabelTarget = ClassifierTarget  # the `label=` form resolves to the zoo classifier of the model's data set


def resolve_labels(text: str, class_names: list[str] | tuple[str, ...]) -> tuple[int, ...]:
    """'5', 'Sandal', '5,7' or 'Sandal,Bag' -> label indices; a wrong one lists the valid labels."""
    out = []
    lowered = [c.lower() for c in class_names]
    for part in (p.strip() for p in text.split(",")):
        if part.lower() in lowered:
            out.append(lowered.index(part.lower()))
        elif part.lstrip("-").isdigit() and 0 <= int(part) < len(class_names):
            out.append(int(part))
        else:
            valid = ", ".join(f"{i}={c}" for i, c in enumerate(class_names))
            raise GenredactError(f"label {part!r} does not exist; valid labels: {valid}")
    if not out:
        raise GenredactError("the label list is empty; give e.g. label=5 or label=Sandal")
    return tuple(dict.fromkeys(out))


def load_validity_function(spec: str) -> Callable[[torch.Tensor], Any]:
    mod_name, sep, fn_name = spec.partition(":")
    if not sep or not mod_name or not fn_name:
        raise GenredactError(f"validity target {spec!r} must look like package.module:function")
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise GenredactError(f"cannot import module {mod_name!r} for the validity function ({exc}); check PYTHONPATH") from None
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise GenredactError(f"{mod_name} has no function {fn_name!r}")
    return fn


def _default_classifier(model: Any, classifier: torch.nn.Module | None, source: str | None, kind: str) -> tuple[torch.nn.Module, str | None]:
    """The given classifier, or the zoo's for the model's data set: the redaction classifier for label=, the
    mix ensemble for mix=."""
    if classifier is not None:
        return classifier, source
    from genredact.zoo import classifier_name, load_classifier

    dataset = getattr(model, "dataset", None)
    if not dataset:
        raise GenredactError(f"the model does not name its data set, so {kind}= needs --classifier FOLDER")
    role = "mix" if kind == "mix" else "redaction"
    return load_classifier(dataset, role=role), classifier_name(dataset, role)


def parse_target(spec: str, model: Any, *, classifier: torch.nn.Module | None = None, classifier_source: str | None = None, threshold: float | None = None) -> Target:
    """Parse the compact CLI form of a target for `model` (whose dataset picks the zoo classifier)."""
    key, sep, value = spec.partition("=")
    if not sep or not value:
        raise GenredactError(f"target {spec!r} must look like label=NAME, samples=DIR, indices=I,J,..., mix=CLASS:SHARE,... or validity=module:function")
    key = key.strip().lower()
    if key == "label":
        classifier, classifier_source = _default_classifier(model, classifier, classifier_source, "label")
        labels = resolve_labels(value, classifier.class_names)
        return ClassifierTarget(classifier=classifier.eval().requires_grad_(False), target_labels=labels, threshold=threshold, source=classifier_source or "<classifier>")
    if key == "samples":
        from genredact.data import load_image_folder

        path = Path(value)
        images = load_image_folder(path, shape=tuple(getattr(model, "image_shape", ())) or None)
        return SamplesTarget(images=images, source=str(path))
    if key == "validity":
        return ValidityTarget(fn=load_validity_function(value), spec=value)
    if key == "indices":
        return _indices_target(value, model)
    if key == "mix":
        classifier, classifier_source = _default_classifier(model, classifier, classifier_source, "mix")
        shares = parse_mix(value, classifier.class_names)
        return DistributionTarget(classifier=classifier.eval().requires_grad_(False), shares=shares, source=classifier_source or "<classifier>")
    raise GenredactError(f"unknown target kind {key!r}; use label=..., samples=DIR, indices=I,J,..., mix=CLASS:SHARE,... or validity=module:function")


def _indices_target(value: str, model: Any) -> IndicesTarget:
    from genredact.data import DATASETS, load_dataset

    dataset = getattr(model, "dataset", None)
    if dataset not in DATASETS:
        raise GenredactError(f"indices= names images of a built-in data set ({', '.join(DATASETS)}), but the model's is {dataset!r}; use samples=DIR")
    try:
        idx = tuple(dict.fromkeys(int(p) for p in value.split(",") if p.strip()))
    except ValueError:
        raise GenredactError(f"indices {value!r} must be comma-separated integers, e.g. indices=3,17,42") from None
    train = load_dataset(dataset, "train")
    bad = [i for i in idx if not 0 <= i < len(train)]
    if not idx or bad:
        raise GenredactError(f"indices must be train-split positions 0..{len(train) - 1} of {dataset}; got {bad[0] if bad else 'none'}")
    return IndicesTarget(images=train.x[list(idx)], source=f"{dataset}:train[{value}]", indices=idx, dataset=dataset)
