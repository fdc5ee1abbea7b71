"""Classifiers used as redaction targets and as evaluation judges."""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from genredact.engine.precision import full
from genredact.errors import CheckpointError
from genredact.models.base import MODEL_CLASSES, build_net, net_config


@MODEL_CLASSES.register("ClassifierModel")
class ClassifierModel(nn.Module):
    """An image classifier: `forward(x) -> logits`, `features(x) -> penultimate features`.

    Args:
        net: a module with `forward` (logits) and `features` (B, F).
        class_names: names of the outputs, in order.
        dataset: the data set it was trained on.
        role: "redaction" (for methods) or "judge" (for evaluation).
    """

    family: ClassVar[str] = "classifier"

    def __init__(self, net: nn.Module, *, class_names: list[str], dataset: str | None = None, role: str = "redaction") -> None:
        super().__init__()
        self.net = net
        self.class_names = list(class_names)
        self.dataset = dataset
        self.role = role

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
        """(probabilities (N, K), features (N, F)) in eval mode, batched."""
        was = self.training
        self.eval()
        try:
            probs, feats = [], []
            for i in range(0, x.shape[0], batch_size):
                xb = x[i : i + batch_size].to(self.device)
                f = self.net.features(xb)
                logits = self.net.head(f)
                probs.append(torch.softmax(logits.double(), 1).cpu())
                feats.append(f.double().cpu())
            return torch.cat(probs), torch.cat(feats)
        finally:
            self.train(was)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def to_config(self) -> dict[str, Any]:
        return {"net": net_config(self.net), "class_names": self.class_names, "dataset": self.dataset, "role": self.role}

    @classmethod
    def ensemble(cls, members: list["ClassifierModel"], *, role: str | None = None) -> "ClassifierModel":
        """One classifier whose members (of the same classes and feature width) vote by mean probability;
        each keeps a copy of its weights (an `ensemble` net, saved and loaded like any classifier)."""
        from genredact.models.nets import EnsembleNet

        net = EnsembleNet(members=[net_config(m.net) for m in members])
        for mine, m in zip(net.members, members):
            mine.load_state_dict(m.net.state_dict())
        first = members[0]
        return cls(net, class_names=list(first.class_names), dataset=first.dataset, role=role or first.role).eval()

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "ClassifierModel":
        try:
            return cls(build_net(cfg["net"]), class_names=cfg["class_names"], dataset=cfg.get("dataset"), role=cfg.get("role", "redaction"))
        except KeyError as exc:
            raise CheckpointError(f"classifier config lacks the field {exc}; the model folder is not a genredact classifier") from None


def target_probability(classifier: nn.Module, x: torch.Tensor, labels: tuple[int, ...] | list[int]) -> torch.Tensor:
    """The classifier's probability that each image shows one of `labels` (differentiable; at least
    float32, so that it stays finite under bf16 autocast)."""
    return torch.softmax(full(classifier(x)), 1)[:, list(labels)].sum(1)


def to_sphere(z: torch.Tensor, radius: float) -> torch.Tensor:
    """Each latent scaled onto the sphere of `radius` (where a Gaussian latent's mass lies)."""
    return z * radius / z.norm(dim=1, keepdim=True).clamp_min(1e-12)
