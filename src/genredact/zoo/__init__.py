"""The model zoo: named recipes for base GANs, redaction classifiers and evaluation judges, and
their shipped weights (`zoo/weights/<name>/`, each with a MODEL_CARD.md).

    load_model("fashion-dcgan")            # a GanModel
    load_classifier("fashion-mnist", role="judge")
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from torch import nn

from genredact.checkpoint import load_pretrained, save_pretrained, staging_dir
from genredact.errors import CheckpointError, GenredactError

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    kind: str  # a key of TRAINERS: "gan" | "classifier" | "flow" | "inpainter"
    dataset: str
    role: str  # "model" | "redaction" | "judge"
    description: str
    recipe: dict[str, Any]


ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in [
        ZooEntry("fashion-dcgan", "gan", "fashion-mnist", "model", "DCGAN trained on all 10 Fashion-MNIST classes", {"steps": 8000, "seed": 0}),
        ZooEntry("mnist-dcgan", "gan", "mnist", "model", "DCGAN trained on all 10 MNIST digits", {"steps": 8000, "seed": 0}),
        ZooEntry("fashion-classifier", "classifier", "fashion-mnist", "redaction", "LeNet redaction classifier for Fashion-MNIST (used by methods)", {"arch": "lenet", "epochs": 6, "seed": 0}),
        ZooEntry("fashion-judge", "classifier", "fashion-mnist", "judge", "VGG-style evaluation judge for Fashion-MNIST (independent of the redaction classifier; its features define FID/KID/PR)", {"arch": "judge-convnet", "epochs": 6, "seed": 1}),
        ZooEntry("mnist-classifier", "classifier", "mnist", "redaction", "LeNet redaction classifier for MNIST (used by methods)", {"arch": "lenet", "epochs": 2, "seed": 0}),
        ZooEntry("mnist-judge", "classifier", "mnist", "judge", "VGG-style evaluation judge for MNIST (independent of the redaction classifier)", {"arch": "judge-convnet", "epochs": 2, "seed": 1}),
        # The judge's architecture trained with another seed, for steering where the LeNet's view of a generator's samples is too
        # far from the judge's (a flow's class mix under debias: benchmarks/RESULTS.md); still independent of the judge.
        ZooEntry("fashion-classifier-convnet", "classifier", "fashion-mnist", "redaction", "VGG-style redaction classifier for Fashion-MNIST (the judge's architecture, another seed; steers a mix closer to the judge's count)", {"arch": "judge-convnet", "epochs": 6, "seed": 2}),
        ZooEntry("mnist-classifier-convnet", "classifier", "mnist", "redaction", "VGG-style redaction classifier for MNIST (the judge's architecture, another seed; steers a mix closer to the judge's count)", {"arch": "judge-convnet", "epochs": 2, "seed": 2}),
        # Two such networks (seeds 2 and 3; the first is the one above) voting by mean probability.
        ZooEntry("fashion-classifier-ensemble", "classifier", "fashion-mnist", "redaction", "two VGG-style redaction classifiers for Fashion-MNIST (seeds 2 and 3) voting by mean probability", {"arch": "judge-convnet", "epochs": 6, "seed": 2, "members": 2}),
        ZooEntry("mnist-classifier-ensemble", "classifier", "mnist", "redaction", "two VGG-style redaction classifiers for MNIST (seeds 2 and 3) voting by mean probability", {"arch": "judge-convnet", "epochs": 2, "seed": 2, "members": 2}),
        ZooEntry("fashion-flow", "flow", "fashion-mnist", "model", "Glow-style multi-scale flow (2 levels x 8 steps) trained on all 10 Fashion-MNIST classes", {"steps": 8000, "seed": 0}),
        ZooEntry("mnist-flow", "flow", "mnist", "model", "Glow-style multi-scale flow (2 levels x 8 steps) trained on all 10 MNIST digits", {"steps": 8000, "seed": 0}),
        # Image-to-image (inpainting and outpainting with one model; see zoo/inpainter_recipes.py).
        ZooEntry("fashion-inpainter-conv", "inpainter", "fashion-mnist", "model", "convolutional encoder-decoder inpainter/outpainter for Fashion-MNIST", {"arch": "conv", "steps": 3000, "seed": 0}),
        ZooEntry("fashion-inpainter-mae", "inpainter", "fashion-mnist", "model", "MAE-style transformer inpainter/outpainter (4x4 patches, mask tokens) for Fashion-MNIST", {"arch": "mae", "steps": 3000, "seed": 0}),
        ZooEntry("mnist-inpainter-conv", "inpainter", "mnist", "model", "convolutional encoder-decoder inpainter/outpainter for MNIST", {"arch": "conv", "steps": 3000, "seed": 0}),
        ZooEntry("mnist-inpainter-mae", "inpainter", "mnist", "model", "MAE-style transformer inpainter/outpainter (4x4 patches, mask tokens) for MNIST", {"arch": "mae", "steps": 3000, "seed": 0}),
    ]
}

DATASET_PREFIX = {"fashion-mnist": "fashion", "mnist": "mnist"}


def zoo_path(name: str) -> Path:
    if name not in ZOO:
        raise GenredactError(f"unknown zoo model {name!r}; choose one of: {', '.join(ZOO)}")
    path = WEIGHTS_DIR / name
    if not (path / "model.safetensors").is_file():
        raise CheckpointError(f"zoo model {name!r} has no shipped weights; train them with `genredact zoo train {name}`")
    return path


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A zoo name or a model folder -> the folder that holds the model."""
    p = Path(name_or_path)
    if p.exists():
        return p
    if str(name_or_path) in ZOO:
        return zoo_path(str(name_or_path))
    raise CheckpointError(f"{name_or_path} is neither a model folder nor a zoo model; zoo models: {', '.join(ZOO)}")


def load_model(name_or_path: str | Path, *, device: str = "cpu") -> nn.Module:
    """Load a zoo model by name, or any genredact model folder (under a launcher, device "cuda" is this
    process's own GPU)."""
    from genredact.engine.dist import local_device

    return load_pretrained(resolve_model_path(name_or_path), map_location=local_device(device))


def classifier_name(dataset: str, role: str) -> str:
    """The zoo classifier of a data set for a role: 'judge' (evaluation), 'redaction' (the LeNet methods steer
    by), 'mix' (the ensemble that counts a flow's class mix for a mix= target: a mix is counted over every
    class, and the stronger classifier lands it nearer the judge's count, benchmarks/flow_taming.py) or 'steer'
    (the convnet that steers encoder-unlearn's forget_to=classifier beside the LeNet)."""
    prefix = DATASET_PREFIX.get(dataset)
    if prefix is None:
        raise GenredactError(f"the zoo has no {role} classifier for data set {dataset!r}; give your own classifier folder")
    return f"{prefix}-" + {"judge": "judge", "mix": "classifier-ensemble", "steer": "classifier-convnet"}.get(role, "classifier")


def load_classifier(dataset: str, *, role: str = "redaction", device: str = "cpu") -> nn.Module:
    """The zoo's redaction classifier (role='redaction'), mix classifier (role='mix') or evaluation judge
    (role='judge') for a data set."""
    return load_model(classifier_name(dataset, role), device=device)


#: Which module trains each kind of zoo entry. Each module has
#: `train_zoo_entry(entry, train, test, params, *, progress, device) -> (model, steps, wall_s, recipe_dict, metrics)`.
TRAINERS: dict[str, str] = {
    "gan": "genredact.zoo.recipes",
    "classifier": "genredact.zoo.recipes",
    "flow": "genredact.zoo.flow_recipes",
    "inpainter": "genredact.zoo.inpainter_recipes",
}


def train_entry(name: str, *, out: str | Path | None = None, overrides: dict[str, Any] | None = None, progress: bool = True, device: str | None = None,
                resume: bool = False, checkpoint_every: float | None = None) -> Path:
    """Train zoo entry `name` with its recipe and write the model folder with a MODEL_CARD.md.

    Training checkpoints into `.NAME.resume/` beside the output; with `resume`, a killed training
    continues from there (bit-identical on CPU)."""
    import importlib

    from genredact.data import load_dataset
    from genredact.engine.resume import DEFAULT_EVERY_S, resumable

    if name not in ZOO:
        raise GenredactError(f"unknown zoo model {name!r}; choose one of: {', '.join(ZOO)}")
    entry = ZOO[name]
    target = Path(out) if out else WEIGHTS_DIR / name
    params = {**entry.recipe, **(overrides or {})}
    train = load_dataset(entry.dataset, "train")
    test = load_dataset(entry.dataset, "test")
    trainer = importlib.import_module(TRAINERS[entry.kind]).train_zoo_entry
    fingerprint = {"command": "zoo train", "name": name, "params": params, "device": device}
    target.parent.mkdir(parents=True, exist_ok=True)
    with resumable(target, resume=resume, fingerprint=fingerprint, every_s=DEFAULT_EVERY_S if checkpoint_every is None else checkpoint_every,
                   echo=print if progress else (lambda s: None)):
        model, steps, wall_s, recipe, metrics = trainer(entry, train, test, params, progress=progress, device=device)
    card = {
        "name": name,
        "description": entry.description,
        "dataset": entry.dataset,
        "train_images": len(train),
        "recipe": recipe,
        "steps": steps,
        "wall_s": round(wall_s, 1),
        "device": _device_name(device),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "command": f"genredact zoo train {name}" + "".join(f" --set {k}={v}" for k, v in (overrides or {}).items()),
        **metrics,
    }
    from genredact.engine.dist import is_main

    if not is_main():  # under a launcher only the main process writes
        return target
    # Staged beside the target (same file system) and renamed into place: never a half-written folder.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(target.parent, target.name)
    old = target.parent / f".{target.name}.old"
    try:
        folder = save_pretrained(model.cpu(), staging / name, extra_files={"MODEL_CARD.md": _card_markdown(card), "card.json": json.dumps(card, indent=2) + "\n"})
        if old.exists():  # left by a run killed between the two renames below: it is the last good copy
            shutil.rmtree(old) if target.exists() else os.replace(old, target)
        if target.exists():
            os.replace(target, old)
        os.replace(folder, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _device_name(device: str | None) -> str:
    import torch

    if (device is None or str(device).startswith("cuda")) and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _card_markdown(card: dict[str, Any]) -> str:
    lines = [f"# {card['name']}", "", card["description"], "", "| field | value |", "|---|---|"]
    for key in ("dataset", "train_images", "steps", "wall_s", "device", "date", "test_accuracy", "test_bpd", "note", "command"):
        if key in card:
            val = f"{card[key]:.4f}" if key == "test_accuracy" else card[key]
            lines.append(f"| {key} | {val} |")
    lines.append(f"| recipe | `{json.dumps(card['recipe'])}` |")
    if "test_metrics" in card:  # inpainters: paired output metrics per mask on the whole test set
        tm = card["test_metrics"]
        lines += ["", f"Outputs on the {card['dataset']} test set under the evaluation judge (judge accuracy on the ground truth: {tm['ground_truth_acc']:.4f}):", "",
                  "| mask | FID (judge features, output vs truth) | judge accuracy on outputs | embedding cosine | PSNR in hole (dB) |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {k} | {v['fid']:.3f} | {v['acc']:.4f} | {v['cos']:.4f} | {v['psnr']:.2f} |" for k, v in tm.items() if isinstance(v, dict)]
    licence = {"fashion-mnist": "MIT licence, Zalando Research", "mnist": "MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0"}.get(card["dataset"], "user data")
    lines += ["", f"Python {sys.version.split()[0]}. Data: {card['dataset']} ({licence}). Weights: safetensors, loadable with `genredact.load_model('{card['name']}')`.", ""]
    return "\n".join(lines)
