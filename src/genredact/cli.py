"""The `genredact` command line: a thin layer over the library (no logic of its own)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

DESCRIPTION = """Post-edit a pre-trained generative model so it stops producing a described kind of output,
keep the quality of the rest, and measure both under an independent judge.

  genredact demo                                   redact a class from the shipped Fashion-MNIST GAN
  genredact redact fashion-dcgan --target label=Sandal --out runs/sandal
  genredact redact mnist-flow --method taming --target indices=0,1,2,3,4 --out runs/forget5
  genredact eval runs/sandal/model --target label=Sandal
  genredact sample fashion-dcgan --n 16 --seed 0 --out x.npz --grid x.png
  genredact list methods | models
  genredact zoo train fashion-dcgan
"""


def _sets(pairs: Sequence[str]) -> dict[str, Any]:
    from genredact.errors import GenredactError

    out: dict[str, Any] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise GenredactError(f"--set {p!r} must look like key=value, e.g. --set steps=200")
        out[key.strip().removeprefix("method.")] = value
    return out


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a zoo name (see `genredact list models`) or a genredact model folder")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genredact", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="redact one class from the shipped Fashion-MNIST GAN and show before/after",
                       description="Take the shipped pre-trained GAN, redact one class, print a before/after table and write a run folder with sample grids and a report.")
    p.add_argument("--model", default="fashion-dcgan", help="zoo GAN to redact (default: fashion-dcgan)")
    p.add_argument("--label", default="Sandal", help="class to redact, by name or number (default: Sandal)")
    p.add_argument("--method", default="redact-classifier", help="redaction method (default: redact-classifier)")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the method's)")
    p.add_argument("--n", type=int, default=10000, help="samples for evaluation (default: 10000)")
    p.add_argument("--out", default=None, help="run folder (default: runs/demo, numbered if it exists)")
    p.add_argument("--seed", type=int, default=0)
    _add_common(p)

    p = sub.add_parser("redact", help="redact a target from a model and write a run folder",
                       description="Redact TARGET from MODEL with METHOD and write a run folder (model/, metrics.jsonl, samples/, report.md).")
    _add_model(p)
    p.add_argument("--target", required=True, help="label=NAME|NUMBER[,..] (the zoo's redaction classifier), samples=DIR, validity=package.module:function; flows also indices=I,J,.. (train images) and mix=CLASS:SHARE,..")
    p.add_argument("--method", default=None, help="method name (see `genredact list methods`; default per family: redact-classifier for GANs, taming for flows)")
    p.add_argument("--out", required=True, help="run folder to create (must not exist)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="method option, e.g. --set steps=200 --set real=generator (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the method's random draws (default: 0)")
    p.add_argument("--n-eval", type=int, default=10000, help="samples for the before/after evaluation (default: 10000)")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation (e.g. for targets without labels)")
    p.add_argument("--classifier", default=None, help="classifier folder or zoo name for label= and mix= targets (default, for the model's data set: the zoo's LeNet "
                   "redaction classifier for label=, and for mix= the zoo's ensemble, fashion-classifier-ensemble or mnist-classifier-ensemble, whose count of a flow's "
                   "samples is closest to the judge's)")
    p.add_argument("--data", default=None, help="training data for the real-data variant: fashion-mnist, mnist, or a folder of IDX files / class sub-folders (default: the model's own data set)")
    p.add_argument("--retrain", default=None, help="a model trained without the target (folder or zoo name) to evaluate on the same latents, for deltas in the report")
    _resume_args(p, "the run")
    _precision_arg(p)
    _add_common(p)

    p = sub.add_parser("eval", help="measure residual rate and quality of a model under the independent judge",
                       description="Sample MODEL and report the residual rate of the TARGET's labels (with a one-sided 95% Clopper-Pearson bound) and FID/KID/precision/recall in the judge's feature space.")
    _add_model(p)
    p.add_argument("--target", required=True, help="label=NAME|NUMBER[,..]: the classes whose residual rate is measured")
    p.add_argument("--n", type=int, default=10000, help="number of samples (default: 10000)")
    p.add_argument("--seed", type=int, default=1234, help="seed of the sample latents (default: 1234)")
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    p.add_argument("--judge", default=None, help="judge classifier: a zoo name or folder (default: the zoo's evaluation judge for the model's data set)")
    p.add_argument("--certify", type=float, default=None, metavar="EPS",
                   help="instead of a fixed n, sample until the residual rate is certified below EPS (or shown above it) by a sequential "
                        "Clopper-Pearson rule with a Bonferroni split over looks at n, 2n, 4n, ... (the rule is printed)")
    p.add_argument("--max-n", type=int, default=1_000_000, help="with --certify: the most samples drawn (default: 1000000)")
    _resume_args(p, "the evaluation (needs --json)")
    _precision_arg(p)
    _add_common(p)

    p = sub.add_parser("audit", help="try to recover the redacted content from a run's model (attacks)",
                       description="Run recovery attacks on the model of a run folder, with the same budget and seed on its pre-trained parent "
                                   "(and on a retrain model with --retrain), and write RUN/audit/<attack>.json plus grids. GAN attacks: latent-search "
                                   "(optimise latents, steered by the redaction classifier, until the judge sees the class), inversion (reproduce held-out "
                                   "images of the class), relearn (fine-tune on a few images of the class; steps until half the pre-trained residual rate "
                                   "is back). Flow: likelihood-membership (AUC of telling the forget images from unseen ones by BPD). Image-to-image: "
                                   "i2i-leak (judge accuracy of completions of the class under many masks, worst case).")
    p.add_argument("run", help="a run folder written by `genredact redact` or `genredact demo`")
    p.add_argument("--attack", action="append", default=None, metavar="NAME", help="attack to run (repeatable; default: every attack of the model's family)")
    p.add_argument("--budget", type=int, default=None, help="the attack budget: latent-search and inversion steps, relearn's most steps, images scored by likelihood-membership and i2i-leak")
    p.add_argument("--retrain", default=None, help="a retrain model (folder or zoo name) to attack as well, as the yardstick")
    p.add_argument("--set", action="append", default=[], metavar="ATTACK.KEY=VALUE", help="attack option, e.g. --set latent-search.restarts=512")
    p.add_argument("--seed", type=int, default=0, help="seed of every attack's draws (default: 0)")
    _add_common(p)

    p = sub.add_parser("report", help="write report.html and report.md for a run folder",
                       description="Write RUN/report.html (self-contained: images embedded) and RUN/report.md from the run folder's files alone: "
                                   "target, method and configuration, metrics with bounds and deltas vs the pre-trained (and retrain) model, "
                                   "sample grids, cost, audit results and provenance. Nothing is recomputed.")
    p.add_argument("run", help="a run folder written by `genredact redact` or `genredact demo`")

    p = sub.add_parser("sweep", help="run a small grid of method options and plot residual rate vs FID",
                       description="Re-run the redaction of RUN_CONFIG (a run folder or its config.json) for every combination of the --param "
                                   "values, write each point as a run folder under OUT, and plot residual rate against FID (OUT/sweep.png), "
                                   "marking the points that meet --max-residual (on the 95%% upper bound) and --max-fid.")
    p.add_argument("run_config", help="a run folder or a run config.json (model, target, method, config, seed)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...", help="method option and its values, e.g. --param method.lam=0.3,0.5,0.7 (repeatable: the grid is their product)")
    p.add_argument("--out", required=True, help="folder to create for the sweep (must not exist)")
    p.add_argument("--max-residual", type=float, default=None, help="residual bound a point must meet (its 95%% upper bound), e.g. 0.01")
    p.add_argument("--max-fid", type=float, default=None, help="quality budget a point must meet (FID at most this)")
    p.add_argument("--n-eval", type=int, default=None, help="samples per evaluation (default: the base config's n_eval)")
    _add_common(p)

    p = sub.add_parser("import", help="convert a foreign checkpoint (.pt/.pth state dict or .safetensors) into a model folder",
                       description="Read FILE's tensors (PyTorch files with torch.load(weights_only=True): a pickle that needs code is refused), "
                                   "check every tensor's name and shape against --family/--arch and write a genredact model folder at --out. "
                                   "Architectures: gan/dcgan (options z_dim, width, channels, discriminator=true|false, dataset, class_names=a,b,...).")
    p.add_argument("file", help="a .pt, .pth, .bin, .ckpt (state dict) or .safetensors file")
    p.add_argument("--family", required=True, help="model family: gan, flow or inpainter")
    p.add_argument("--arch", required=True, help="architecture of that family: dcgan (gan), glow (flow), conv or mae (inpainter)")
    p.add_argument("--out", required=True, help="model folder to create (must not exist)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="architecture option, e.g. --set z_dim=64 --set width=32")

    p = sub.add_parser("plan", help="how many samples a residual-rate bound needs",
                       description="Print how many samples it takes to certify that the residual rate is below BOUND (one-sided exact "
                                   "Clopper-Pearson bound) when the observed rate is RATE: with one fixed-size test, and with the sequential rule of `eval --certify`.")
    p.add_argument("--bound", type=float, required=True, help="the rate to certify, e.g. 0.005")
    p.add_argument("--rate", type=float, required=True, help="the observed (or expected) residual rate, e.g. 0.002")
    p.add_argument("--confidence", type=float, default=0.95, help="one-sided confidence (default: 0.95)")
    p.add_argument("--n0", type=int, default=1000, help="first look of the sequential rule (default: 1000, as `eval --certify`)")
    p.add_argument("--max-n", type=int, default=1_000_000, help="last look of the sequential rule (default: 1000000)")

    p = sub.add_parser("sample", help="draw samples from a model into an .npz (and a PNG grid)",
                       description="Draw N samples and save them as a uint8 array `x` of shape (N, H, W) for 1-channel models, (N, C, H, W) otherwise.")
    _add_model(p)
    p.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latents (default: 0)")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--grid", default=None, help="also write a PNG grid here")
    p.add_argument("--temperature", type=float, default=1.0, help="flows only: scale of the latent (e.g. 0.7 for sharper samples; default 1.0)")
    _add_common(p)

    p = sub.add_parser("list", help="list methods or zoo models", description="List registered methods or zoo models.")
    p.add_argument("what", choices=["methods", "models"], help="what to list")

    p = sub.add_parser("zoo", help="train the zoo's models", description="Train a zoo model with its committed recipe and write its weights and model card.")
    zsub = p.add_subparsers(dest="zoo_command", metavar="ZOO_COMMAND")
    zt = zsub.add_parser("train", help="train one zoo model", description="Train zoo model NAME (see `genredact list models`).")
    zt.add_argument("name", help="zoo model name")
    zt.add_argument("--out", default=None, help="folder to write (default: the package's shipped weights folder)")
    zt.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe override, e.g. --set steps=100")
    _resume_args(zt, "the training")
    _add_common(zt)
    return parser


def _print_table(before: dict[str, Any], after: dict[str, Any], name: str) -> None:
    from genredact.report import metrics_table

    print(metrics_table(before, after, after_name=name))


def _precision_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16: training steps and evaluation forward passes under bf16 autocast (faster on hardware with bf16 units; default fp32)")


def _resume_args(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--resume", action="store_true",
                   help=f"continue {what} from the checkpoints an interrupted run of the same command left (same result as an uninterrupted run)")
    p.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS", help="seconds between checkpoints (default: 60; 0: every step)")


def cmd_demo(args: argparse.Namespace) -> int:
    from genredact.run import run_redaction

    out = Path(args.out) if args.out else _numbered(Path("runs") / "demo")
    config = {} if args.steps is None else {"steps": args.steps}
    res = run_redaction(args.model, f"label={args.label}", out=out, method=args.method, config=config, seed=args.seed,
                        n_eval=args.n, device=args.device, progress=not args.quiet)
    _print_table(res["before"], {**res["after"], **res["summary"]}, "after")
    print(f"\nrun folder: {out}\n  report:  {out / 'report.md'}\n  grids:   {out / 'samples' / 'before.png'}, {out / 'samples' / 'after.png'}\n  model:   {out / 'model'}")
    return 0


def _numbered(base: Path) -> Path:
    if not base.exists():
        return base
    i = 2
    while base.with_name(f"{base.name}-{i}").exists():
        i += 1
    return base.with_name(f"{base.name}-{i}")


def cmd_redact(args: argparse.Namespace) -> int:
    from genredact.run import run_redaction

    res = run_redaction(args.model, args.target, out=args.out, method=args.method, config=_sets(args.set), seed=args.seed,
                        n_eval=args.n_eval, device=args.device, progress=not args.quiet, evaluate_models=not args.no_eval,
                        classifier=args.classifier, data=args.data, retrain=args.retrain, resume=args.resume, checkpoint_every=args.checkpoint_every,
                        precision=args.precision)
    if res["before"] is not None:
        _print_table(res["before"], {**res["after"], **res["summary"]}, "after")
    if res.get("table"):
        print(res["table"])
    print(f"run folder: {res['out']}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from genredact.engine.precision import precision

    with precision(args.precision):
        return _evaluate_command(args)


def _evaluate_command(args: argparse.Namespace) -> int:
    import sys

    from genredact.api import resolve_model
    from genredact.errors import GenredactError
    from genredact.evaluation import certify_residual, evaluate
    from genredact.targets import parse_target
    from genredact.zoo import classifier_name

    model = resolve_model(args.model, args.device)
    target = parse_target(args.target, model)
    if target.labels is None:
        raise GenredactError("eval measures classes under the judge: give --target label=NAME")
    dataset = getattr(model, "dataset", None)
    judge_ref = args.judge or (classifier_name(dataset, "judge") if dataset else None)
    if judge_ref is None:
        raise GenredactError("the model does not name its data set, so there is no default judge; pass --judge FOLDER")
    judge = resolve_model(judge_ref, args.device)
    if getattr(judge, "family", None) != "classifier":
        raise GenredactError(f"--judge {judge_ref} is not a classifier; give a classifier folder or a zoo judge such as {classifier_name(dataset, 'judge') if dataset else 'fashion-judge'}")
    used = _redaction_classifier(args.model)
    independent = getattr(judge, "role", "judge") == "judge" and str(judge_ref) not in used
    label = f"judge {judge_ref}" + ("" if independent else " (NOT independent: a classifier used for redaction)")
    if not independent:
        print(f"warning: {judge_ref} is a redaction classifier" + (f" that this model was redacted with ({', '.join(sorted(used))})" if used else "")
              + "; its verdict is not an independent measurement, use the zoo's evaluation judge", file=sys.stderr)
    if args.certify is not None:
        if args.resume:
            raise GenredactError("--resume applies to a plain evaluation, not to --certify (a certificate restarts; its looks are cheap next to a full run)")
        cert = certify_residual(model, labels=target.labels, eps=args.certify, judge=judge, seed=args.seed, max_n=args.max_n, progress=not args.quiet)
        print(f"{label}\nrule: {cert.rule}")
        print(f"decision: {cert.decision} (residual rate {'<' if cert.decision == 'certified' else '>' if cert.decision == 'refuted' else '?'} {cert.eps:g})")
        print(f"n {cert.n}, flagged {cert.k}, rate {cert.rate:.5f}, upper bound {cert.upper:.5f} and lower bound {cert.lower:.5f} "
              f"at level {cert.look_confidence:.5f}, {cert.looks_used} of {len(cert.looks)} looks")
        res = {**cert.to_json(), "judge": str(judge_ref), "judge_independent": independent}
    else:
        if args.json:  # resumable: the checkpoints are kept beside the JSON file
            from genredact.engine.resume import resumable

            fingerprint = {"command": "eval", "model": str(args.model), "target": args.target, "n": args.n, "seed": args.seed, "judge": str(judge_ref)}
            with resumable(Path(args.json), resume=args.resume, fingerprint=fingerprint, every_s=args.checkpoint_every):
                res = evaluate(model, labels=target.labels, judge=judge, n=args.n, seed=args.seed)
        elif args.resume:
            raise GenredactError("--resume needs --json FILE: the evaluation's checkpoints are kept beside that file")
        else:
            res = evaluate(model, labels=target.labels, judge=judge, n=args.n, seed=args.seed)
        res.update(judge=str(judge_ref), judge_independent=independent)
        print(label)
        for key in ("n", "residual_rate", "residual_upper95", "fid", "kid", "precision", "recall"):
            print(f"{key:18s} {res[key]:.4f}" if isinstance(res[key], float) else f"{key:18s} {res[key]}")
    from genredact.engine.dist import is_main

    if args.json and is_main():
        from genredact.checkpoint import write_json_atomic

        write_json_atomic(args.json, res)
    return 0


def _redaction_classifier(model_ref: str) -> set[str]:
    """The classifier names a model folder's redaction.json says the redaction used (empty for base models)."""
    import json

    from genredact.zoo import resolve_model_path

    path = resolve_model_path(model_ref) / "redaction.json"
    if not path.is_file():
        return set()
    target = json.loads(path.read_text()).get("target", {})
    return {str(target["classifier"])} if target.get("classifier") else set()


def cmd_audit(args: argparse.Namespace) -> int:
    from genredact.audit import audit_run
    from genredact.errors import GenredactError

    configs: dict[str, dict[str, Any]] = {}
    for key, value in _sets(args.set).items():
        attack, dot, option = key.partition(".")
        if not dot or not option:
            raise GenredactError(f"--set {key}=... must name the attack and the option, e.g. --set latent-search.restarts=512")
        configs.setdefault(attack, {})[option] = value
    res = audit_run(args.run, attacks=args.attack, budget=args.budget, retrain=args.retrain, configs=configs, seed=args.seed, device=args.device, progress=not args.quiet)
    for name, rec in res.items():
        figs = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items() if k != "attack")
        print(f"{name}: {figs}")
    print(f"wrote {Path(args.run) / 'audit'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from genredact.report.html import write_html_report

    path = write_html_report(args.run)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB) and {path.with_name('report.md')}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from genredact.sweep import sweep

    rec = sweep(args.run_config, args.param, out=args.out, max_residual=args.max_residual, max_fid=args.max_fid, n_eval=args.n_eval, device=args.device, progress=not args.quiet)
    print("| point | options | residual rate | 95% upper | FID | meets |\n|---|---|---:|---:|---:|:---:|")
    for p in rec["points"]:
        print(f"| {p['point']} | {p['options']} | {p['residual_rate']:.4f} | {p['residual_upper95']:.4f} | {p['fid']:.3f} | {'yes' if p['meets'] else 'no'} |")
    print(f"wrote {Path(args.out) / 'sweep.json'} and {Path(args.out) / 'sweep.png'}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from genredact.importer import import_checkpoint

    options = {k: {"true": True, "false": False}.get(v.lower(), _num(v)) for k, v in _sets(args.set).items()}
    path = import_checkpoint(args.file, family=args.family, arch=args.arch, out=args.out, options=options)
    print(f"wrote {path}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from genredact.errors import GenredactError
    from genredact.metrics.certify import plan

    try:
        res = plan(args.rate, args.bound, confidence=args.confidence, n0=args.n0, max_n=args.max_n)
    except ValueError as exc:
        raise GenredactError(str(exc)) from None
    print(f"to certify a residual rate below {args.bound:g} at {args.confidence:g} confidence when the observed rate is {args.rate:g}:")
    print(f"  one fixed-size test: n = {res['single_test_n']}")
    seq = res["sequential_n"]
    print(f"  sequential rule (eval --certify, looks {res['looks'][0]}..{res['looks'][-1]}, per-look level {res['look_confidence']:.5f}): "
          + (f"n = {seq}" if seq else f"not within {res['looks'][-1]} samples"))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import os

    import numpy as np

    from genredact.api import resolve_model
    from genredact.data import to_uint8
    from genredact.errors import GenredactError
    from genredact.seeding import make_generator

    if args.n < 1:
        raise GenredactError(f"--n must be at least 1, got {args.n}")
    out = Path(args.out)
    if out.suffix != ".npz":
        raise GenredactError(f"--out must end in .npz, got {out}")
    model = resolve_model(args.model, args.device)
    extra = {"temperature": args.temperature} if getattr(model, "family", "") == "flow" else {}
    x = model.sample(args.n, generator=make_generator(args.seed), **extra)
    arr = to_uint8(x)
    if arr.shape[1] == 1:
        arr = arr[:, 0]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.npz")
    np.savez_compressed(tmp, x=arr)
    os.replace(tmp, out)
    print(f"wrote {out} (x: {arr.dtype} {tuple(arr.shape)})")
    if args.grid:
        from genredact.report import save_grid

        print(f"wrote {save_grid(x, args.grid)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "methods":
        from genredact.methods import METHODS

        for name in METHODS.names():
            cls = METHODS.get(name)
            print(f"{name:18s} [{'/'.join(cls.families)}; target: {'|'.join(cls.target_kinds)}] {cls.summary}\n{'':18s} {cls.paper}")
    else:
        from genredact.zoo import WEIGHTS_DIR, ZOO

        width = max(len(name) for name in ZOO)
        for e in ZOO.values():
            shipped = "shipped" if (WEIGHTS_DIR / e.name / "model.safetensors").is_file() else "not trained"
            print(f"{e.name:{width}s} {e.kind:10s} {e.dataset:14s} {shipped:12s} {e.description}")
    return 0


def cmd_zoo(args: argparse.Namespace) -> int:
    from genredact.errors import GenredactError
    from genredact.zoo import train_entry

    if args.zoo_command != "train":
        raise GenredactError("use `genredact zoo train NAME`")
    overrides = {k: _num(v) for k, v in _sets(args.set).items()}
    path = train_entry(args.name, out=args.out, overrides=overrides, progress=not args.quiet, device=args.device, resume=args.resume,
                       checkpoint_every=args.checkpoint_every)
    print(f"wrote {path} (model card: {path / 'MODEL_CARD.md'})")
    return 0


def _num(v: str) -> Any:
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v


COMMANDS = {"demo": cmd_demo, "redact": cmd_redact, "eval": cmd_eval, "sample": cmd_sample, "list": cmd_list, "zoo": cmd_zoo, "plan": cmd_plan, "audit": cmd_audit, "report": cmd_report, "sweep": cmd_sweep, "import": cmd_import}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from genredact import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 0
    from genredact.errors import GenredactError

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under `accelerate launch`: only the main process prints
        from genredact.engine.dist import is_main

        if not is_main():
            sys.stdout = open(os.devnull, "w")
    try:
        return COMMANDS[args.command](args)
    except GenredactError as exc:
        print(f"genredact: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genredact: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
