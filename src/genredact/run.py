"""One redaction saved as a run folder: config.json (written first), model/, metrics.jsonl,
samples/before.png + after.png on the same latents, log.json and report.md.

The folder is built under a temporary sibling name and renamed into place at the end, so a failed run
leaves nothing behind; the input model is only read.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

from genredact.checkpoint import folder_sha256, save_pretrained, staging_dir, write_json_atomic
from genredact.engine.budget import check_run_fits
from genredact.engine.precision import precision as use_precision
from genredact.engine.resume import DEFAULT_EVERY_S, resumable
from genredact.errors import GenredactError
from genredact.seeding import make_generator

GRID_N = 64


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)


def run_redaction(model_ref: str, target_spec: str, *, out: str | Path, resume: bool = False, checkpoint_every: float = DEFAULT_EVERY_S,
                  precision: str = "fp32", echo: Callable[[str], None] = print, **kwargs: Any) -> dict[str, Any]:
    """Redact, evaluate before/after under the judge, and write the run folder at `out` (see `_run` for
    the arguments). The run checkpoints into `.OUT.resume/` while it works; with `resume`, a run that was
    killed continues from there and ends with the same folder as an uninterrupted one. `precision="bf16"`
    runs training steps and evaluation forward passes under bf16 autocast."""
    from genredact.engine.dist import is_main
    from genredact.zoo import resolve_model_path

    out = Path(out)
    if not is_main():  # under a launcher only the main process writes the run folder and prints
        scratch = Path(tempfile.mkdtemp(prefix="genredact-rank-"))
        try:
            with resumable(scratch / "run", resume=resume, fingerprint={}, echo=lambda s: None), use_precision(precision):
                return _run(model_ref, target_spec, out=scratch / "run", echo=lambda s: None, **{**kwargs, "progress": False})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if out.exists():
        raise GenredactError(f"run folder {out} already exists; choose another --out or remove it")
    model_path = resolve_model_path(model_ref)
    try:
        parent_sha = folder_sha256(model_path)
    except OSError:  # not a model folder: loading it below says so
        parent_sha = None
    fingerprint = {"command": "redact", "model": str(model_ref), "parent_sha256": parent_sha,
                   "target": target_spec, "precision": precision, **{k: v for k, v in kwargs.items() if k not in ("progress",)}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with resumable(out, resume=resume, fingerprint=fingerprint, every_s=checkpoint_every, echo=echo), use_precision(precision):
        return _run(model_ref, target_spec, out=out, echo=echo, **kwargs)


def _run(
    model_ref: str,
    target_spec: str,
    *,
    out: str | Path,
    method: str | None = None,
    config: dict[str, Any] | None = None,
    seed: int = 0,
    n_eval: int = 10000,
    eval_seed: int = 1234,
    device: str = "cpu",
    progress: bool = True,
    evaluate_models: bool = True,
    classifier: str | None = None,
    data: str | None = None,
    retrain: str | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Redact, evaluate before/after under the judge, and write the run folder at `out`.

    With `retrain` (a model folder or zoo name: the same architecture trained without the target), that
    model is evaluated too, under the same judge and latents, so the report can show deltas against it."""
    from genredact import api
    from genredact.evaluation import evaluate
    from genredact.methods import DEFAULT_METHOD
    from genredact.report import save_grid, write_report
    from genredact.targets import parse_target
    from genredact.zoo import DATASET_PREFIX, classifier_name, load_classifier, resolve_model_path

    out = Path(out)
    model_path = resolve_model_path(model_ref)
    model = api.resolve_model(model_path, device)
    check_run_fits(model, out, device)  # before any work: fail early with the figures needed
    clf = api.resolve_model(classifier, device) if classifier else None
    target = parse_target(target_spec, model, classifier=clf, classifier_source=classifier)
    method = method or DEFAULT_METHOD.get(getattr(model, "family", ""), "")
    if getattr(model, "family", "") == "flow":  # flows: BPD metrics and histograms instead of the GAN table
        from genredact.run_flow import run_flow_redaction

        return run_flow_redaction(model, model_ref, model_path, target, target_spec, out=out, method=method, config=config or {}, seed=seed, n_eval=n_eval,
                                  eval_seed=eval_seed, device=device, progress=progress, evaluate_models=evaluate_models, classifier=classifier, data=data, echo=echo)
    if getattr(model, "family", "") == "inpainter":  # image-to-image family: its own metrics and grids (run_i2i.py)
        from genredact.run_i2i import run_inpainter_redaction

        return run_inpainter_redaction(model, str(model_ref), model_path, target, target_spec, out=out, method=method, config=config or {}, seed=seed,
                                       n_eval=n_eval, device=device, progress=progress, evaluate_models=evaluate_models, data=data, echo=echo)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(out.parent, out.name)
    try:
        judge_name = classifier_name(model.dataset, "judge") if getattr(model, "dataset", None) in DATASET_PREFIX else None
        if evaluate_models and (judge_name is None or target.labels is None):
            what = "this target has no class labels" if judge_name else f"the zoo has no evaluation judge for data set {getattr(model, 'dataset', None)!r}"
            raise GenredactError(f"cannot evaluate under an independent judge: {what}; run with --no-eval (and evaluate from Python with your own judge)")
        resolved = {
            "model": str(model_ref),
            "model_path": str(model_path),
            "parent_sha256": folder_sha256(model_path),
            "target": target_spec,
            "method": method,
            "config": config or {},
            "seed": seed,
            "n_eval": n_eval,
            "eval_seed": eval_seed,
            "device": device,
            "judge": judge_name,
            "judge_independent": judge_name != getattr(target, "source", None),
            "classifier": classifier,
            "data": data,
        }
        write_json_atomic(tmp / "config.json", resolved)
        echo(f"redacting {target.to_json()} from {model_ref} with {method} ...")
        edited, log = api.redact(model, target, method, data=data or "auto", seed=seed, device=device, progress=progress, **(config or {}))
        summary: dict[str, Any] = {"steps": log["steps"], "wall_s": log["wall_s"], "peak_mem_mb": log["peak_mem_mb"]}
        records: list[dict[str, Any]] = []
        before = after = None
        if evaluate_models:
            labels = target.labels
            judge = load_classifier(model.dataset, role="judge", device=device)
            echo(f"evaluating before and after on {n_eval} samples under the judge {judge_name} ...")
            before = evaluate(model, labels=labels, judge=judge, n=n_eval, seed=eval_seed)
            after = evaluate(edited, labels=labels, judge=judge, n=n_eval, seed=eval_seed)
            evaluated = [("before", before), ("after", {**after, **summary})]
            if retrain:
                echo(f"evaluating the retrain model {retrain} on the same latents ...")
                evaluated.append(("retrain", evaluate(api.resolve_model(retrain, device), labels=labels, judge=judge, n=n_eval, seed=eval_seed)))
            now = time.time()
            for name, res in evaluated:
                for key, value in res.items():
                    if isinstance(value, (int, float)):
                        records.append({"name": key, "value": value, "n": res.get("n"), "seed": eval_seed, "model": name, "time": now})
            summary.update({k: after[k] for k in ("residual_rate", "residual_upper95", "fid", "kid", "precision", "recall")})
        else:
            records = [{"name": k, "value": v, "model": "after", "time": time.time()} for k, v in summary.items()]
        redaction = {
            "target": target.to_json(),
            "method": method,
            "config": log["config"],
            "seed": seed,
            "parent": str(model_ref),
            "parent_sha256": resolved["parent_sha256"],
            "summary": summary,
        }
        save_pretrained(edited.cpu(), tmp / "model", redaction=redaction)
        with open(tmp / "metrics.jsonl", "w") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
        write_json_atomic(tmp / "log.json", {k: _jsonable(v) for k, v in log.items()})
        # Same latents before and after (a rejection sampler draws its own and filters them).
        z = model.latents(GRID_N, generator=make_generator(eval_seed))
        with torch.no_grad():
            model.eval(), edited.eval()
            save_grid(model.generate(z), tmp / "samples" / "before.png", nrow=8)
            after_x = edited.sample(GRID_N, generator=make_generator(eval_seed)) if hasattr(edited, "acceptance") else edited.to(z.device).generate(z)
            save_grid(after_x, tmp / "samples" / "after.png", nrow=8)
        write_json_atomic(tmp / "provenance.json", provenance(resolved, tmp / "model", judge_name=judge_name if evaluate_models else None,
                                                             classifier=classifier or getattr(target, "source", None), retrain=retrain, dataset=getattr(model, "dataset", None)))
        write_report(tmp)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "before": before, "after": after, "log": log, "summary": summary}


def provenance(resolved: dict[str, Any], model_dir: Path, *, judge_name: str | None, classifier: str | None, retrain: str | None, dataset: str | None) -> dict[str, Any]:
    """Versions, seeds, device and the sha256 of every checkpoint a run touched (for the report)."""
    import platform
    import sys

    import numpy as np

    import genredact
    from genredact.zoo import ZOO, resolve_model_path

    def sha(ref: str | None) -> str | None:
        if not ref:
            return None
        try:
            return folder_sha256(resolve_model_path(ref))
        except (GenredactError, OSError):  # not a model folder (e.g. the folder of a samples= target)
            return None

    device = resolved.get("device", "cpu")
    return {
        "genredact": genredact.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": torch.cuda.get_device_name(0) if str(device).startswith("cuda") and torch.cuda.is_available() else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)",
        "command": " ".join(["genredact", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("genredact") else None,
        "seed": resolved.get("seed"),
        "eval_seed": resolved.get("eval_seed"),
        "dataset": dataset,
        "data": resolved.get("data") or (dataset if dataset else None),
        "checkpoints": {
            "parent": {"ref": resolved.get("model"), "sha256": resolved.get("parent_sha256")},
            "model": {"ref": "model/", "sha256": folder_sha256(model_dir)},
            "judge": {"ref": judge_name, "sha256": sha(judge_name)},
            "classifier": {"ref": classifier, "sha256": sha(classifier) if classifier in ZOO or (classifier and Path(classifier).exists()) else None},
            "retrain": {"ref": retrain, "sha256": sha(retrain)},
        },
    }
