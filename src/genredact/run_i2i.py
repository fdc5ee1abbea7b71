"""The run folder of an image-to-image redaction (called by `run.run_redaction` for inpainters).

    config.json      resolved configuration, written before any work
    model/           the edited inpainter + redaction.json
    metrics.jsonl    one record per (mask, split, metric, model): FID, judge accuracy, cosine, PSNR
    log.json         the method's log
    samples/<mask>/  inputs.png, truth.png, original.png, unlearned.png: the same 8 forget images
                     (top row) and 8 retain images (bottom row) through the masked input, the
                     original model and the edited model
    report.md        built from the files above

Like the GAN run, the folder is built under a temporary name and renamed into place at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from genredact.checkpoint import folder_sha256, save_pretrained, staging_dir, write_json_atomic
from genredact.errors import GenredactError

GRID_PER_SPLIT = 8
METRIC_LABELS = {"fid": ("FID vs truth", "↓ retain / ↑ forget"), "acc": ("judge accuracy on outputs", "↑ retain / ↓ forget"),
                 "cos": ("embedding cosine to truth", "↑ retain / ↓ forget"), "psnr": ("PSNR in hole (dB)", "↑ retain / ↓ forget")}


def run_inpainter_redaction(
    model: Any, model_ref: str, model_path: Path, target: Any, target_spec: str, *, out: Path, method: str, config: dict[str, Any], seed: int,
    n_eval: int, device: str, progress: bool, evaluate_models: bool, data: str | None, echo: Callable[[str], None],
) -> dict[str, Any]:
    from genredact import api
    from genredact.data import load_dataset, to_float
    from genredact.metrics.i2i import DEFAULT_MASKS, evaluate_i2i, mask_name
    from genredact.report import save_grid
    from genredact.run import provenance
    from genredact.zoo import DATASET_PREFIX, classifier_name, load_classifier

    labels = target.labels
    dataset = getattr(model, "dataset", None)
    judge_name = classifier_name(dataset, "judge") if dataset in DATASET_PREFIX else None
    if evaluate_models and (judge_name is None or labels is None):
        what = "this target has no class labels" if judge_name else f"the zoo has no evaluation judge for data set {dataset!r}"
        raise GenredactError(f"cannot evaluate under an independent judge: {what}; run with --no-eval (and evaluate from Python with your own judge)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(out.parent, out.name)
    try:
        resolved = {
            "model": str(model_ref), "model_path": str(model_path), "parent_sha256": folder_sha256(model_path), "family": "inpainter",
            "target": target_spec, "method": method, "config": config, "seed": seed, "n_eval": n_eval, "device": device,
            "judge": judge_name, "masks": [mask_name(k, s) for k, s in DEFAULT_MASKS], "data": data,
        }
        write_json_atomic(tmp / "config.json", resolved)
        echo(f"unlearning {target.to_json()} from {model_ref} with {method} ...")
        edited, log = api.redact(model, target, method, data=data or "auto", seed=seed, device=device, progress=progress, **config)
        summary: dict[str, Any] = {"steps": log["steps"], "wall_s": log["wall_s"], "peak_mem_mb": log["peak_mem_mb"]}
        records: list[dict[str, Any]] = []
        now = time.time()
        if evaluate_models:
            test = load_dataset(dataset, "test")
            judge = load_classifier(dataset, role="judge", device=device)
            echo(f"evaluating the original and the edited model on held-out forget and retain images (up to {n_eval} each) under the judge {judge_name} ...")
            for name, m in (("before", model), ("after", edited)):
                res = evaluate_i2i(m, test, labels, judge, n=n_eval)
                for mk, splits in res.items():
                    for split, vals in splits.items():
                        for key in ("fid", "acc", "cos", "psnr"):
                            records.append({"name": f"{mk}/{split}/{key}", "value": vals[key], "n": vals["n"], "seed": seed, "model": name, "time": now})
            # Grids: the same forget and retain test images through both models.
            pick = np.concatenate([np.flatnonzero(np.isin(test.y, labels))[:GRID_PER_SPLIT], np.flatnonzero(~np.isin(test.y, labels))[:GRID_PER_SPLIT]])
            x = to_float(test.x[pick])
            for kind, size in DEFAULT_MASKS:
                folder = tmp / "samples" / mask_name(kind, size)
                xm, _ = model.mask(x.to(model.device), kind=kind, size=size)
                save_grid(x, folder / "truth.png", nrow=GRID_PER_SPLIT)
                save_grid(xm, folder / "inputs.png", nrow=GRID_PER_SPLIT)
                save_grid(model.complete(x, kind=kind, size=size), folder / "original.png", nrow=GRID_PER_SPLIT)
                save_grid(edited.complete(x, kind=kind, size=size), folder / "unlearned.png", nrow=GRID_PER_SPLIT)
        records += [{"name": k, "value": v, "model": "after", "time": now} for k, v in summary.items()]
        redaction = {"target": target.to_json(), "method": method, "config": log["config"], "seed": seed, "parent": str(model_ref),
                     "parent_sha256": resolved["parent_sha256"], "summary": summary}
        save_pretrained(edited.cpu(), tmp / "model", redaction=redaction)
        with open(tmp / "metrics.jsonl", "w") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
        write_json_atomic(tmp / "log.json", {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)) for k, v in log.items()})
        table = write_i2i_report(tmp)
        write_json_atomic(tmp / "provenance.json", provenance(resolved, tmp / "model", judge_name=judge_name if evaluate_models else None,
                                                             classifier=None, retrain=None, dataset=dataset))
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if table:
        echo(table)
    return {"out": str(out), "before": None, "after": None, "log": log, "summary": summary, "table": table}


def i2i_table(records: list[dict[str, Any]]) -> str:
    """Markdown: one row per mask, split and metric, original vs edited."""
    vals: dict[tuple[str, str], dict[str, float]] = {}
    for rec in records:
        if rec["name"].count("/") == 2:
            vals.setdefault((rec["name"], rec["model"]), {})["v"] = rec["value"]
    names = list(dict.fromkeys(r["name"] for r in records if r["name"].count("/") == 2))
    if not names:
        return ""
    lines = ["| mask | images | metric | better | original | unlearned | delta |", "|---|---|---|:---:|---:|---:|---:|"]
    for name in names:
        mk, split, key = name.split("/")
        b, a = vals.get((name, "before"), {}).get("v"), vals.get((name, "after"), {}).get("v")
        label, _ = METRIC_LABELS[key]
        better = {"forget": {"fid": "↑", "acc": "↓", "cos": "↓", "psnr": "↓"}, "retain": {"fid": "↓", "acc": "↑", "cos": "↑", "psnr": "↑"}}[split][key]
        delta = f"{a - b:+.4g}" if a is not None and b is not None else "-"
        lines.append(f"| {mk} | {split} | {label} | {better} | {b:.4f} | {a:.4f} | {delta} |")
    return "\n".join(lines)


def write_i2i_report(run: Path) -> str:
    """Write `report.md` from config.json, metrics.jsonl and model/redaction.json; return the metric table."""
    config = json.loads((run / "config.json").read_text())
    redaction = json.loads((run / "model" / "redaction.json").read_text())
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    table = i2i_table(records)
    cost = {r["name"]: r["value"] for r in records if r["name"] in ("wall_s", "steps", "peak_mem_mb")}
    lines = [
        f"# Unlearning report: {config['method']} on {config['model']}", "",
        f"- target (forget set): `{json.dumps(redaction['target'])}`",
        f"- method: `{config['method']}` with `{json.dumps(redaction['config'])}`",
        f"- seed: {config['seed']}; parent checkpoint sha256: `{redaction['parent_sha256']}`",
        f"- evaluation: held-out test images of the forget and the retain classes, separately, under the judge `{config.get('judge')}`", "",
        "## Metrics", "", table or "(evaluation skipped)", "",
        "## Samples", "",
        "Per mask: top row forget images, bottom row retain images.", "",
        "| mask | truth | input | original | unlearned |", "|---|---|---|---|---|",
    ]
    for mk in config.get("masks", []):
        if (run / "samples" / mk).is_dir():
            lines.append(f"| {mk} | ![](samples/{mk}/truth.png) | ![](samples/{mk}/inputs.png) | ![](samples/{mk}/original.png) | ![](samples/{mk}/unlearned.png) |")
    lines += ["", "## Cost", "", f"- wall time {cost.get('wall_s', 0):.1f} s, {int(cost.get('steps', 0))} steps, peak memory {cost.get('peak_mem_mb', 0):.0f} MB", ""]
    (run / "report.md").write_text("\n".join(lines))
    return table
