"""Benchmark: every GAN method on Fashion-MNIST and MNIST, two target classes each, on one device in
one run, evaluated under the independent judge (n samples), next to `retrain` measured in the same run.

    python benchmarks/gan_redaction.py                       # the full benchmark
    python benchmarks/gan_redaction.py --datasets mnist --labels 7 --n 2000   # a smaller one

Writes benchmarks/results/gan_redaction.json (records merged by dataset/label/method) and the table
in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from genredact.api import redact
from genredact.evaluation import evaluate
from genredact.metrics import fid
from genredact.targets import parse_target
from genredact.zoo import load_classifier, load_model

sys.path.insert(0, str(Path(__file__).parent))
from _results import stamp, HERE, for_device, heading, on_gpu, ROOT, replace_block, merge_records  # noqa: E402

RESULTS = HERE / "results" / "gan_redaction.json"
MODELS = {"fashion-mnist": "fashion-dcgan", "mnist": "mnist-dcgan"}
DEFAULT_LABELS = {"fashion-mnist": ["Sandal", "Trouser"], "mnist": ["7", "3"]}
# The redact-classifier setting that leaves latent-search least to find (benchmarks/audit.py).
HARDENED = "redact-classifier (harden=128, steps=600)"
# (row name, method, options)
METHOD_ROWS = [
    ("redact-classifier", "redact-classifier", {}),
    (HARDENED, "redact-classifier", {"harden": 128, "steps": 600}),
    ("redact-classifier (data-free)", "redact-classifier", {"real": "generator"}),
    ("redact-validity", "redact-validity", {}),
    ("redact-samples", "redact-samples", {}),
    ("finetune-valid", "finetune-valid", {}),
    ("reject", "reject", {}),
    ("adapt-then-unlearn", "adapt-then-unlearn", {}),
    ("adapt-then-unlearn (nl2)", "adapt-then-unlearn", {"repulsion": "nl2"}),
    ("adapt-then-unlearn (paper: el2, raw distance, no negatives as fakes)", "adapt-then-unlearn",
     {"repulsion": "el2", "gamma": 1.0, "distance_norm": "none", "negative_weight": 0.0, "adapt_steps": 300}),
    ("extrapolate (gamma=0.5)", "extrapolate", {"gamma": 0.5}),
    ("extrapolate (gamma=1)", "extrapolate", {"gamma": 1.0}),
    ("extrapolate (gamma=2)", "extrapolate", {"gamma": 2.0}),
    ("extrapolate (gamma=4)", "extrapolate", {"gamma": 4.0}),
]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(MODELS))
    ap.add_argument("--labels", nargs="+", default=None, help="labels for every data set (default: two per data set)")
    ap.add_argument("--methods", nargs="+", default=None, help="row names to run (default: all)")
    ap.add_argument("--n", type=int, default=10000, help="evaluation samples (default 10000)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--retrain-steps", type=int, default=None, help="override the zoo recipe's steps for retrain (smoke runs only)")
    args = ap.parse_args(argv)
    global RESULTS
    RESULTS = for_device(RESULTS, args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    common = {**stamp("gan_redaction.py", args.device, argv), "n": args.n}
    for dataset in args.datasets:
        model = load_model(MODELS[dataset], device=args.device)
        judge = load_classifier(dataset, role="judge", device=args.device)
        for label in args.labels or DEFAULT_LABELS[dataset]:
            target = parse_target(f"label={label}", model)
            labels = target.labels
            name = target.classifier.class_names[labels[0]]
            print(f"== {dataset} / {name}", flush=True)

            def judged(m: torch.nn.Module, labels: tuple[int, ...] = labels, judge: torch.nn.Module = judge) -> dict:
                return evaluate(m, labels=labels, judge=judge, n=args.n, seed=1234, keep_features=True)

            base = judged(model)
            ropts = {} if args.retrain_steps is None else {"steps": args.retrain_steps}
            retrained, rlog = redact(model, target, "retrain", seed=args.seed, device=args.device, progress=False, **ropts)
            retrain_wall = rlog["wall_s"]
            rows = [("pretrained", base, {"steps": 0, "wall_s": 0.0, "peak_mem_mb": 0.0}, {})]
            rows.append(("retrain", judged(retrained), rlog, {}))
            retrain_feats = rows[-1][1]["features"]
            for row, method, opts in METHOD_ROWS:
                if args.methods and row not in args.methods:
                    continue
                print(f"   running {row} ...", flush=True)
                edited, log = redact(model, target, method, seed=args.seed, device=args.device, progress=False, **opts)
                rows.append((row, judged(edited), log, opts))
            new = []
            for row, res, log, opts in rows:
                rec = {
                    "method": row, "dataset": dataset, "label": name,
                    "residual_rate": res["residual_rate"], "residual_upper95": res["residual_upper95"],
                    "fid": res["fid"], "kid": res["kid"], "precision": res["precision"], "recall": res["recall"],
                    "ret_fid": fid(res["features"], retrain_feats),
                    "wall_s": log["wall_s"], "steps": log["steps"], "peak_mem_mb": log["peak_mem_mb"],
                    "retrain_wall_s": retrain_wall, "options": opts, **common,
                }
                for key in ("acceptance_rate", "sampling_overhead", "stage1", "stage2"):
                    if key in log:
                        rec[key] = {k: v for k, v in log[key].items() if k != "history"} if isinstance(log[key], dict) else log[key]
                if log.get("method") in ("adapt-then-unlearn", "extrapolate"):
                    cfg = log["config"]
                    rec.update(n_negatives=cfg.get("n_negatives"), k_adapted=cfg.get("k_adapted"), repulsion=cfg.get("repulsion"), gamma=cfg.get("gamma"))
                print(f"   {row:30s} residual {rec['residual_rate']:.4f} (<= {rec['residual_upper95']:.4f})  FID {rec['fid']:.2f}  "
                      f"P {rec['precision']:.3f} R {rec['recall']:.3f}  {rec['wall_s']:.1f}s / retrain {retrain_wall:.1f}s", flush=True)
                new.append(rec)
            save(new)
    print(f"wrote {RESULTS} and {HERE / 'RESULTS.md'}")


def save(new: list[dict]) -> None:
    merge_records(RESULTS, "gan_redaction", new, lambda r: (r["dataset"], r["label"], r["method"]), then=write_tables)


def write_tables(records: list[dict]) -> None:
    devices = sorted({r["device"] for r in records})
    commands = sorted({r["command"] for r in records})
    body = "\n".join([
        f"## {heading('GAN redaction', RESULTS)} (`benchmarks/gan_redaction.py`)",
        "",
        f"Device: {', '.join(devices)}. Commands: {'; '.join(f'`{c}`' for c in commands)}. "
        f"Residual rate and quality under the independent evaluation judge, {records[0]['n']} samples per model; FID/KID/precision/recall "
        "in the judge's feature space against the test set without the redacted class; Ret-FID is the FID between the method's samples and the "
        "`retrain` model's samples (same features). Wall time covers the whole method (pools and training); "
        "`retrain` is measured on the same device in the same run. `reject` changes no weight: its wall time is the measurement of its "
        "sampling overhead, and its real cost is paid at every sampling call (`acceptance_rate`, `sampling_overhead` in the JSON). "
        + ("" if on_gpu(RESULTS) else "The 2026-11-23 rows ran as two processes (one per data set) on a 2-core machine that other jobs shared at times, so wall times "
        "move with the load: the Sandal and MNIST 7 method rows ran under heavier load than their retrains, the Trouser and MNIST 3 rows under lighter."),
        "",
        table(records),
    ])
    replace_block(HERE / "RESULTS.md", RESULTS.stem, body)
    if not on_gpu(RESULTS):
        replace_block(ROOT / "README.md", "gan_redaction", body.replace("## GAN redaction", "### GAN redaction"))


def table(records: list[dict]) -> str:
    lines = [
        "| data set | class | method | residual rate | 95% upper | FID | Ret-FID | KID | precision | recall | wall s | steps | peak MB | retrain wall s | wall / retrain |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(records, key=lambda r: (r["dataset"], r["label"])):
        ratio = r["wall_s"] / r["retrain_wall_s"] if r["retrain_wall_s"] else 0.0
        lines.append(
            f"| {r['dataset']} | {r['label']} | {r['method']} | {r['residual_rate']:.4f} | {r['residual_upper95']:.4f} | {r['fid']:.2f} | {r['ret_fid']:.2f} | {r['kid']:.4f} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} | {r['wall_s']:.1f} | {r['steps']} | {r['peak_mem_mb']:.0f} | {r['retrain_wall_s']:.1f} | {100 * ratio:.1f}% |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
