"""Audit: can the redacted content be recovered? Attacks registered by name (`ATTACKS`), each run with the
same budget and seed on the redacted model and on its yardsticks (the pre-trained parent and, when given,
the `retrain` model).

    from genredact.audit import audit
    res = audit(edited, labels=(7,), reference={"pretrained": base, "retrain": retrained}, attacks=["latent-search"])
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from torch import nn

from genredact.audit import i2i_leak, inversion, latent_search, membership, relearn  # noqa: F401  (registers the attacks)
from genredact.audit.base import ATTACKS, Attack, AttackContext
from genredact.data import ImageData, load_dataset
from genredact.errors import GenredactError

#: The config field each attack's budget sets (`--budget`).
BUDGET_FIELD = {"latent-search": "steps", "inversion": "steps", "relearn": "max_steps", "likelihood-membership": "n_images", "i2i-leak": "n_images"}
DEFAULT_ATTACKS = {"gan": ["latent-search", "inversion", "relearn"], "flow": ["latent-search", "likelihood-membership", "relearn"], "inpainter": ["i2i-leak", "relearn"]}


def audit(
    model: nn.Module,
    *,
    labels: tuple[int, ...] | list[int],
    attacks: list[str] | None = None,
    reference: dict[str, nn.Module] | None = None,
    judge: nn.Module | None = None,
    heldout: ImageData | None = None,
    budget: int | None = None,
    configs: dict[str, dict[str, Any]] | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    guide: nn.Module | None = None,
    train: ImageData | None = None,
    forget: Any = None,
) -> dict[str, dict[str, Any]]:
    """Run `attacks` on `model` and on each `reference` model (same budget, same seed).

    `guide` is the classifier optimising attacks steer by; by default the zoo's redaction classifier
    when the judge is the zoo's own (success is still decided by the judge), else the judge.

    Returns {attack: {"config": ..., "models": {"redacted": figures, "pretrained": ..., ...}, grids under
    "grid" in each model's figures}}. For `relearn`, the threshold is half the residual rate of the
    `pretrained` reference (required for that attack unless `configs['relearn']['threshold']` is given).
    """
    family = getattr(model, "family", "")
    attacks = list(attacks or DEFAULT_ATTACKS.get(family, []))
    if not attacks:
        raise GenredactError(f"no attack is registered for a {family or type(model).__name__} model")
    dataset = getattr(model, "dataset", None)
    if judge is None:
        from genredact.zoo import load_classifier

        if not dataset:
            raise GenredactError("the model does not name its data set; pass judge=... and heldout=...")
        judge = load_classifier(dataset, role="judge", device=device)
        if guide is None:
            guide = load_classifier(dataset, role="redaction", device=device)
    if heldout is None and dataset:
        heldout = load_dataset(dataset, "test")
    if train is None and dataset and "likelihood-membership" in attacks and forget is None:
        train = load_dataset(dataset, "train")
    labels = tuple(int(v) for v in labels)
    bad = [v for v in labels if not 0 <= v < len(judge.class_names)]
    if not labels or bad:
        raise GenredactError(f"labels {list(labels)} are not classes of the judge (0..{len(judge.class_names) - 1})")
    models = {"redacted": model, **(reference or {})}
    ctx = AttackContext(labels=labels, judge=judge, heldout=heldout, seed=seed, device=device, progress=progress, guide=guide,
                        train=train, forget=forget)
    out: dict[str, dict[str, Any]] = {}
    for name in attacks:
        cls: type[Attack] = ATTACKS.get(name)
        overrides = dict((configs or {}).get(name, {}))
        if budget is not None:
            overrides[BUDGET_FIELD[name]] = budget
        if name == "relearn" and overrides.get("threshold") is None:
            if "pretrained" not in models:
                raise GenredactError("relearn measures against half the pre-trained model's residual rate; give reference={'pretrained': model}")
            overrides["threshold"] = 0.5 * relearn.Relearn.residual(models["pretrained"], ctx, n=int(overrides.get("eval_n", 1000)), seed=ctx.seed + 7,
                                                                     mask=overrides.get("mask"), mask_size=overrides.get("mask_size"))
        config = cls.make_config(overrides)
        attack = cls()
        out[name] = {"config": {k: getattr(config, k) for k in config.__dataclass_fields__}, "models": {m: attack.run(mod, config, ctx) for m, mod in models.items()}}
    return out


def summary_record(attack: str, result: dict[str, Any]) -> dict[str, Any]:
    """The flat figures of one attack for tables and benchmark records (success rates, relearn steps)."""
    models = result["models"]
    rec: dict[str, Any] = {"attack": attack, "budget": result["config"].get(BUDGET_FIELD[attack])}
    for m, figs in models.items():
        prefix = "" if m == "redacted" else ("base_" if m == "pretrained" else f"{m}_")
        for key in ("success_rate", "success_upper95", "relearn_steps", "target_pixel_mse", "retain_pixel_mse", "target_judge_acc", "retain_judge_acc", "target_gap",
                    "auc", "retain_auc", "max_forget_acc", "worst_mask", "mean_retain_acc", "guide"):
            if key in figs:
                rec[prefix + key] = figs[key]
    return rec


def audit_run(run: str | Path, *, attacks: list[str] | None = None, budget: int | None = None, retrain: str | None = None,
              configs: dict[str, dict[str, Any]] | None = None, seed: int = 0, device: str = "cpu", progress: bool = True) -> dict[str, Any]:
    """Audit the model of a run folder against its parent (and `retrain`, a model folder or zoo name) and
    write `RUN/audit/<attack>.json` plus `RUN/audit/<attack>-<model>.png` grids (each attack's files
    appear together or not at all). Returns {attack: summary record}."""
    from genredact.api import resolve_model
    from genredact.checkpoint import staging_dir, write_json_atomic
    from genredact.report import save_grid

    run = Path(run)
    red_path = run / "model" / "redaction.json"
    if not red_path.is_file():
        raise GenredactError(f"{run} is not a genredact run folder (no model/redaction.json); give the folder `genredact redact` wrote")
    redaction = json.loads(red_path.read_text())
    labels = redaction.get("target", {}).get("labels")
    if not labels:
        raise GenredactError("this run's target has no class labels, so no judge can tell whether an attack succeeded")
    model = resolve_model(run / "model", device)
    reference = {"pretrained": resolve_model(redaction["parent"], device)}
    if retrain:
        reference["retrain"] = resolve_model(retrain, device)
    results = audit(model, labels=labels, attacks=attacks, reference=reference, budget=budget, configs=configs, seed=seed, device=device, progress=progress)
    summaries = {}
    for name, res in results.items():
        tmp = staging_dir(run, "audit")
        try:
            record = {"attack": name, "config": res["config"], "seed": seed, "retrain": retrain, "models": {}}
            for m, figs in res["models"].items():
                grid = figs.pop("grid", None)
                if grid is not None:
                    save_grid(grid, tmp / f"{name}-{m}.png", nrow=8)
                    figs["grid_png"] = f"{name}-{m}.png"
                record["models"][m] = figs
            record["summary"] = summary_record(name, res)
            write_json_atomic(tmp / f"{name}.json", record)
            dest = run / "audit"
            dest.mkdir(exist_ok=True)
            for f in tmp.iterdir():
                os.replace(f, dest / f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        summaries[name] = record["summary"]
    return summaries


__all__ = ["ATTACKS", "Attack", "AttackContext", "audit", "audit_run", "summary_record"]
