"""The method protocol: `apply(model, target, config, context) -> MethodResult`. Methods never write
files and never touch global random state; randomness comes from `context.generator`."""
from __future__ import annotations

import dataclasses
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from genredact.data import ImageData
from genredact.errors import GenredactError
from genredact.registry import Registry
from genredact.targets import Target

METHODS: Registry[type["RedactionMethod"]] = Registry("method")


@dataclass
class Context:
    """What a method may use besides the model and target.

    Attributes:
        generator: the run's random stream (CPU torch.Generator).
        data: the model's training data, when at hand (the "real data" variant); None for data-free.
        device: where to train.
        progress: show progress bars.
    """

    generator: torch.Generator
    data: ImageData | None = None
    device: str | torch.device = "cpu"
    progress: bool = True


@dataclass
class MethodResult:
    """The edited model and the log of the edit (steps, wall_s, peak_mem_mb, history, extras)."""

    model: nn.Module
    log: dict[str, Any] = field(default_factory=dict)


class RedactionMethod(ABC):
    """Base class. Subclasses set `name`, `families`, `target_kinds`, `paper`, a frozen `Config`."""

    name: ClassVar[str] = ""
    families: ClassVar[tuple[str, ...]] = ()
    target_kinds: ClassVar[tuple[str, ...]] = ()
    paper: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    Config: ClassVar[type] = object

    @abstractmethod
    def apply(self, model: nn.Module, target: Target, config: Any, context: Context) -> MethodResult:
        """Return an edited copy of `model`; `model` itself is left untouched."""

    @classmethod
    def make_config(cls, overrides: dict[str, Any] | None = None) -> Any:
        """Build `Config` from keyword overrides, refusing unknown keys and values of the wrong type."""
        return build_config(f"method {cls.name}", cls.Config, overrides)

    @classmethod
    def check_pair(cls, model: nn.Module, target: Target) -> None:
        family = getattr(model, "family", "")
        if family not in cls.families:
            raise GenredactError(f"method {cls.name} works on {', '.join(cls.families)} models, not {family or type(model).__name__}; see `genredact list methods`")
        if target.kind not in cls.target_kinds:
            raise GenredactError(f"method {cls.name} takes a target given as {' or '.join(cls.target_kinds)}, not {target.kind}; see `genredact list methods`")


def build_config(owner: str, config_cls: type, overrides: dict[str, Any] | None = None) -> Any:
    """A frozen config dataclass from keyword overrides (CLI strings are parsed to the field types),
    refusing unknown keys and values of the wrong type, then running the config's own `check()`."""
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise GenredactError(f"{owner} has no option {unknown[0]!r}; its options are: {', '.join(fields)}")
    config = config_cls(**{k: _coerce(owner.split()[-1], k, v, hints[k]) for k, v in overrides.items()})
    check = getattr(config, "check", None)
    if check is not None:
        check()
    return config


def _coerce(method: str, key: str, value: Any, hint: Any) -> Any:
    """Parse CLI strings into the field's type; reject wrong types with one sentence."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise GenredactError(f"option {key} of {method} must be one of {', '.join(map(str, args))}, not {value!r}")
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and type(None) in args:
        if value in (None, "none", "None", "null"):
            return None
        hint = next(a for a in args if a is not type(None))
    try:
        if hint is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if not isinstance(value, bool):
                raise ValueError
            return value
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
            if out != out:
                raise ValueError
            return out
        if hint is str:
            return str(value)
    except (TypeError, ValueError):
        raise GenredactError(f"option {key} of {method} must be {hint.__name__}, not {value!r}") from None
    return value
