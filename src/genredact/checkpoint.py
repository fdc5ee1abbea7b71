"""Model folders: `config.json` + `model.safetensors` (+ `redaction.json`). Nothing is unpickled.

`save_pretrained` writes into a temporary sibling folder and renames it into place, so a model
folder is either complete or absent. `load_pretrained` rebuilds the class from `MODEL_CLASSES`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genredact.errors import CheckpointError

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
REDACTION_NAME = "redaction.json"


def _version() -> str:
    from genredact import __version__

    return __version__


def _plain_mode(folder: bool = False) -> int:
    """The permissions a plain open (or mkdir) would give under the process's umask, which Python can only
    read by setting it (so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def save_tensors(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    """safetensors' save_file, with the permissions a plain file gets (save_file leaves it owner-only)."""
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata=metadata)
    os.chmod(path, _plain_mode())


def staging_dir(parent: str | Path, name: str) -> Path:
    """A fresh hidden folder in `parent` where the output `name` is built before its rename, with the
    permissions a plain mkdir gives (mkdtemp makes it owner-only, so a finished model folder or run
    folder could not be read by anyone else on a shared machine)."""
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-"))
    os.chmod(tmp, _plain_mode(folder=True))
    return tmp


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to `path` through a temporary file and a rename (with a plain file's permissions)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _plain_mode())
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def state_dict_for_saving(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


def save_pretrained(model: nn.Module, path: str | Path, *, redaction: dict[str, Any] | None = None, extra_files: dict[str, str] | None = None) -> Path:
    """Save `model` (a GanModel, ClassifierModel, ...) as a model folder at `path` (must not exist)."""
    path = Path(path)
    if path.exists():
        raise CheckpointError(f"{path} already exists; choose a new folder or remove it first")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "_class_name": type(model).__name__,
        "_family": getattr(model, "family", ""),
        "_genredact_version": _version(),
        "_format": FORMAT_VERSION,
        **model.to_config(),
    }
    tmp = staging_dir(path.parent, path.name)
    try:
        save_tensors(state_dict_for_saving(model), tmp / WEIGHTS_NAME, metadata={"format": "pt"})
        write_json_atomic(tmp / CONFIG_NAME, config)
        if redaction is not None:
            write_json_atomic(tmp / REDACTION_NAME, redaction)
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"model folder {path} does not exist; give a zoo name (see `genredact list models`) or a folder made by genredact")
    if not path.is_dir():
        raise CheckpointError(f"{path} is a file, not a model folder; a model is a folder holding {CONFIG_NAME} and {WEIGHTS_NAME}; convert a .pt or .safetensors file with `genredact import FILE --family gan --arch dcgan --out FOLDER`")
    cfg_path = path / CONFIG_NAME
    if not cfg_path.is_file():
        raise CheckpointError(f"{path} holds no {CONFIG_NAME}, so it is not a genredact model folder")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({exc}); restore the folder from its source") from None
    if not isinstance(cfg, dict) or "_class_name" not in cfg:
        raise CheckpointError(f"{cfg_path} has no '_class_name', so it was not written by genredact")
    return cfg


def load_pretrained(path: str | Path, *, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its folder. Raises CheckpointError with one clear sentence when it cannot."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from genredact.models import MODEL_CLASSES

    path = Path(path)
    cfg = read_config(path)
    cls = MODEL_CLASSES.get(cfg["_class_name"])
    model = cls.from_config(cfg)
    weights = path / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{path} holds no {WEIGHTS_NAME}; the model folder is incomplete")
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{weights} is corrupt or not a safetensors file ({str(exc).splitlines()[0]}); restore it from its source") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:5])}")
        if wrong:
            parts.append(f"wrong shape {', '.join(wrong[:5])}")
        raise CheckpointError(f"{weights} does not match the architecture in {CONFIG_NAME} ({'; '.join(parts)})")
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{weights} holds NaN or infinite values in {k}; the checkpoint is broken")
    model.load_state_dict(state)
    model.eval()
    return model.to(map_location)


def folder_sha256(path: str | Path) -> str:
    """sha256 over a model folder's config and weights (the parent hash recorded in redaction.json)."""
    path = Path(path)
    h = hashlib.sha256()
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        with open(path / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
