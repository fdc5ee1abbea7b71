"""Benchmark: recovery attacks against each redaction method of a family, next to the same attacks
against the pre-trained model and the `retrain` model, with the same budget and seed, on one device in one run.

    python benchmarks/audit.py                                        # GANs: Fashion-MNIST Sandal and MNIST 7
    python benchmarks/audit.py --datasets mnist --labels 7 --methods redact-classifier --retrain-steps 2000
    python benchmarks/audit.py --datasets mnist --labels 7 --methods "redact-classifier (harden=128, steps=600)"
    python benchmarks/audit.py --family flow --datasets mnist --retrain-steps 600
    python benchmarks/audit.py --family inpainter --datasets fashion-mnist

Writes benchmarks/results/audit.json (one record per family x data set x label x method x attack, merged)
and the table in benchmarks/RESULTS.md. With --retrain-steps the retrain yardstick is shorter than the zoo
recipe; its records say so (`retrain_steps`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from genredact.api import redact
from genredact.audit import audit, summary_record
from genredact.data import load_dataset
from genredact.evaluation import evaluate
from genredact.targets import parse_target
from genredact.zoo import load_classifier, load_model

sys.path.insert(0, str(Path(__file__).parent))
from _results import stamp, HERE, for_device, heading, replace_block, merge_records  # noqa: E402
from gan_redaction import HARDENED, METHOD_ROWS, MODELS  # noqa: E402

RESULTS = HERE / "results" / "audit.json"
DEFAULT_LABELS = {"fashion-mnist": ["Sandal"], "mnist": ["7"]}
FAMILY_MODELS = {"gan": MODELS, "flow": {"fashion-mnist": "fashion-flow", "mnist": "mnist-flow"},
                 "inpainter": {"fashion-mnist": "fashion-inpainter-conv", "mnist": "mnist-inpainter-conv"}}
# GAN rows may name a row of benchmarks/gan_redaction.py (a method with options), e.g. the hardened redact-classifier.
ROW_OPTIONS = {row: (method, opts) for row, method, opts in METHOD_ROWS}
# Every GAN method (reject changes no weight: the attacks work on its generator, which anyone holding
# the weights can sample without the filter). Every flow and image-to-image method.
DEFAULT_METHODS = {"gan": ["redact-classifier", HARDENED, "redact-validity", "redact-samples", "finetune-valid", "adapt-then-unlearn",
                           "extrapolate (gamma=1)", "reject"],
                   "flow": ["taming", "likelihood-ascent", "finetune-valid"], "inpainter": ["encoder-unlearn", "max-loss", "noisy-label", "retain-label", "random-encoder"]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="gan", choices=list(FAMILY_MODELS))
    ap.add_argument("--datasets", nargs="+", default=list(MODELS))
    ap.add_argument("--labels", nargs="+", default=None)
    ap.add_argument("--methods", nargs="+", default=None, help="default: the family's methods")
    ap.add_argument("--attacks", nargs="+", default=None, help="default: the family's attacks (genredact.audit.DEFAULT_ATTACKS)")
    ap.add_argument("--budget", type=int, default=None, help="steps per attack (default: each attack's default)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--retrain-steps", type=int, default=None, help="shorter retrain yardstick than the zoo recipe (recorded)")
    ap.add_argument("--eval-n", type=int, default=5000, help="samples for the redaction figures (residual rate, FID) beside the audit")
    ap.add_argument("--dry-run", action="store_true", help="print the records, write nothing (smoke runs)")
    args = ap.parse_args(argv)
    global RESULTS
    RESULTS = for_device(RESULTS, args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    from genredact.audit import DEFAULT_ATTACKS

    attacks = args.attacks or DEFAULT_ATTACKS[args.family]
    common = {"family": args.family, **stamp("audit.py", args.device, argv)}
    for dataset in args.datasets:
        model = load_model(FAMILY_MODELS[args.family][dataset], device=args.device)
        judge = load_classifier(dataset, role="judge", device=args.device)
        guide = load_classifier(dataset, role="redaction", device=args.device)  # what optimising attacks steer by
        heldout = load_dataset(dataset, "test")
        for label in args.labels or DEFAULT_LABELS[dataset]:
            target = parse_target(f"label={label}", model)
            name = target.classifier.class_names[target.labels[0]]
            print(f"== {dataset} / {name}", flush=True)
            ropts = {} if args.retrain_steps is None else {"steps": args.retrain_steps}
            retrained, rlog = redact(model, target, "retrain", seed=args.seed, device=args.device, progress=False, **ropts)
            reference = {"pretrained": model, "retrain": retrained}
            pre = redaction_figures(model, target, judge, args.eval_n, prefix="pretrained_")
            new = []
            for row in args.methods or DEFAULT_METHODS[args.family]:
                print(f"   {row}: redacting ...", flush=True)
                method, opts = ROW_OPTIONS.get(row, (row, {}))
                edited, log = redact(model, target, method, seed=args.seed, device=args.device, progress=False, **opts)
                figs = {**pre, **redaction_figures(edited, target, judge, args.eval_n)}
                res = audit(edited, labels=target.labels, attacks=attacks, reference=reference, judge=judge, heldout=heldout, guide=guide,
                            budget=args.budget, seed=args.seed, device=args.device, progress=False)
                for attack, result in res.items():
                    rec = {**common, "dataset": dataset, "label": name, "method": row, "options": opts, **summary_record(attack, result),
                           "redaction_wall_s": log["wall_s"], "retrain_steps": rlog["steps"], "retrain_wall_s": rlog["wall_s"], **figs}
                    print(f"   {row:20s} {attack:14s} " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items()
                                                                  if k.endswith(("success_rate", "relearn_steps", "pixel_mse", "judge_acc", "auc", "max_forget_acc"))), flush=True)
                    new.append(rec)
            if not args.dry_run:
                save(new)
    if args.dry_run:
        print(tables(new))
        return
    print(f"wrote {RESULTS} and {HERE / 'RESULTS.md'}")


def redaction_figures(model: torch.nn.Module, target: object, judge: torch.nn.Module, n: int, prefix: str = "") -> dict[str, float]:
    """The redaction's own figures under the evaluation judge, for GANs and flows (flows sampled at the
    evaluation temperature): residual rate with its 95% upper bound, and FID. Image-to-image models have
    theirs in the i2i-leak rows (the judge's accuracy on completions of the class)."""
    family = getattr(model, "family", "")
    if family not in ("gan", "flow"):
        return {}
    samples = None
    if family == "flow":
        from genredact.flow_evaluation import EVAL_TEMPERATURE

        samples = model.sample(n, generator=torch.Generator().manual_seed(1234), temperature=EVAL_TEMPERATURE)
    res = evaluate(model, labels=target.labels, judge=judge, n=n, samples=samples)
    return {f"{prefix}residual_rate": res["residual_rate"], f"{prefix}residual_upper95": res["residual_upper95"], f"{prefix}fid": res["fid"],
            "eval_n": n}


def save(new: list[dict]) -> None:
    merge_records(RESULTS, "audit", new, lambda r: (r["family"], r["dataset"], r["label"], r["method"], r["attack"]),
                  then=lambda records: replace_block(HERE / "RESULTS.md", RESULTS.stem, tables(records)))


def _f(v: object) -> str:
    if v is None:
        return "not within budget"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def red(r: dict | None) -> str:
    """The redaction's residual rate (upper bound) / the pre-trained model's, where measured."""
    if not r or r.get("residual_rate") is None:
        return "-"
    return f"{r['residual_rate']:.4f} ({r['residual_upper95']:.4f}) / {r['pretrained_residual_rate']:.4f}"


def fid(r: dict | None) -> str:
    return "-" if not r or r.get("fid") is None else f"{r['fid']:.2f} / {r['pretrained_fid']:.2f}"


def tables(records: list[dict]) -> str:
    devices = sorted({r["device"] for r in records})
    commands = sorted({r["command"] for r in records})
    out = [
        f"## {heading('Audit: can the redacted class be recovered?', RESULTS)} (`benchmarks/audit.py`)",
        "",
        f"Device: {', '.join(devices)}. Commands: {'; '.join(f'`{c}`' for c in commands)}. Every attack runs with the same budget and seed on the "
        "redacted model, the pre-trained model and the `retrain` model (trained without the class; its steps are in the JSON). "
        "latent-search: share of restarts whose find the judge calls the class with confidence >= 0.9 *and* that lies on the real class's k-NN manifold "
        "(judge features); the search is steered by the judge itself (rows marked judge, the first version) or by the redaction classifier, the judge "
        "deciding success (rows marked redaction). relearn: fine-tuning steps on 10 held-out images of the class until the residual rate is back at half the pre-trained "
        "model's. inversion: pixel MSE of the best reconstruction of held-out images of the class, and the judge's accuracy on those reconstructions. "
        "`reject` changes no weight: latent-search and inversion attack its generator (what anyone holding the weights samples without the filter), "
        "while relearn counts the residual of samples drawn through its filter.",
        "",
        "| data set | class | method | residual (95% upper) / pre-trained | FID / pre-trained | latent-search success (95% upper) | pre-trained | retrain | steered by | relearn steps | retrain relearn steps | inversion MSE class / pre-trained / retrain | judge acc on inversions (class) |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    groups: dict[tuple, dict[str, dict]] = {}
    for r in records:
        if r.get("family", "gan") == "gan":
            groups.setdefault((r["dataset"], r["label"], r["method"]), {})[r["attack"]] = r
    for (dataset, label, method), by in sorted(groups.items()):
        ls, rl, inv = by.get("latent-search"), by.get("relearn"), by.get("inversion")

        def c(rec: dict | None, key: str) -> str:
            return "-" if rec is None else _f(rec.get(key))

        any_rec = ls or rl or inv
        out.append(
            f"| {dataset} | {label} | {method} | {red(any_rec)} | {fid(any_rec)} | {c(ls, 'success_rate')} ({c(ls, 'success_upper95')}) | {c(ls, 'base_success_rate')} | "
            f"{c(ls, 'retrain_success_rate')} | {c(ls, 'guide') if ls and ls.get('guide') else 'judge'} | {c(rl, 'relearn_steps')} | {c(rl, 'retrain_relearn_steps')} | "
            f"{c(inv, 'target_pixel_mse')} / {c(inv, 'base_target_pixel_mse')} / {c(inv, 'retrain_target_pixel_mse')} | {c(inv, 'target_judge_acc')} |"
        )
    other = [r for r in records if r.get("family", "gan") != "gan"]
    if other:
        out += ["", "Flows and inpainters: likelihood-membership AUC (forget vs unseen images of the class, by BPD; 0.5 = indistinguishable), "
                "i2i-leak (the judge's accuracy on completions of held-out class images, worst mask), latent-search and relearn as above.", "",
                "| family | data set | class | method | residual (95% upper) / pre-trained | FID / pre-trained | attack | redacted | pre-trained | retrain |",
                "|---|---|---|---|---:|---:|---|---:|---:|---:|"]
        key = {"latent-search": "success_rate", "likelihood-membership": "auc", "i2i-leak": "max_forget_acc", "relearn": "relearn_steps"}
        for r in sorted(other, key=lambda r: (r["family"], r["dataset"], r["label"], r["method"], r["attack"])):
            k = key.get(r["attack"], "success_rate")
            out.append(f"| {r['family']} | {r['dataset']} | {r['label']} | {r['method']} | {red(r)} | {fid(r)} | {r['attack']} ({k}) | {_f(r.get(k))} | "
                       f"{_f(r.get('base_' + k))} | {_f(r.get('retrain_' + k))} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
