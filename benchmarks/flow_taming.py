"""Benchmark: Taming and its baselines on the zoo flows (Fashion-MNIST and MNIST), in one run on one
device, next to `retrain` measured in the same run.

Modes (per data set):
- images: forget 1, 5 and 15 training images of one class (given as train indices);
- class:  forget every training image of that class;
- debias: reach a target class mix of the samples (measured by the independent evaluation judge).
Rows: taming everywhere; taming without the remember term (alpha = 1) and likelihood-ascent for the
--baseline-sizes image sets; taming without the remember term, finetune-valid (likelihood on the
remember set, same stopping rule as taming's class mode) and retrain for the class.

    python benchmarks/flow_taming.py --threads 1                              # everything
    python benchmarks/flow_taming.py --datasets mnist --modes images --sizes 5  # one slice

`retrain` trains the zoo recipe from scratch on the data without the class. With --retrain-steps below
the recipe's, its wall time is measured for those steps and scaled to the recipe's steps by the measured
time per step of its training loop, with its set-up time (data, model) counted once (`retrain_wall_s`;
the measured figures are kept as `retrain_measured_*`).

Writes benchmarks/results/flow_taming.json (records merged by dataset/mode/n_forget/method) and the table
in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from genredact.api import redact
from genredact.data import load_dataset
from genredact.flow_evaluation import EVAL_TEMPERATURE, evaluate_flow
from genredact.targets import parse_target
from genredact.zoo import DATASET_PREFIX, load_classifier, load_model
from genredact.zoo.flow_recipes import FlowRecipe

sys.path.insert(0, str(Path(__file__).parent))
from _results import stamp, HERE, for_device, heading, replace_block, merge_records  # noqa: E402

RESULTS = HERE / "results" / "flow_taming.json"
MODELS = {"fashion-mnist": "fashion-flow", "mnist": "mnist-flow"}
LABEL = {"fashion-mnist": "Sandal", "mnist": "7"}
MIX = {"fashion-mnist": "Sandal:0.3", "mnist": "7:0.3"}


def even_mix(class_names: list[str], label: str, share: float = 0.3) -> str:
    """A mix that names every class: `label` at `share`, the others evenly (4 decimals, summing to 1), so
    the target does not depend on which classifier saw the model's mix before (debias-even mode)."""
    others = [c for c in class_names if c != label]
    each = round((1 - share) / len(others), 4)
    shares = {c: each for c in others}
    shares[others[-1]] = round(1 - share - each * (len(others) - 1), 4)
    shares[label] = share
    return ",".join(f"{c}:{shares[c]:g}" for c in class_names)
# (row name, method, options)
ROWS = [
    ("taming", "taming", {}),
    ("taming (no remember)", "taming", {"remember": False}),
    ("likelihood-ascent", "likelihood-ascent", {}),
]
#: Images mode with stats="batch": mu, sigma and the drift follow the remember batches every step scores
#: anyway (no re-scoring of a statistics pool; forget and remember images in one forward pass).
IMAGES_BATCH_ROW = ("taming (batch statistics)", "taming", {"stats": "batch", "aim_gain": 0.0})
#: Images mode as taming's default was until 2026-12-08 (the pooled statistics, no aiming; records named
#: "taming" until then). For a set of images that fits one forget batch (the 1- and 5-image rows) the default is
#: now the batch statistics with aim_gain 0.1; the 15-image rows are this configuration either way.
IMAGES_POOL_ROW = ("taming (pool statistics)", "taming", {"stats": "pool", "aim_gain": 0.0})
#: ... and each image's target under integral control (aim_gain: aimed past the band's centre while it
#: stays short of it; the remember term's pull otherwise holds an image at the inner band's edge).
IMAGES_AIM_ROW = ("taming (batch statistics, aim_gain=0.1)", "taming", {"stats": "batch", "aim_gain": 0.1})
#: Class mode with the weight moved to the remember term's NLL (found after finetune-valid, plain NLL on
#: the remember set, beat the default taming on Fashion-MNIST's class mode).
CLASS_REMEMBER_ROW = ("taming (alpha=0.1, gamma=0.2)", "taming", {"alpha": 0.1, "gamma": 0.2})
#: The same with half as many steps again (at 1000 steps fashion-flow's Sandal share was 1.08%, still falling).
CLASS_REMEMBER_LONG_ROW = ("taming (alpha=0.1, gamma=0.2, 1500 steps)", "taming", {"alpha": 0.1, "gamma": 0.2, "steps": 1500})
#: The long row with a quarter of each forget batch taken from the model's own samples that the redaction
#: classifier puts in the class (found with benchmarks/class_trace.py: on fashion-flow / Sandal the judge's
#: share went 3.54% -> 0.91% with self_forget 0.25, 1.26% with 0.5; the other classes' test BPD +0.00% / +0.27%).
CLASS_SELF_FORGET_ROW = ("taming (alpha=0.1, gamma=0.2, self_forget=0.25, 1500 steps)", "taming", {**CLASS_REMEMBER_LONG_ROW[2], "self_forget": 0.25})
#: The self_forget row with stats="batch" (the remember batches carry mu, sigma and the drift; no pool re-scoring).
CLASS_SELF_FORGET_BATCH_ROW = ("taming (alpha=0.1, gamma=0.2, self_forget=0.25, 1500 steps, batch statistics)", "taming", {**CLASS_SELF_FORGET_ROW[2], "stats": "batch"})
#: The same with 2500 steps: at 1500 the classifier's share goal (0.5%) was not reached on either data set, and
#: class mode has no time goal, only the share (<= 1% under the judge) and the retain BPD (<= 2%).
CLASS_SELF_FORGET_BATCH_LONG_ROW = ("taming (alpha=0.1, gamma=0.2, self_forget=0.25, 2500 steps, batch statistics)", "taming",
                                    {**CLASS_SELF_FORGET_BATCH_ROW[2], "steps": 2500})
#: And 3500 (at 2500 on fashion-flow the judge's Sandal share was 0.83%, its 95% upper bound 1.03%). Measured
#: 2026-11-24: 0.97% (upper 1.18%), so past 1500 steps the share wanders rather than falls.
CLASS_SELF_FORGET_BATCH_LONGER_ROW = ("taming (alpha=0.1, gamma=0.2, self_forget=0.25, 3500 steps, batch statistics)", "taming",
                                      {**CLASS_SELF_FORGET_BATCH_ROW[2], "steps": 3500})
#: Class mode without training: the method gets the mix target CLASS:0 (the other classes as before) instead of
#: label=CLASS, so debias="prior" builds its mixture prior without the class's components and without the original
#: prior (which makes every class); steered by the zoo's ensemble. Scored like the other class rows (the judge's
#: share of the class, the BPD of the four groups). "_mix_zero" is the benchmark's, not a taming option.
CLASS_PRIOR_ROW = ("taming (mix=CLASS:0, debias=prior, ensemble classifier)", "taming", {"_mix_zero": True, "_classifier": "ensemble", "prior_spread": 1.0})
#: The same with the components sampled at 0.45 of their spread (prior_spread; the density keeps the fitted spread,
#: as with a temperature): narrower components make clearer samples of their own class and fewer stray ones
#: (benchmarks/probes/component_spread.py: mnist-flow's other digits' components, 8.20% "7"s under the judge at
#: full spread, 3.84% at 0.4 / 0.7 of it).
CLASS_PRIOR_NARROW_ROW = ("taming (mix=CLASS:0, debias=prior, ensemble classifier, prior_spread=0.45)", "taming", {**CLASS_PRIOR_ROW[2], "prior_spread": 0.45})
#: ... and at 0.35 of it (mnist-flow at 0.45: 0.92% 7s under the judge, 95% upper bound 1.13%).
CLASS_PRIOR_NARROWER_ROW = ("taming (mix=CLASS:0, debias=prior, ensemble classifier, prior_spread=0.35)", "taming", {**CLASS_PRIOR_ROW[2], "prior_spread": 0.35})
#: ... and at the spread taming picks itself (its default since 2026-11-25): the widest of 1, 0.7, 0.5, 0.35 at which
#: the steering classifier's confusion of the components' samples admits weights within mix_tol of the mix.
CLASS_PRIOR_AUTO_ROW = ("taming (mix=CLASS:0, debias=prior, ensemble classifier, spread by the fit)", "taming", {"_mix_zero": True, "_classifier": "ensemble"})
#: Debias by fine-tuning on a class-resampled stream (debias="resample", taming's default for a mix until
#: 2026-11-25; its records of 2026-11-23 were named "taming" then). The rows below that are not marked
#: debias=prior fine-tune the same way. Every debias row names its steering classifier: the LeNet unless marked
#: (the default of a mix= target became the ensemble on 2026-11-25).
DEBIAS_RESAMPLE_ROW = ("taming (debias=resample)", "taming", {"debias": "resample"})
#: Debias with a faster-moving model (found with benchmarks/debias_trace.py: on mnist-flow the default
#: left the mix 2.8 points off the target at 1000 steps under the judge, this 1.9 at 1500).
DEBIAS_FAST_ROW = ("taming (lr=3e-4, batch 32, 1500 steps)", "taming", {"debias": "resample", "lr": 3e-4, "remember_batch": 32, "steps": 1500})
#: The fast row with the classes the mix leaves open steered as one group (mix_open="group"): on fashion-flow
#: the redaction classifier and the judge disagree about how the open classes split among themselves.
#: Measured 2026-11-24: worse (17.73 pp under the judge; it stopped at 300 steps with the classifier's Sandal
#: share at 30% and the judge's at 47.7%).
DEBIAS_GROUP_ROW = ("taming (lr=3e-4, batch 32, 1500 steps, open classes as a group)", "taming", {**DEBIAS_FAST_ROW[2], "mix_open": "group"})
#: Debias without training the network (debias="prior", beyond the paper): the standard normal prior becomes one
#: diagonal Gaussian per class (its training latents' mean and std), weighted so the redaction classifier counts the
#: mix (benchmarks/probes/latent_class_components.py, 2026-11-25: mean classifier/judge agreement 74% on such components' samples at temperature 0.7,
#: against 44.5% on the flow's own samples).
#: Rows before 2026-11-25 (session 22) pin prior_open="components": the open classes from their own components.
DEBIAS_PRIOR_ROW = ("taming (debias=prior)", "taming", {"debias": "prior", "mix_samples": 5000, "mix_tol": 0.01, "prior_rounds": 8, "prior_components": 1,
                                                          "prior_open": "components"})
#: The same with 4 components per class (k-means clusters of each class's latents; the default).
DEBIAS_PRIOR4_ROW = ("taming (debias=prior, 4 components per class)", "taming", {"debias": "prior", "mix_samples": 5000, "mix_tol": 0.01, "prior_rounds": 8, "prior_components": 4,
                                                                                 "prior_open": "components"})
#: The same steered by the zoo's convnet redaction classifier (`{fashion,mnist}-classifier-convnet`: the judge's
#: architecture trained with another seed, test accuracy 0.913 / 0.993 against the LeNet's 0.890 / 0.986) instead of the
#: LeNet. The mix is only as near the judge's count as the steering classifier's view of the flow's samples is to the
#: judge's (benchmarks/classifier_agreement.py); "_classifier" names the zoo classifier's suffix, not a taming option.
DEBIAS_PRIOR4_CONVNET_ROW = ("taming (debias=prior, 4 components per class, convnet classifier)", "taming", {**DEBIAS_PRIOR4_ROW[2], "_classifier": "convnet"})
#: Steered by two such convnets (seeds 2 and 3) voting by mean probability (`{fashion,mnist}-classifier-ensemble`).
DEBIAS_PRIOR4_ENSEMBLE_ROW = ("taming (debias=prior, 4 components per class, ensemble classifier)", "taming", {**DEBIAS_PRIOR4_ROW[2], "_classifier": "ensemble"})
#: The ensemble row measuring each round on 10,000 samples, stopping within 0.5 points (not 1) and with 12 rounds at
#: most (not 8): the steering classifier's own error at the stop was 0.6-0.9 points, and the judge's error adds to it
#: (benchmarks/probes/debias_prior_seeds.py, 2026-11-25: fashion-flow, every class named, seeds 0-3 1.67 / 1.01 /
#: 1.65 / 1.00 pp against 1.84 / 1.47 / 2.33 / 1.15 at 5000 samples and 1 point).
DEBIAS_PRIOR4_ENSEMBLE_TIGHT_ROW = ("taming (debias=prior, 4 components per class, ensemble classifier, 10,000-sample rounds)", "taming",
                                    {**DEBIAS_PRIOR4_ENSEMBLE_ROW[2], "mix_samples": 10000, "mix_tol": 0.005, "prior_rounds": 12})
#: That row with the classes the mix leaves open made by the original prior (prior_open='original', the default since
#: 2026-11-25, session 22; this row is taming's default for a mix= target since then, debias and classifier included): one more component of the mixture, so those classes keep the original model's own
#: proportions whichever classifier counts them (benchmarks/probes/debias_prior_seeds.py: fashion-flow, Sandal:0.3,
#: seeds 0-3 1.12 / 3.03 / 1.19 / 1.14 pp under the judge against 1.35 / 4.45 / 2.70 / 1.96 with their own components).
DEBIAS_PRIOR4_ENSEMBLE_BASE_ROW = ("taming (debias=prior, 4 components per class, ensemble classifier, 10,000-sample rounds, open classes from the original prior)",
                                   "taming", {**DEBIAS_PRIOR4_ENSEMBLE_TIGHT_ROW[2], "prior_open": "original"})


#: The images-mode sizes, drawn in this order whichever are asked for.
SIZES = (1, 5, 15)


def forget_indices(train, lab: int, sizes: list[int] | tuple[int, ...], seed: int = 0) -> dict[int, np.ndarray]:
    """The train indices each images-mode size forgets, from one generator: the default sizes (1, 5, 15)
    are always drawn first and in that order, so `--sizes 5` forgets the same five images as a full run;
    other sizes are drawn after them."""
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(train.y == lab)
    drawn = {n: np.sort(rng.choice(pool, n, replace=False)) for n in (*SIZES, *(s for s in sizes if s not in SIZES))}
    return {n: drawn[n] for n in sizes}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(MODELS))
    ap.add_argument("--modes", nargs="+", default=["images", "class", "debias"], choices=["images", "class", "debias", "debias-even"],
                    help="debias-even: the class at 30%% and every other class named at an even share (default: images class debias)")
    ap.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), help="forget-set sizes for the images mode")
    ap.add_argument("--rows", nargs="+", default=None, help="row names to run (default: all)")
    ap.add_argument("--baseline-sizes", nargs="+", type=int, default=[5], help="images-mode sizes that also run the baselines (default 5)")
    ap.add_argument("--n", type=int, default=10000, help="samples for the class mix under the judge (default 10000)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--retrain-steps", type=int, default=None, help="retrain for this many steps and scale its wall time to the recipe's steps")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="taming option for every taming row")
    args = ap.parse_args(argv)
    global RESULTS
    RESULTS = for_device(RESULTS, args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    common = {**stamp("flow_taming.py", args.device, argv), "n_samples": args.n, "temperature": EVAL_TEMPERATURE}
    extra = dict(s.split("=", 1) for s in args.set)
    for dataset in args.datasets:
        model = load_model(MODELS[dataset], device=args.device)
        judge = load_classifier(dataset, role="judge", device=args.device)
        train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
        label = LABEL[dataset]
        class_target = parse_target(f"label={label}", model)
        lab = class_target.labels[0]
        print(f"== {dataset}: retrain without {label} ...", flush=True)
        ropts = {} if args.retrain_steps is None else {"steps": args.retrain_steps}
        retrained, rlog = redact(model, class_target, "retrain", data=train, seed=args.seed, device=args.device, progress=False, **ropts)
        recipe_steps = FlowRecipe().steps
        # Only the loop scales with the steps; the set-up is paid once (earlier records scaled all of it).
        loop_s = rlog.get("loop_wall_s", rlog["wall_s"])
        retrain = {"retrain_wall_s": rlog["wall_s"] - loop_s + loop_s * recipe_steps / rlog["steps"], "retrain_measured_wall_s": rlog["wall_s"],
                   "retrain_measured_loop_wall_s": loop_s, "retrain_measured_steps": rlog["steps"], "retrain_recipe_steps": recipe_steps}
        print(f"   retrain: {rlog['steps']} steps in {rlog['wall_s']:.1f}s -> {retrain['retrain_wall_s']:.1f}s for the recipe's {recipe_steps}", flush=True)
        pool = np.flatnonzero(train.y == lab)
        jobs = []
        # drawn first, so a size's images do not depend on which modes run
        for n, idx in forget_indices(train, lab, args.sizes, args.seed).items():
            if "images" in args.modes:
                jobs.append(("images", n, f"indices={','.join(map(str, idx))}", label))
        if "class" in args.modes:
            jobs.insert(0, ("class", int(len(pool)), f"label={label}", label))
        if "debias" in args.modes:
            jobs.insert(1 if "class" in args.modes else 0, ("debias", 0, f"mix={MIX[dataset]}", MIX[dataset]))
        if "debias-even" in args.modes:
            jobs.append(("debias-even", 0, f"mix={even_mix(train.class_names, label)}", f"{label} at 30%, the others even"))
        new = []
        for mode, n, spec, what in jobs:
            target = parse_target(spec, model)
            rows = (ROWS if n in args.baseline_sizes else ROWS[:1]) + [IMAGES_POOL_ROW, IMAGES_BATCH_ROW, IMAGES_AIM_ROW]
            if mode == "class":
                rows = ROWS[:2] + [CLASS_REMEMBER_ROW, CLASS_REMEMBER_LONG_ROW, CLASS_SELF_FORGET_ROW, CLASS_SELF_FORGET_BATCH_ROW, CLASS_SELF_FORGET_BATCH_LONG_ROW, CLASS_SELF_FORGET_BATCH_LONGER_ROW, CLASS_PRIOR_ROW, CLASS_PRIOR_NARROW_ROW, CLASS_PRIOR_NARROWER_ROW, CLASS_PRIOR_AUTO_ROW, ("finetune-valid", "finetune-valid", {}), ("retrain", None, ropts)]
            elif mode == "debias":
                rows = [DEBIAS_RESAMPLE_ROW, DEBIAS_FAST_ROW, DEBIAS_GROUP_ROW, DEBIAS_PRIOR_ROW, DEBIAS_PRIOR4_ROW, DEBIAS_PRIOR4_CONVNET_ROW, DEBIAS_PRIOR4_ENSEMBLE_ROW,
                                   DEBIAS_PRIOR4_ENSEMBLE_TIGHT_ROW, DEBIAS_PRIOR4_ENSEMBLE_BASE_ROW]
            elif mode == "debias-even":
                rows = [DEBIAS_FAST_ROW, DEBIAS_PRIOR_ROW, DEBIAS_PRIOR4_ROW, DEBIAS_PRIOR4_CONVNET_ROW, DEBIAS_PRIOR4_ENSEMBLE_ROW, DEBIAS_PRIOR4_ENSEMBLE_TIGHT_ROW]
            for row, method, opts in rows:
                if args.rows and row not in args.rows:
                    continue
                print(f"== {dataset} / {mode} {what} (n={n}) / {row}", flush=True)
                row_spec = spec
                if method is None:
                    edited, log = retrained, rlog
                else:
                    o = {**opts, **(extra if method == "taming" else {})}
                    steer = o.pop("_classifier", None)
                    row_spec = f"mix={label}:0" if o.pop("_mix_zero", False) else spec
                    # A mix row steers by the LeNet unless it names another (old rows reproduce under the ensemble default).
                    clf = f"{DATASET_PREFIX[dataset]}-classifier-{steer}" if steer else (f"{DATASET_PREFIX[dataset]}-classifier" if mode.startswith("debias") else None)
                    row_target = parse_target(row_spec, model, classifier=load_model(clf, device=args.device), classifier_source=clf) if clf else target
                    edited, log = redact(model, row_target, method, data=train, seed=args.seed, device=args.device, progress=False, **o)
                ev = evaluate_flow(model, edited, target, train=train, test=test, judge=judge, n=args.n, seed=1234, mix=mode != "images")
                rec = record(dataset, mode, n, what, row, spec, ev, log, lab, retrain, common)
                if row_spec != spec:
                    rec["method_target"] = row_spec  # what the method was given; the scores are against `target`
                if method is not None and (mode.startswith("debias") or clf):
                    rec["steering_classifier"] = clf or f"{DATASET_PREFIX[dataset]}-classifier"
                print("   " + summary(rec), flush=True)
                new.append(rec)
                save([rec])
    print(f"wrote {RESULTS} and {HERE / 'RESULTS.md'}")


def record(dataset: str, mode: str, n: int, what: str, row: str, spec: str, ev: dict, log: dict, lab: int, retrain: dict, common: dict) -> dict:
    rec = {"dataset": dataset, "mode": mode, "n_forget": n, "method": row, "target": spec}
    if mode.startswith("debias"):
        rec["target_mix"] = ev["target_mix"]
    else:
        rec["label"] = what
    if "before" in ev:
        b, a = ev["before"], ev["after"]
        rec.update(
            forget_in_band=a["forget_in_band"], forget_in_band_before=b["forget_in_band"], band_quantile=ev["band_quantile"],
            forget_quantile_before=b["forget"]["quantile"], forget_quantile_after=a["forget"]["quantile"],
            forget_bpd_before=b["forget"]["bpd"], forget_bpd_after=a["forget"]["bpd"],
            heldout_quantile_before=b["heldout_same_class"]["quantile"], heldout_quantile_after=a["heldout_same_class"]["quantile"],
            heldout_bpd_before=b["heldout_same_class"]["bpd"], heldout_bpd_after=a["heldout_same_class"]["bpd"],
            nn_quantile_before=b["nearest_neighbour"]["quantile"], nn_quantile_after=a["nearest_neighbour"]["quantile"],
            retain_bpd_before=ev["remember_shift"]["mean_before"], retain_bpd_after=ev["remember_shift"]["mean_after"],
            retain_bpd_std_before=ev["remember_shift"]["std_before"], retain_bpd_std_after=ev["remember_shift"]["std_after"],
            retain_bpd_change_pct=ev["remember_shift"]["change_pct"], retain_bpd_wasserstein=ev["remember_shift"]["wasserstein"],
            membership_auc=ev["membership_auc"], membership_auc_before=ev["membership_auc_before"],
        )
    if "mix_after" in ev:
        rec.update(class_mix_before=ev["mix_before"]["shares"], class_mix_after=ev["mix_after"]["shares"],
                   class_mix_after_low95=ev["mix_after"]["low95"], class_mix_after_high95=ev["mix_after"]["high95"])
        if mode == "class":
            rec.update(class_share_before=ev["mix_before"]["shares"][lab], class_share_after=ev["mix_after"]["shares"][lab],
                       class_share_after_high95=ev["mix_after"]["high95"][lab])
        if "max_mix_error_pp" in ev:
            rec.update(max_mix_error_pp=ev["max_mix_error_pp"], max_mix_error_pp_before=ev["max_mix_error_pp_before"])
    rec.update(wall_s=log["wall_s"], steps=log["steps"], stopped_early=log.get("stopped_early"), stop_reason=log.get("stop_reason", ""),
               peak_mem_mb=log["peak_mem_mb"], **retrain, wall_pct_of_retrain=100 * log["wall_s"] / retrain["retrain_wall_s"], **common)
    cfg = log.get("config", {})
    rec["options"] = {k: cfg[k] for k in ("steps", "lr", "k", "alpha", "gamma", "remember", "batch_size", "forget_loss", "remember_tol", "share_goal", "mix_gain") if k in cfg}
    for k in ("class_share_classifier", "remember_drift", "forget_loss", "max_mix_error_classifier", "mix_after_classifier", "kept", "prior_spread", "spread_trials"):
        if k in log:
            rec[k] = log[k]
    return rec


def summary(r: dict) -> str:
    parts = [f"{r['method']:22s}"]
    if "forget_in_band" in r:
        parts.append(f"in band {r['forget_in_band']:.0%} (q {r['forget_quantile_before']:.3f}->{r['forget_quantile_after']:.4f}, band q<={r['band_quantile']:.4f})")
        parts.append(f"held-out q {r['heldout_quantile_before']:.3f}->{r['heldout_quantile_after']:.3f}")
        parts.append(f"retain BPD {r['retain_bpd_before']:.4f}->{r['retain_bpd_after']:.4f} ({r['retain_bpd_change_pct']:+.2f}%)  AUC {r['membership_auc']:.3f}")
    if "class_share_after" in r:
        parts.append(f"class share {r['class_share_before']:.4f}->{r['class_share_after']:.4f}")
    if "max_mix_error_pp" in r:
        parts.append(f"max mix error {r['max_mix_error_pp_before']:.2f}->{r['max_mix_error_pp']:.2f} pp")
    parts.append(f"{r['wall_s']:.1f}s ({r['wall_pct_of_retrain']:.2f}% of retrain {r['retrain_wall_s']:.0f}s), {r['steps']} steps")
    return "  ".join(parts)


def save(new: list[dict]) -> None:
    merge_records(RESULTS, "flow_taming", new, lambda r: (r["dataset"], r["mode"], r["n_forget"], r["method"]), then=write_tables)


def _f(v: object, fmt: str) -> str:
    return "-" if v is None else fmt.format(v)


def write_tables(records: list[dict]) -> None:
    devices = sorted({r["device"] for r in records})
    commands = sorted({r["command"] for r in records})
    order = {"images": 0, "class": 1, "debias": 2, "debias-even": 3}
    lines = [
        "| data set | mode | n forget | method | in band | forget q before -> after (band q) | held-out q before -> after | NN q before -> after | retain BPD before -> after (change) | W1 | membership AUC | class share before -> after | max mix error pp | wall s | steps | retrain wall s | wall / retrain |",
        "|---|---|---:|---|---:|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(records, key=lambda r: (r["dataset"], order[r["mode"]], r["n_forget"], r["method"])):
        g = r.get
        band = f"{g('forget_quantile_before'):.3f} -> {g('forget_quantile_after'):.4f} ({g('band_quantile'):.4f})" if "forget_quantile_after" in r else "-"
        held = f"{g('heldout_quantile_before'):.3f} -> {g('heldout_quantile_after'):.3f}" if "heldout_quantile_after" in r else "-"
        nn = f"{g('nn_quantile_before'):.3f} -> {g('nn_quantile_after'):.3f}" if "nn_quantile_after" in r else "-"
        ret = f"{g('retain_bpd_before'):.4f} -> {g('retain_bpd_after'):.4f} ({g('retain_bpd_change_pct'):+.2f}%)" if "retain_bpd_after" in r else "-"
        share = f"{g('class_share_before'):.4f} -> {g('class_share_after'):.4f}" if "class_share_after" in r else "-"
        mix = f"{g('max_mix_error_pp_before'):.2f} -> {g('max_mix_error_pp'):.2f}" if "max_mix_error_pp" in r else "-"
        lines.append(
            f"| {r['dataset']} | {r['mode']} | {r['n_forget']} | {r['method']} | {_f(g('forget_in_band'), '{:.0%}')} | {band} | {held} | {nn} | {ret} | "
            f"{_f(g('retain_bpd_wasserstein'), '{:.4f}')} | {_f(g('membership_auc'), '{:.3f}')} | {share} | {mix} | {r['wall_s']:.1f} | {r['steps']} | {r['retrain_wall_s']:.0f} | {r['wall_pct_of_retrain']:.2f}% |"
        )
    body = "\n".join([
        f"## {heading('Flow taming', RESULTS)} (`benchmarks/flow_taming.py`)",
        "",
        f"Device: {', '.join(devices)}. Commands: {'; '.join(f'`{c}`' for c in commands)}. "
        "Models: the zoo flows `fashion-flow` and `mnist-flow`. Images mode forgets n training images of one class (Sandal / 7) given as train "
        "indices; class mode forgets every training image of that class; debias asks for that class at 30% of the samples (the other classes keep "
        "their relative proportions, as the classifier that measures the mix saw them before: the redaction classifier for the method, the judge for the table); debias-even names every class (that class at 30%, the others at 7.76-7.78% each), so the target is the same for both. Debias rows not marked `debias=prior` fine-tune the network on a class-resampled stream (debias=resample: `taming (debias=resample)` is taming's default for a mix until 2026-11-25, recorded then as `taming`). Rows marked `debias=prior` keep the network and replace its standard normal prior by one diagonal Gaussian per class (mean and std of 1000 training images' latents), weighted by least squares on the redaction classifier's confusion of the components' samples and corrected from measured mixes (8 rounds at most, 5000 samples each; steps counts the rounds); `4 components per class` fits 4 k-means clusters of each class's latents instead of one; since 2026-11-25 (6afd80d) samples whose inverse overflows are a column of the fit of their own, aimed at 0 (before, the blank images they give were counted as Sandal by every classifier: `benchmarks/probes/prior_overflow.py`); `convnet classifier` rows steer by the zoo's `*-classifier-convnet` (the judge's architecture, seed 2) and `ensemble classifier` rows by `*-classifier-ensemble` (that network and one of seed 3, voting by mean probability) instead of the LeNet (`steering_classifier` in the JSON); the `10,000-sample rounds` row measures each round on 10,000 samples, stops within 0.5 points and tries 12 rounds at most (taming's defaults for debias=prior since 2026-11-25) where the other prior rows measure on 5000, stop within 1 point and try 8; the `open classes from the original prior` row adds the original N(0, I) prior as one more component and fits from it and the named class's components before the others join (prior_open='original', the default since 2026-11-25), so the classes the mix leaves open come out in the original model's own proportions (this row's configuration, its ensemble included, is what taming does with a mix= target and no options since 2026-11-25); every earlier prior row made them from their own components (prior_open='components'). The debias-even rows of `taming (lr=3e-4, batch 32, 1500 steps)` ran beside a 2-process reliability run and a test run on the 2-core machine, retrain included (2625 s for fashion-mnist against 1127 s alone), so their wall times carry that load; the prior rows re-ran alone. Likelihood quantile q = 1 - Phi((BPD - mu) / sigma), mu and sigma of each model on random remember images (training images outside the forget set, as taming defines them: "
        "2000 for the images rows, the 1500-step class rows and the MNIST class retrain (the full 8000-step recipe); the other class rows, run earlier, used 500 training images outside the class, which is their remember data; the images rows of 2026-11-23 ran beside other jobs on the 2-core machine, retrain included, so their wall times carry that load); the band is |BPD - (mu + 4 sigma)| <= 0.6 sigma, i.e. q <= the band quantile shown; held-out = test images of the class; NN = the "
        "forget images' nearest training neighbours in the evaluation judge's feature space; W1 = Wasserstein-1 distance between the retain BPD "
        "distributions before and after; membership AUC = chance that a forget image is more likely than an unseen test image of its class "
        f"(0.5: indistinguishable). Class shares: samples at temperature {EVAL_TEMPERATURE} under the independent evaluation judge "
        f"({records[0]['n_samples']} samples). `retrain` trains the zoo recipe from scratch without the class in the same run; when it ran fewer "
        "steps than the recipe (`retrain_measured_steps` in the JSON), its wall time is scaled to the recipe's steps by the measured time per step (the set-up counted once where "
        "`retrain_measured_loop_wall_s` is recorded; earlier rows scaled it too, which overstates retrain by about 2%: the set-up took 4.33 s in the 2026-11-24 runs), "
        "and its own row's quality figures are those of the shortened run. Debias rows: the method steers by the redaction classifier on 2000 "
        "samples; the table's error is the judge's on 10000 others (the classifier's own is `max_mix_error_classifier` in the JSON: "
        + "; ".join(f"{r['dataset']} {r['method']} {100 * r['max_mix_error_classifier']:.2f} pp" for r in records if r["mode"].startswith("debias") and "max_mix_error_classifier" in r)
        + "). On fashion-flow the two classifiers disagree on the edited model's samples, so the mix the method reaches under its classifier is not "
        "the one the judge counts: `python benchmarks/debias_trace.py fashion-mnist fashion-flow Sandal:0.3 '[{\"steps\": 1500}]'` printed "
        "classifier vs judge shares T-shirt 19.8% vs 8.5%, Bag 15.1% vs 11.2%, Sneaker 9.0% vs 1.4%, Pullover 6.0% vs 1.0%. "
        "MNIST class rows: the judge also counts the flow's malformed strokes (hooks, open loops) as 7 (grid: "
        "`python benchmarks/judge_class_grid.py mnist-flow mnist 7 benchmarks/figures/mnist-flow_judge_7.png`, 17.25% of 2000 pre-trained "
        "samples), so even the full 8000-step retrain, which never saw a 7, makes 9.34% \"7\"s under it. The `mix=CLASS:0` class row gives the method the mix target CLASS:0 (the other classes as before) in place of label=CLASS: debias=prior without the class's components or the original prior, steered by the zoo's ensemble; it is scored against the class like the other class rows; its `prior_spread=0.45` and `prior_spread=0.35` rows sample every component at that fraction of its fitted spread (the density keeps the fitted one), each with its two data sets side by side, one core each, retrain included; the `spread by the fit` row leaves the spread to taming (its default since 2026-11-25): the widest of 1, 0.7, 0.5, 0.35 at which the steering classifier's confusion of the components' samples admits weights within 0.5 points of the mix (`prior_spread` and `spread_trials` in the JSON: fashion-flow kept 1, mnist-flow took 0.35), its two data sets side by side likewise; the row pinned at spread 1 ran before that default. The self_forget row takes a quarter "
        "of each forget batch from the model's own samples that the redaction classifier puts in the class (re-drawn at each share measurement); its 1500- and 2500-step rows with batch statistics re-ran on 2026-11-25 (the fashion-mnist and the mnist run side by side, one core each), after overflowed samples stopped being counted as class 0 in that pool (0cda345; the judge's shares then were 0.90% / 0.83% on fashion-flow and 14.26% on mnist-flow at 1500 steps, with other jobs beside them). "
        "Rows marked `batch statistics` run taming with stats=\"batch\": mu, sigma and the remember drift come from the remember batches every step scores, "
        "with no statistics pool re-scored. The `aim_gain=0.1` rows also move each forget image's own target by 0.1 times its distance from the "
        "band's centre at every check (integral control: an image the remember term holds short of the centre is aimed past it); their "
        "Fashion-MNIST row is a second run with nothing beside it (the first, with an image-to-image benchmark on the other core, retrain "
        "included: 129.0 s of 6210 s = 2.08%, the same 322 steps and figures); the rows on the AMD EPYC of family 26 (2026-11-25) re-ran both "
        "alone on that faster machine (Fashion-MNIST 320 steps: the last bits of the arithmetic differ between the two CPUs). "
        "Class rows given label=CLASS (not `mix=`) that ran from 7721f6a to bd5badc (2026-11-25 to 2026-12-07: the H100's `taming` class row) "
        "measured the class's share on 10,000 samples every 25 steps instead of 2000 (a bug), so their wall times carry four fifths more "
        "sampling than taming now does; the CPU class rows ran before it. "
        "Since 2026-12-08 (the rows of that date, on the AMD EPYC of family 23): every loop builds Adam in its multi-tensor form and taming "
        "scores four steps' remember batches under the original in one forward pass (about 9% less a 5-image step; the remember draws "
        "changed with it), and taming's images-mode default is the batch statistics for a set that fits one forget batch, aimed "
        "(aim_gain 0.1) from two images up: the 1- and 5-image `taming` rows are that default, and the rows named `taming` before it "
        "are now `taming (pool statistics)` (the pooled statistics without aiming, the default then; the 15-image `taming` rows are "
        "that configuration either way). The 5-image `batch statistics, aim_gain=0.1` rows of 2026-12-08 ran before the default changed "
        "(the same configuration).",
        "",
        "\n".join(lines),
    ])
    replace_block(HERE / "RESULTS.md", RESULTS.stem, body)


if __name__ == "__main__":
    main()
