"""`reject` baseline: rejection at sampling time. Changes no weight; every sample the target flags is
redrawn. A perfect redactor under its own filter, paid for at every sampling call (the overhead is
recorded as the acceptance rate and the sampling slow-down)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from genredact.errors import GenredactError
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.models.base import MODEL_CLASSES
from genredact.models.classifier import ClassifierModel
from genredact.targets import ClassifierTarget, Target, ValidityTarget
from genredact.targets.base import load_validity_function


@MODEL_CLASSES.register("RejectGanModel")
class RejectGanModel(GanModel):
    """A GAN whose `sample` redraws every output its filter rejects.

    The filter is a classifier with labels (saved with the model) or a validity function named as
    `package.module:function` (imported again when the model is loaded).
    """

    def __init__(self, base: GanModel, *, classifier: ClassifierModel | None = None, labels: tuple[int, ...] = (), threshold: float | None = None, validity_spec: str | None = None, max_rounds: int = 100) -> None:
        super().__init__(base.generator, base.discriminator, z_dim=base.z_dim, image_shape=base.image_shape, dataset=base.dataset, class_names=base.class_names)
        self.classifier = classifier
        self.labels = tuple(labels)
        self.threshold = threshold
        self.validity_spec = validity_spec
        self.max_rounds = max_rounds
        if classifier is not None:
            self._filter = ClassifierTarget(classifier=classifier, target_labels=self.labels, threshold=threshold).valid
        elif validity_spec:
            self._filter = ValidityTarget(fn=load_validity_function(validity_spec), spec=validity_spec).valid
        else:
            raise GenredactError("a rejection sampler needs a classifier with labels or a validity function")
        self.acceptance: float | None = None

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None, batch_size: int = 1000) -> torch.Tensor:
        kept, drawn, rounds = [], 0, 0
        while sum(k.shape[0] for k in kept) < n:
            rounds += 1
            if rounds > self.max_rounds:
                raise GenredactError(f"rejection sampling accepted too few samples ({sum(k.shape[0] for k in kept)} of {drawn}); the filter rejects nearly everything")
            x = super().sample(min(batch_size, max(n, 64)), generator=generator)
            drawn += x.shape[0]
            kept.append(x[self._filter(x)])
        self.acceptance = sum(k.shape[0] for k in kept) / drawn
        return torch.cat(kept)[:n]

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        cfg["filter"] = {
            "classifier": None if self.classifier is None else self.classifier.to_config(),
            "labels": list(self.labels),
            "threshold": self.threshold,
            "validity_spec": self.validity_spec,
        }
        return cfg

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "RejectGanModel":
        base = GanModel.from_config(cfg)
        f = cfg.get("filter") or {}
        clf = ClassifierModel.from_config(f["classifier"]) if f.get("classifier") else None
        return cls(base, classifier=clf, labels=tuple(f.get("labels", ())), threshold=f.get("threshold"), validity_spec=f.get("validity_spec"))


@METHODS.register("reject")
class RejectMethod(RedactionMethod):
    name = "reject"
    families = ("gan",)
    target_kinds = ("classifier", "validity")
    paper = "baseline: rejection sampling at inference (filter outputs; no weight changes)"
    summary = "filter at sampling time; changes no weight; costs extra draws at every sampling call"

    @dataclass(frozen=True)
    class Config:
        overhead_samples: int = 5000  # samples used to measure acceptance rate and slow-down

        def check(self) -> None:
            if self.overhead_samples < 1:
                raise GenredactError("overhead_samples must be positive")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        import copy

        base = copy.deepcopy(model).to(context.device)
        if isinstance(target, ClassifierTarget):
            edited = RejectGanModel(base, classifier=copy.deepcopy(target.classifier), labels=target.labels, threshold=target.threshold)
        elif isinstance(target, ValidityTarget) and ":" in target.spec:
            edited = RejectGanModel(base, validity_spec=target.spec)
        else:
            raise GenredactError("reject needs a classifier target or a validity function given as package.module:function")
        edited = edited.to(context.device).eval()
        t0 = time.perf_counter()
        base.sample(config.overhead_samples, generator=context.generator)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        edited.sample(config.overhead_samples, generator=context.generator)
        t_reject = time.perf_counter() - t0
        log = {"steps": 0, "wall_s": 0.0, "peak_mem_mb": 0.0, "history": [], "acceptance_rate": edited.acceptance, "sampling_overhead": t_reject / max(t_plain, 1e-9)}
        return MethodResult(edited, log)
