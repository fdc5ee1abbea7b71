"""The attack protocol: an attack tries to bring the redacted content back out of one model and reports
how well it did. `genredact.audit` runs it, with the same budget and seed, on the redacted model and on
reference models (the pre-trained parent, and `retrain` when given) so every figure has a yardstick."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from genredact.data import ImageData
from genredact.errors import GenredactError
from genredact.methods.base import build_config
from genredact.registry import Registry

ATTACKS: Registry[type["Attack"]] = Registry("attack")


@dataclass
class AttackContext:
    """What an attack may use.

    Attributes:
        labels: the redacted classes, in the judge's label space.
        judge: the independent evaluation judge (a ClassifierModel).
        heldout: held-out real images of the data set (the test split), labelled.
        seed: every attack draws its randomness from `seed`, so the models it compares face the same draws.
        device: where to run.
        progress: show progress bars.
        guide: the classifier an optimising attack steers by (the attacker's own tool; default: the judge).
            Success is always decided by the judge, so with a guide other than the judge a find must be
            the class for two independently trained networks, not an adversarial pattern of one.
        train: the model's training data (membership attacks take the target's training images from it).
        forget: the images a target named explicitly (uint8 array), when it was not a whole class.
    """

    labels: tuple[int, ...]
    judge: nn.Module
    heldout: ImageData | None = None
    seed: int = 0
    device: str | torch.device = "cpu"
    progress: bool = True
    guide: nn.Module | None = None
    train: ImageData | None = None
    forget: Any = None


class Attack(ABC):
    """Subclasses set `name`, `families`, `summary`, a `Config` dataclass, and implement `run`."""

    name: ClassVar[str] = ""
    families: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""
    Config: ClassVar[type] = object

    @abstractmethod
    def run(self, model: nn.Module, config: Any, context: AttackContext) -> dict[str, Any]:
        """Attack `model` (never modified) and return its figures; images to show go under key 'grid'."""

    @classmethod
    def make_config(cls, overrides: dict[str, Any] | None = None) -> Any:
        return build_config(f"attack {cls.name}", cls.Config, overrides)

    @classmethod
    def check_family(cls, model: nn.Module) -> None:
        family = getattr(model, "family", "")
        if family not in cls.families:
            raise GenredactError(f"attack {cls.name} works on {', '.join(cls.families)} models, not on a {family or type(model).__name__}")


def positive_int(name: str, value: int) -> None:
    if value < 1:
        raise GenredactError(f"{name} must be at least 1, got {value}")
