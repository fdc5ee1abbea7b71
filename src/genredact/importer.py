"""`genredact import`: turn a foreign checkpoint (a PyTorch state dict `.pt`/`.pth`/`.bin`, or a
safetensors file) into a genredact model folder, checking every tensor against the architecture.

PyTorch files are read with `torch.load(..., weights_only=True)`, which only rebuilds tensors and plain
containers: a pickle that needs code to load is refused with an explanation. This is the only place in
genredact that reads a pickle-based file (the MNIST data pickle goes through a numpy-only unpickler).

Architectures are registered per family in `ARCHS`: `ARCHS[(family, arch)](**options)` returns an
untrained model of that family, e.g. ("gan", "dcgan") with options z_dim, width, channels.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from genredact.errors import CheckpointError, GenredactError

#: (family, arch) -> builder(**options) -> an untrained model of that family.
ARCHS: dict[tuple[str, str], Callable[..., nn.Module]] = {}


def register_arch(family: str, arch: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        ARCHS[(family, arch)] = fn
        return fn

    return deco


@register_arch("gan", "dcgan")
def _dcgan(*, z_dim: int = 64, width: int = 32, channels: int = 1, discriminator: bool = True, dataset: str | None = None, class_names: str | None = None) -> nn.Module:
    """The built-in 28x28 DCGAN (generator keys `generator.*`, discriminator keys `discriminator.*`;
    with discriminator=false the file may hold the generator alone, with or without the prefix)."""
    from genredact.models import GanModel
    from genredact.models.nets import DCGANDiscriminator, DCGANGenerator

    names = _names(class_names)
    disc = DCGANDiscriminator(width=width, channels=channels) if discriminator else None
    return GanModel(DCGANGenerator(z_dim=z_dim, width=width, channels=channels), disc, z_dim=z_dim, image_shape=(channels, 28, 28), dataset=dataset, class_names=names)


def _names(class_names: str | list[str] | None) -> list[str] | None:
    return class_names.split(",") if isinstance(class_names, str) else class_names


@register_arch("flow", "glow")
def _glow(*, channels: int = 1, height: int = 28, width: int = 28, levels: int = 2, steps: int = 8, hidden: int = 64, dataset: str | None = None,
          class_names: str | None = None) -> nn.Module:
    """The built-in Glow-style multi-scale flow (keys `net.*`), as the zoo's flows are built."""
    from genredact.models.flow import FlowModel
    from genredact.models.flow_nets import GlowNet

    net = GlowNet(channels=channels, height=height, width=width, levels=levels, steps=steps, hidden=hidden)
    return FlowModel(net, image_shape=(channels, height, width), dataset=dataset, class_names=_names(class_names))


def _inpainter(arch: str, channels: int, size: int, dataset: str | None, class_names: str | None) -> nn.Module:
    from genredact.models.inpainter import build_inpainter

    return build_inpainter(arch, image_shape=(channels, size, size), dataset=dataset, class_names=_names(class_names))


@register_arch("inpainter", "conv")
def _inpainter_conv(*, channels: int = 1, size: int = 28, dataset: str | None = None, class_names: str | None = None) -> nn.Module:
    """The built-in convolutional encoder-decoder inpainter (keys `encoder.*`, `decoder.*`)."""
    return _inpainter("conv", channels, size, dataset, class_names)


@register_arch("inpainter", "mae")
def _inpainter_mae(*, channels: int = 1, size: int = 28, dataset: str | None = None, class_names: str | None = None) -> nn.Module:
    """The built-in MAE-style transformer inpainter (keys `encoder.*`, `decoder.*`)."""
    return _inpainter("mae", channels, size, dataset, class_names)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors or PyTorch file, without running any code from it."""
    path = Path(path)
    if not path.is_file():
        raise GenredactError(f"{path} does not exist or is not a file; give a .pt, .pth, .bin or .safetensors checkpoint")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} is corrupt or not a safetensors file ({str(exc).splitlines()[0]})") from None
    if path.suffix not in (".pt", ".pth", ".bin", ".ckpt"):
        raise GenredactError(f"{path} has an unknown extension; genredact imports .pt, .pth, .bin, .ckpt (PyTorch state dicts) and .safetensors files")
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "it needs code to load"
        raise CheckpointError(
            f"{path} is a pickle that needs code to load ({first[:160]}); genredact loads only plain tensors: "
            "re-save it as torch.save(model.state_dict(), FILE) or as safetensors"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt or not a PyTorch checkpoint ({str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__})") from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]  # Lightning-style wrapper
    if not isinstance(obj, dict) or not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise CheckpointError(f"{path} does not hold a state dict (a mapping of names to tensors); save model.state_dict(), not the model")
    return dict(obj)


def _match(model: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`state` renamed to the model's keys where only a known prefix differs, checked name by name and shape by shape."""
    expected = model.state_dict()
    if not set(state) & set(expected) and hasattr(model, "generator") and getattr(model, "discriminator", None) is None:
        state = {f"generator.{k}": v for k, v in state.items()}  # a bare generator state dict
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in set(expected) & set(state) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        parts = []
        for what, names in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if names:
                parts.append(f"{what}: {', '.join(names[:8])}" + (f" and {len(names) - 8} more" if len(names) > 8 else ""))
        raise CheckpointError(f"the checkpoint does not match the architecture ({'; '.join(parts)}); check --arch and its --set options")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"the checkpoint holds NaN or infinite values in {', '.join(bad[:5])}; it cannot be imported")
    return {k: v.to(expected[k].dtype) for k, v in state.items()}


def import_checkpoint(path: str | Path, *, family: str, arch: str, out: str | Path, options: dict[str, Any] | None = None) -> Path:
    """Build `arch` of `family` with `options`, load the checkpoint's tensors into it and save a model folder at `out`."""
    from genredact.checkpoint import save_pretrained

    out = Path(out)
    if out.exists():
        raise GenredactError(f"{out} already exists; choose another --out or remove it")
    builder = ARCHS.get((family, arch))
    if builder is None:
        choices = ", ".join(f"--family {f} --arch {a}" for f, a in sorted(ARCHS))
        raise GenredactError(f"no architecture {arch!r} for family {family!r}; choose one of: {choices}")
    state = read_state_dict(path)
    try:
        model = builder(**(options or {}))
    except TypeError as exc:
        raise GenredactError(f"architecture {arch!r} does not take these options ({exc}); see `genredact import --help`") from None
    model.load_state_dict(_match(model, state))
    return save_pretrained(model.eval(), out)
