"""Base protocol for the model families and the registries that rebuild them from config."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

import torch
from torch import nn

from genredact.errors import CheckpointError
from genredact.registry import Registry

#: Model adapters (GanModel, ClassifierModel, ...) by class name, for load_pretrained.
MODEL_CLASSES: Registry[type] = Registry("model class")
#: Built-in networks by name; a network class takes keyword arguments only and keeps them in `.config`.
NETS: Registry[type] = Registry("network")


def net_config(net: nn.Module) -> dict[str, Any]:
    """The JSON config that rebuilds `net` through NETS, or a clear error for unregistered nets."""
    name = getattr(net, "net_name", None)
    cfg = getattr(net, "config", None)
    if name is None or name not in NETS or not isinstance(cfg, dict):
        raise CheckpointError(
            f"network {type(net).__name__} cannot be saved as a genredact model folder because it is "
            "not registered; decorate its class with @genredact.models.NETS.register('name') and keep "
            "its constructor keyword arguments in self.config"
        )
    return {"name": name, **cfg}


def build_net(cfg: dict[str, Any]) -> nn.Module:
    cfg = dict(cfg)
    name = cfg.pop("name", None)
    if not isinstance(name, str):
        raise CheckpointError("network config has no 'name'; the model folder is not a genredact checkpoint")
    cls = NETS.get(name)
    try:
        return cls(**cfg)
    except TypeError as exc:
        raise CheckpointError(f"network {name!r} cannot be built from its config ({exc})") from None


class GenerativeModel(nn.Module, metaclass=ABCMeta):
    """A model of one family. Subclasses set `family` and implement `sample` and the config pair."""

    family: ClassVar[str] = ""

    @abstractmethod
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """`n` images (n, C, H, W) in [-1, 1]."""

    @abstractmethod
    def to_config(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments (networks as NETS configs)."""

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: dict[str, Any]) -> "GenerativeModel":
        """Rebuild an (untrained) model from `to_config()`'s output."""

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
