"""The run folder of a flow redaction (called from `run.run_redaction` when the model is a flow).

Same layout as a GAN run (config.json written first, model/ with redaction.json, metrics.jsonl, log.json,
samples/before.png + after.png on the same latents, report.md), with flow measurements instead of the
GAN residual table: BPD and likelihood quantiles of the image groups, the remember BPD shift, the
membership AUC, the class mix under the judge, and BPD histograms before/after (plots/*.png).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import torch

from genredact.checkpoint import folder_sha256, save_pretrained, staging_dir, write_json_atomic
from genredact.errors import GenredactError
from genredact.flow_evaluation import EVAL_TEMPERATURE, evaluate_flow
from genredact.seeding import make_generator

GRID_N = 64


def _scalars(prefix: str, d: Any) -> list[tuple[str, float]]:
    """Flatten nested numeric fields of an evaluation dict into (dotted name, value)."""
    out: list[tuple[str, float]] = []
    if isinstance(d, dict):
        for k, v in d.items():
            if k == "arrays":
                continue
            out += _scalars(f"{prefix}.{k}" if prefix else k, v)
    elif isinstance(d, (int, float)) and not isinstance(d, bool):
        out.append((prefix, float(d)))
    return out


def flow_table(ev: dict[str, Any], summary: dict[str, Any]) -> str:
    """The before/after Markdown table of a flow evaluation."""
    lines = ["| measure | before | after |", "|---|---:|---:|"]
    if "before" in ev:
        for g in ("forget", "heldout_same_class", "nearest_neighbour", "random_retain"):
            if g in ev["before"]:
                b, a = ev["before"][g], ev["after"][g]
                lines.append(f"| {g} BPD (n={b['n']}) | {b['bpd']:.4f} | {a['bpd']:.4f} |")
                lines.append(f"| {g} likelihood quantile | {b['quantile']:.4f} | {a['quantile']:.4f} |")
        lines.append(f"| forget images in the band | {ev['before']['forget_in_band']:.0%} | {ev['after']['forget_in_band']:.0%} |")
        rs = ev["remember_shift"]
        lines.append(f"| retain BPD mean (std) | {rs['mean_before']:.4f} ({rs['std_before']:.4f}) | {rs['mean_after']:.4f} ({rs['std_after']:.4f}) |")
        lines.append(f"| retain BPD change, Wasserstein | | {rs['change_pct']:+.2f}%, {rs['wasserstein']:.4f} |")
        lines.append(f"| membership AUC (forget vs unseen same class) | {ev['membership_auc_before']:.3f} | {ev['membership_auc']:.3f} |")
    if "mix_before" in ev:
        names = ev["mix_before"]["class_names"]
        for i, name in enumerate(names):
            b, a = ev["mix_before"], ev["mix_after"]
            want = f" (target {ev['target_mix'][i]:.3f})" if "target_mix" in ev else ""
            lines.append(f"| share of {name}{want} | {b['shares'][i]:.4f} [{b['low95'][i]:.4f}, {b['high95'][i]:.4f}] | {a['shares'][i]:.4f} [{a['low95'][i]:.4f}, {a['high95'][i]:.4f}] |")
        if "max_mix_error_pp" in ev:
            lines.append(f"| largest mix error (pp) | {ev['max_mix_error_pp_before']:.2f} | {ev['max_mix_error_pp']:.2f} |")
    lines.append(f"| wall time (s), steps | | {summary['wall_s']:.1f}, {summary['steps']} |")
    return "\n".join(lines)


def save_sample_grids(model: torch.nn.Module, edited: torch.nn.Module, folder: Path, seed: int) -> None:
    """before.png and after.png: GRID_N samples of each flow at the evaluation temperature, from each model's
    own latents drawn from the same seed (the same latents under a standard normal prior; the edited prior's
    where taming's debias="prior" replaced it, whose network is the original's)."""
    from genredact.models.flow import finite_images
    from genredact.report import save_grid

    with torch.no_grad():
        for which, m in (("before", model.eval()), ("after", edited.eval())):
            z = m.latents(GRID_N, generator=make_generator(seed), temperature=EVAL_TEMPERATURE)
            save_grid(finite_images(m.generate(z))[0], folder / f"{which}.png", nrow=8)


def run_flow_redaction(
    model: torch.nn.Module,
    model_ref: str,
    model_path: Path,
    target: Any,
    target_spec: str,
    *,
    out: Path,
    method: str,
    config: dict[str, Any],
    seed: int,
    n_eval: int,
    eval_seed: int,
    device: str,
    progress: bool,
    evaluate_models: bool,
    classifier: str | None,
    data: str | None,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    from genredact import api
    from genredact.data import DATASETS, load_dataset
    from genredact.run import provenance
    from genredact.report.histogram import save_histograms
    from genredact.zoo import classifier_name, load_classifier

    dataset = getattr(model, "dataset", None)
    judge_name = classifier_name(dataset, "judge") if dataset in DATASETS else None
    if evaluate_models and judge_name is None:
        raise GenredactError(f"the zoo has no evaluation judge for data set {dataset!r}; run with --no-eval (and evaluate from Python with your own judge)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(out.parent, out.name)
    try:
        resolved = {
            "model": str(model_ref), "model_path": str(model_path), "parent_sha256": folder_sha256(model_path), "target": target_spec,
            "method": method, "config": config, "seed": seed, "n_eval": n_eval, "eval_seed": eval_seed, "device": device,
            "judge": judge_name, "judge_independent": judge_name != getattr(target, "source", None), "classifier": classifier, "data": data,
            "eval_temperature": EVAL_TEMPERATURE,
        }
        write_json_atomic(tmp / "config.json", resolved)
        echo(f"redacting {target.to_json()} from {model_ref} with {method} ...")
        edited, log = api.redact(model, target, method, data=data or "auto", seed=seed, device=device, progress=progress, **config)
        summary: dict[str, Any] = {"steps": log["steps"], "wall_s": log["wall_s"], "peak_mem_mb": log["peak_mem_mb"]}
        ev: dict[str, Any] = {}
        records: list[dict[str, Any]] = []
        now = time.time()
        if evaluate_models:
            echo(f"evaluating before and after (judge {judge_name}, {n_eval} samples at temperature {EVAL_TEMPERATURE}) ...")
            train = api.training_data(model, data or "auto")
            test = load_dataset(data or dataset, "test")
            judge = load_classifier(dataset, role="judge", device=device)
            cfg = log.get("config", {})
            ev = evaluate_flow(model, edited.to(device), target, train=train, test=test, judge=judge, n=n_eval, seed=eval_seed, k=cfg.get("k", 4.0), band=cfg.get("band", 0.15))
            for name, value in _scalars("", {k: v for k, v in ev.items() if k not in ("mix_before", "mix_after")}):
                head = name.split(".")[0]
                records.append({"name": name, "value": value, "model": head if head in ("before", "after") else "after", "seed": eval_seed, "time": now})
            for which in ("mix_before", "mix_after"):
                if which in ev:
                    m = ev[which]
                    for i, cname in enumerate(m["class_names"]):
                        records.append({"name": f"class_share.{cname}", "value": m["shares"][i], "low95": m["low95"][i], "high95": m["high95"][i], "n": m["n"], "seed": eval_seed, "model": which.split("_")[1], "time": now})
            if "arrays" in ev:
                for which in ("before", "after"):
                    arr = ev["arrays"][which]
                    lv = ev[which]["band_level"]
                    save_histograms({"random retain": arr["random_retain"], "forget": arr["forget"], "held-out same class": arr["heldout_same_class"]},
                                    tmp / "plots" / f"bpd_{which}.png", title=f"BPD {which}", lines={"mu + k sigma": lv})
        records += [{"name": k, "value": v, "model": "after", "time": now} for k, v in summary.items()]
        redaction = {"target": target.to_json(), "method": method, "config": log["config"], "seed": seed, "parent": str(model_ref), "parent_sha256": resolved["parent_sha256"], "summary": summary}
        save_pretrained(edited.cpu(), tmp / "model", redaction=redaction)
        with open(tmp / "metrics.jsonl", "w") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
        write_json_atomic(tmp / "log.json", {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)) for k, v in log.items()})
        write_json_atomic(tmp / "evaluation.json", {k: v for k, v in ev.items() if k != "arrays"})
        save_sample_grids(model, edited.cpu(), tmp / "samples", eval_seed)
        table = flow_table(ev, summary) if ev else ""
        report = [
            f"# Redaction report: {method} on {model_ref}", "",
            f"- target: `{json.dumps(target.to_json())}`", f"- method: `{method}` with `{json.dumps(log['config'])}`",
            f"- seed: {seed}; parent checkpoint sha256: `{resolved['parent_sha256']}`",
            f"- evaluation: judge `{judge_name}`, samples at temperature {EVAL_TEMPERATURE}; likelihood quantile = 1 - Phi((BPD - mu) / sigma), mu and sigma of each model on random retain images",
            "", "## Metrics", "", table or "(not evaluated)", "",
            "## BPD histograms", "", "| before | after |", "|---|---|", "| ![before](plots/bpd_before.png) | ![after](plots/bpd_after.png) |", "",
            "## Samples (same latents before and after)", "", "| before | after |", "|---|---|", "| ![before](samples/before.png) | ![after](samples/after.png) |", "",
            "## Cost", "", f"- wall time {summary['wall_s']:.1f} s, {summary['steps']} steps, peak memory {summary['peak_mem_mb']:.0f} MB", "",
        ]
        (tmp / "report.md").write_text("\n".join(report))
        write_json_atomic(tmp / "provenance.json", provenance(resolved, tmp / "model", judge_name=judge_name if evaluate_models else None,
                                                             classifier=classifier or getattr(target, "source", None), retrain=None, dataset=dataset))
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "before": None, "after": None, "flow": {k: v for k, v in ev.items() if k != "arrays"}, "table": table, "log": log, "summary": summary}
