"""Benchmark: reliability figures of issue 7, measured on this machine.

    python benchmarks/reliability.py                    # kill-and-resume, bad inputs, 2-process agreement (float32, float64)
    python benchmarks/reliability.py --parts resume --kills 6   # a smaller run

* resume: each command below runs once uninterrupted; then, at `--kills` random moments spread over
  the commands, a copy is killed with SIGKILL and run again with `--resume`; the result (the model's
  tensors, or an evaluation's figures) must be bit-identical to the uninterrupted run's.
* bad inputs: `tests/test_bad_input.py` (hypothesis) with GENREDACT_BAD_INPUT_LOG set, so every
  generated bad input is logged with what it printed and left behind; the figures count them.
* ddp: `benchmarks/ddp_check.py` under `accelerate launch --multi_gpu --num_processes 2` (gloo on CPU)
  against 1 process: the same evaluation, and a redaction whose processes each take their shard of
  the same batch.
* ddp-seeds: the float32 redaction pair for several seeds (`--seeds`): mean FID in 2 processes against 1.
* ddp-float64: the same redaction pair in float64, where float rounding starts ~1e9 times smaller.
* ddp-i2i: `ddp_check.py --family inpainter` the same way (float32): encoder-unlearn on the zoo's MNIST
  convolutional inpainter and the paired image-to-image metrics (FID of outputs vs truth, per mask and split).

Writes benchmarks/results/reliability.json and its table in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parent))
from _results import stamp, HERE, ROOT, load_records, replace_block, write_records  # noqa: E402

RESULTS = HERE / "results" / "reliability.json"
GAN_TINY = ["--set", "batch_size=16", "--no-eval", "--quiet", "--checkpoint-every", "0"]
# (name, argv before --out, kind of output): tiny budgets, every family and each kind of resumable work.
COMMANDS = [
    ("redact-classifier (GAN)", ["redact", "mnist-dcgan", "--target", "label=7", "--method", "redact-classifier", "--set", "steps=80", "--set", "pool_size=40", *GAN_TINY], "run"),
    ("finetune-valid (GAN)", ["redact", "mnist-dcgan", "--target", "label=7", "--method", "finetune-valid", "--set", "steps=80", *GAN_TINY], "run"),
    ("adapt-then-unlearn (GAN, 3 loops)", ["redact", "mnist-dcgan", "--target", "label=7", "--method", "adapt-then-unlearn", "--set", "k_adapted=2",
                                           "--set", "adapt_steps=25", "--set", "unlearn_steps=40", "--set", "n_positives=500", "--set", "fisher_samples=64", *GAN_TINY], "run"),
    ("taming (flow)", ["redact", "mnist-flow", "--target", "label=7", "--method", "taming", "--set", "steps=25", "--set", "stat_images=64",
                       "--set", "check_images=32", "--no-eval", "--quiet", "--checkpoint-every", "0"], "run"),
    ("encoder-unlearn (inpainter)", ["redact", "mnist-inpainter-conv", "--target", "label=7", "--method", "encoder-unlearn", "--set", "steps=60",
                                     "--no-eval", "--quiet", "--checkpoint-every", "0"], "run"),
    ("zoo train (GAN)", ["zoo", "train", "mnist-dcgan", "--set", "steps=120", "--quiet", "--checkpoint-every", "0"], "model"),
    ("eval (20k samples)", ["eval", "mnist-dcgan", "--target", "label=7", "--n", "20000", "--quiet", "--checkpoint-every", "0"], "json"),
]


def _cli(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "genredact", *argv]


def _out_args(kind: str, out: Path) -> list[str]:
    return ["--json", str(out)] if kind == "json" else ["--out", str(out)]


def _result(kind: str, out: Path) -> dict:
    """What must be identical: every tensor of the written model, or every figure of an evaluation."""
    if kind == "json":
        rec = json.loads(out.read_text())
        return {k: v for k, v in rec.items() if k != "sample_s"}
    from safetensors.torch import load_file

    weights = out / "model" / "model.safetensors" if kind == "run" else out / "model.safetensors"
    return {k: v.numpy().tobytes() for k, v in load_file(str(weights)).items()}


def _run(argv: list[str], timeout: float = 900) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, res


def resume_part(kills: int, rng: random.Random, work: Path) -> dict:
    refs = {}
    for name, argv, kind in COMMANDS:
        out = work / f"ref-{len(refs)}" / ("m.json" if kind == "json" else "out")
        out.parent.mkdir(parents=True)
        wall, res = _run(_cli([*argv, *_out_args(kind, out)]))
        if res.returncode != 0:
            raise SystemExit(f"{name} failed uninterrupted: {res.stderr.strip()[-800:]}")
        refs[name] = (wall, _result(kind, out))
        print(f"  {name}: uninterrupted run {wall:.1f}s", flush=True)
    points: list[dict] = []
    j = 0
    # Until `kills` runs were killed mid-way (a run that finished before its kill is checked too, but
    # does not count), at most three times as many tries; the commands take turns.
    while sum(not p["finished_before_kill"] for p in points) < kills and j < 3 * kills:
        name, argv, kind = COMMANDS[j % len(COMMANDS)]
        wall = refs[name][0]
        out = work / f"kill-{j}" / ("m.json" if kind == "json" else "out")
        out.parent.mkdir(parents=True)
        j += 1
        # The kill comes at a random moment after the run's first checkpoint (so that it resumes from one,
        # not from the start): a uniform share of the time the uninterrupted run had left at that point.
        proc = subprocess.Popen(_cli([*argv, *_out_args(kind, out)]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0, folder = time.perf_counter(), out.parent / f".{out.name}.resume"
        while proc.poll() is None and not any(folder.glob("*.safetensors")):
            time.sleep(0.02)
        first = time.perf_counter() - t0
        at = first + rng.uniform(0.0, 0.8) * max(0.0, wall - first)
        try:
            proc.wait(timeout=max(0.0, at - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        checkpoints = sorted(p.name for p in (out.parent / f".{out.name}.resume").glob("*.safetensors"))
        # The output appears by one final rename, so if it exists the run had finished (its process may
        # still have been exiting): not a resume point, but it must be complete and identical.
        finished = out.exists()
        partial = False
        if finished:
            try:
                ok = _result(kind, out) == refs[name][1]
            except Exception:  # noqa: BLE001 - an unreadable output is a partial file
                ok, partial = False, True
            resumed_ok = None
        else:
            _, res = _run(_cli([*argv, *_out_args(kind, out), "--resume"]))
            resumed_ok = res.returncode == 0
            ok = resumed_ok and _result(kind, out) == refs[name][1]
        points.append({"command": name, "kill_at_s": round(at, 2), "finished_before_kill": finished, "checkpoints_at_kill": checkpoints,
                       "partial_output": partial, "resumed_ok": resumed_ok, "identical": ok})
        print(f"  kill {j}: {name} at {at:.1f}s of {wall:.1f}s, checkpoints {checkpoints or 'none'} -> "
              f"{'identical' if ok else 'DIFFERENT'}{' (had finished)' if finished else ''}", flush=True)
    killed = [p for p in points if not p["finished_before_kill"]]
    return {"resume_points": len(killed), "resume_identical": sum(p["identical"] for p in killed),
            "finished_before_kill": len(points) - len(killed), "finished_identical": sum(p["identical"] for p in points if p["finished_before_kill"]),
            "resume_partial_outputs": sum(p["partial_output"] for p in points), "resume_detail": points,
            "resume_commands": {name: " ".join(["genredact", *argv]) for name, argv, _ in COMMANDS}}


def bad_input_part(work: Path) -> dict:
    log = work / "bad.jsonl"
    env = {**os.environ, "GENREDACT_BAD_INPUT_LOG": str(log)}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_bad_input.py")],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    cases = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    print(f"  bad inputs: {len(cases)} generated, pytest exit {res.returncode}", flush=True)
    return {"bad_inputs_tried": len(cases), "tracebacks": sum(c["traceback"] for c in cases),
            "not_one_sentence": sum(not c["one_line"] for c in cases), "zero_exit": sum(c["rc"] == 0 for c in cases),
            "partial_files": sum(bool(c["left"]) for c in cases), "changed_inputs": sum(bool(c["changed"]) for c in cases),
            "bad_input_pytest_exit": res.returncode}


LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no"]


def ddp_runs(work: Path, variants: tuple[tuple[str, list[str], list[str]], ...]) -> tuple[dict, dict]:
    """benchmarks/ddp_check.py once per (name, launcher argv, extra args): its figures and early weights."""
    script = str(HERE / "ddp_check.py")
    runs, early = {}, {}
    for name, argv, extra in variants:
        out = work / f"{name}.json"
        res = subprocess.run([*argv, script, "--out", str(out), *extra], capture_output=True, text=True, cwd=ROOT, timeout=3600,
                             env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
        if res.returncode != 0:
            raise SystemExit(f"ddp_check ({name}) failed: {res.stderr.strip()[-1500:]}")
        runs[name] = json.loads(out.read_text())
        if Path(str(out) + ".early.safetensors").exists():
            early[name] = load_file(str(out) + ".early.safetensors")
        print(f"  {name}: {runs[name]}", flush=True)
    return runs, early


def _after_deltas(runs: dict, early: dict, ref: str, other: str, prefix: str) -> dict:
    """`other` against `ref` after the redaction: residual-rate and FID differences, and the largest
    weight difference after the first (2) steps."""
    a, b = runs[ref]["after"], runs[other]["after"]
    return {f"{prefix}_residual_delta": b["residual_rate"] - a["residual_rate"],
            f"{prefix}_fid_delta_pct": 100 * (b["fid"] - a["fid"]) / a["fid"],
            f"{prefix}_early_max_weight_diff": max(float((early[other][k] - early[ref][k]).abs().max()) for k in early[ref])}


def ddp_part(work: Path) -> dict:
    """benchmarks/ddp_check.py in one process and in two (gloo); the figures' differences."""
    # single_threads2: one process with 2 torch threads instead of 1 - the same computation, summed in
    # another order; how far float rounding alone moves the method's result. single_seed1: the
    # method's own spread.
    runs, early = ddp_runs(work, (("single", [sys.executable], []), ("multi", LAUNCH, []), ("single_seed1", [sys.executable], ["--seed", "1"]),
                                  ("single_threads2", [sys.executable], ["--threads", "2"])))
    a, b = runs["single"], runs["multi"]
    seed = _after_deltas(runs, early, "single", "single_seed1", "seed")
    del seed["seed_early_max_weight_diff"]
    return {**_after_deltas(runs, early, "single", "multi", "ddp"), **_after_deltas(runs, early, "single", "single_threads2", "threads"), **seed,
            "ddp_residual_bound": a["after"]["residual_upper95"] - a["after"]["residual_rate"],
            "ddp_eval_fid_delta_pct": 100 * (b["before"]["fid"] - a["before"]["fid"]) / a["before"]["fid"],
            "ddp_eval_residual_delta": b["before"]["residual_rate"] - a["before"]["residual_rate"],
            "ddp_detail": runs}


def ddp_float64_part(work: Path) -> dict:
    """The same pair in float64: the processes still sum in another order, but rounding starts ~1e9
    times smaller, so it shows whether the distributed path computes the one-process result."""
    runs, early = ddp_runs(work, (("single_f64", [sys.executable], ["--dtype", "float64"]), ("multi_f64", LAUNCH, ["--dtype", "float64"])))
    a = runs["single_f64"]["after"]
    return {**_after_deltas(runs, early, "single_f64", "multi_f64", "ddp64"),
            "ddp64_residual_bound": a["residual_upper95"] - a["residual_rate"], "ddp64_detail": runs}


def ddp_i2i_part(work: Path) -> dict:
    """encoder-unlearn and the paired metrics in one process and in two (float32): the FID and accuracy
    differences of every mask and split, before (one model evaluated) and after the unlearning."""
    runs, _ = ddp_runs(work, (("single_i2i", [sys.executable], ["--family", "inpainter"]), ("multi_i2i", LAUNCH, ["--family", "inpainter"])))
    a, b = runs["single_i2i"], runs["multi_i2i"]

    def deltas(when: str, key: str, pct: bool) -> dict[str, float]:
        return {k: (100 * (b[when][k][key] / a[when][k][key] - 1) if pct else b[when][k][key] - a[when][k][key]) for k in a[when]}

    fid_after = deltas("after", "fid", True)
    return {"ddp_i2i_fid_delta_pct": fid_after, "ddp_i2i_max_fid_delta_pct": max(fid_after.values(), key=abs),
            "ddp_i2i_max_acc_delta": max(deltas("after", "acc", False).values(), key=abs),
            "ddp_i2i_eval_max_fid_delta_pct": max(deltas("before", "fid", True).values(), key=abs), "ddp_i2i_detail": runs}


def ddp_seeds_part(work: Path, seeds: list[int]) -> dict:
    """The float32 redaction pair for each of `seeds`: in float32 one pair's FIDs differ by as much as two
    seeds do (rounding grows over the steps as a seed change does), so the agreement that can be asked of
    the distributed path is of the distributions: the mean FID over seeds in 2 processes against 1."""
    variants = [v for s in seeds for v in ((f"single_s{s}", [sys.executable], ["--seed", str(s)]), (f"multi_s{s}", LAUNCH, ["--seed", str(s)]))]
    runs, _ = ddp_runs(work, tuple(variants))
    per_seed = {str(s): {w: {"fid": runs[f"{w}_s{s}"]["after"]["fid"], "residual_rate": runs[f"{w}_s{s}"]["after"]["residual_rate"]}
                         for w in ("single", "multi")} for s in seeds}
    return {"ddp_seeds_per_seed": per_seed, "ddp_seeds_detail": runs}


def ddp_seeds_summary(per_seed: dict[str, dict]) -> dict:
    """Mean FID difference (2 processes against 1) over the seeds, its standard error, the pairs."""
    import statistics

    order = sorted(per_seed, key=int)
    fid = {w: [per_seed[s][w]["fid"] for s in order] for w in ("single", "multi")}
    res = {w: [per_seed[s][w]["residual_rate"] for s in order] for w in ("single", "multi")}
    n = len(order)
    mean = {w: statistics.fmean(v) for w, v in fid.items()}
    sd = {w: statistics.stdev(v) for w, v in fid.items()}
    return {"ddp_seeds": n, "ddp_seeds_list": [int(s) for s in order], "ddp_seeds_fid_mean_delta_pct": 100 * (mean["multi"] / mean["single"] - 1),
            "ddp_seeds_fid_sem_pct": 100 * (sd["single"] ** 2 / n + sd["multi"] ** 2 / n) ** 0.5 / mean["single"],
            "ddp_seeds_fid_single": fid["single"], "ddp_seeds_fid_multi": fid["multi"],
            "ddp_seeds_pair_fid_delta_pct": [100 * (b / a - 1) for a, b in zip(fid["single"], fid["multi"])],
            "ddp_seeds_residual_single": res["single"], "ddp_seeds_residual_multi": res["multi"],
            "ddp_seeds_residual_mean_delta": statistics.fmean(res["multi"]) - statistics.fmean(res["single"])}


PARTS = ("resume", "bad-inputs", "ddp", "ddp-float64", "ddp-i2i", "ddp-seeds")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    ap.add_argument("--kills", type=int, default=21, help="runs to kill mid-way at random moments, the commands taking turns (default 21: 3 per command)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=5, help="seeds of the ddp-seeds part (a pair of runs each; default 5)")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="the ddp-seeds part runs seeds FIRST..FIRST+SEEDS-1 and adds them to the seeds already recorded (default 0)")
    ap.add_argument("--redraw", action="store_true", help="only re-write the table in benchmarks/RESULTS.md from the stored record (no runs)")
    args = ap.parse_args(argv)
    if args.redraw:
        replace_block(HERE / "RESULTS.md", "reliability", table(load_records(RESULTS)[0]))
        print(f"redrew the reliability table of {HERE / 'RESULTS.md'} from {RESULTS}")
        return
    rng = random.Random(args.seed)
    rec = stamp("reliability.py", "cpu", argv)
    work = Path(tempfile.mkdtemp(prefix="genredact-reliability-"))
    try:
        if "resume" in args.parts:
            print("kill and resume ...", flush=True)
            rec.update(resume_part(args.kills, rng, work))
        if "bad-inputs" in args.parts:
            print("bad inputs ...", flush=True)
            rec.update(bad_input_part(work))
        if "ddp" in args.parts:
            print("2 processes against 1 ...", flush=True)
            rec.update(ddp_part(work))
        if "ddp-float64" in args.parts:
            print("2 processes against 1, float64 ...", flush=True)
            rec.update(ddp_float64_part(work))
        if "ddp-i2i" in args.parts:
            print("2 processes against 1, image-to-image ...", flush=True)
            rec.update(ddp_i2i_part(work))
        if "ddp-seeds" in args.parts:
            print(f"2 processes against 1, float32, {args.seeds} seeds ...", flush=True)
            rec.update(ddp_seeds_part(work, list(range(args.first_seed, args.first_seed + args.seeds))))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # A run of some parts keeps the other parts' figures; each part records the command that measured it.
    old = json.loads(RESULTS.read_text())["records"][0] if RESULTS.exists() else {}
    commands = {**{p: old.get("command") for p in PARTS[:3] if old.get("command")}, **old.get("commands", {})}
    seeds_before = old.get("devices", {}).get("ddp-seeds", "")
    extend = "ddp-seeds" in args.parts and seeds_before.startswith(rec["device"] + " (")  # earlier seeds of this machine
    if "ddp-seeds" in args.parts and not extend and old.get("ddp_seeds_per_seed"):
        # Seeds of another machine are not pooled with these (wall times and float32 rounding differ), but
        # their summary stays in the record.
        earlier = [e for e in old.get("ddp_seeds_earlier", []) if e["devices"] != seeds_before]
        rec["ddp_seeds_earlier"] = earlier + [{"devices": seeds_before, "command": old.get("commands", {}).get("ddp-seeds"),
                                               **{k: old[k] for k in ("ddp_seeds", "ddp_seeds_fid_mean_delta_pct", "ddp_seeds_fid_sem_pct",
                                                                      "ddp_seeds_residual_mean_delta", "ddp_seeds_per_seed") if k in old}}]
    if "ddp-seeds" in args.parts:
        per_seed = {**(old.get("ddp_seeds_per_seed", {}) if extend else {}), **rec.pop("ddp_seeds_per_seed")}
        rec.update(ddp_seeds_summary(per_seed), ddp_seeds_per_seed=per_seed)
        if extend:
            rec["ddp_seeds_detail"] = {**old.get("ddp_seeds_detail", {}), **rec["ddp_seeds_detail"]}
    commands.update({p: rec["command"] for p in args.parts})
    if extend and commands.get("ddp-seeds") != old.get("commands", {}).get("ddp-seeds"):
        commands["ddp-seeds"] = f"{old['commands']['ddp-seeds']}` and `{rec['command']}"
    # ... and the machine and date it was measured on (a record before this field: its own device and date).
    devices = {**{p: f"{old['device']} ({old['date']})" for p in commands if p not in args.parts and old.get("device")}, **old.get("devices", {})}
    devices.update({p: f"{rec['device']} ({rec['date']})" for p in args.parts})
    if extend and not seeds_before.endswith(f"({rec['date']})"):
        devices["ddp-seeds"] = f"{rec['device']} ({seeds_before[len(rec['device']) + 2 : -1]} and {rec['date']})"
    merged = {**old, **rec, "commands": commands, "devices": devices} if set(args.parts) != set(PARTS) else {**rec, "commands": commands, "devices": devices}
    write_records(RESULTS, "reliability", [merged])
    replace_block(HERE / "RESULTS.md", "reliability", table(merged))
    print(json.dumps({k: v for k, v in merged.items() if not k.endswith("detail")}, indent=1))


def table(r: dict) -> str:
    def get(key: str) -> str:
        return "not measured" if r.get(key) is None else str(r[key])

    rows = [
        ("kill points (SIGKILL at a random moment, then --resume)", get("resume_points"), ">= 20"),
        ("... ending bit-identical to the uninterrupted run", get("resume_identical"), "all"),
        ("bad inputs generated", get("bad_inputs_tried"), ">= 200"),
        ("... with a traceback", get("tracebacks"), "0"),
        ("... not one clear sentence", get("not_one_sentence"), "0"),
        ("... leaving a partial file or folder", get("partial_files"), "0"),
        ("... changing an input", get("changed_inputs"), "0"),
        ("2 processes vs 1, redaction: residual-rate difference (95% bound half-width)",
         f"{r['ddp_residual_delta']:+.4f} ({r['ddp_residual_bound']:.4f})" if r.get("ddp_residual_delta") is not None else "not measured", "within the bound"),
        ("2 processes vs 1, evaluation of one model: residual-rate / FID difference",
         f"{r['ddp_eval_residual_delta']:+.5f} / {r['ddp_eval_fid_delta_pct']:+.4f}%" if r.get("ddp_eval_residual_delta") is not None else "not measured", "0"),
        ("1 process, seed 1 vs seed 0, redaction: residual-rate / FID difference (the method's own spread)",
         f"{r['seed_residual_delta']:+.4f} / {r['seed_fid_delta_pct']:+.2f}%" if r.get("seed_fid_delta_pct") is not None else "not measured", "for context"),
        ("1 process, 2 torch threads vs 1 (float summation order only), redaction: residual-rate / FID difference",
         f"{r['threads_residual_delta']:+.4f} / {r['threads_fid_delta_pct']:+.2f}%" if r.get("threads_fid_delta_pct") is not None else "not measured", "for context"),
        ("largest weight difference after the first 2 redaction steps: 2 processes vs 1 / 2 threads vs 1",
         f"{r['ddp_early_max_weight_diff']:.1e} / {r['threads_early_max_weight_diff']:.1e}" if r.get("ddp_early_max_weight_diff") is not None else "not measured",
         "rounding"),
        ("2 processes vs 1, redaction: FID difference", f"{r['ddp_fid_delta_pct']:+.2f}%" if r.get("ddp_fid_delta_pct") is not None else "not measured", "<= 2%"),
        (f"the same over {r.get('ddp_seeds') or 'several'} seeds (a pair each): mean FID difference (its standard error; 95% interval, +-1.96 SE) / mean residual-rate difference",
         f"{r['ddp_seeds_fid_mean_delta_pct']:+.2f}% ({r['ddp_seeds_fid_sem_pct']:.2f}%; {r['ddp_seeds_fid_mean_delta_pct'] - 1.96 * r['ddp_seeds_fid_sem_pct']:+.2f}% to "
         f"{r['ddp_seeds_fid_mean_delta_pct'] + 1.96 * r['ddp_seeds_fid_sem_pct']:+.2f}%) / {r['ddp_seeds_residual_mean_delta']:+.4f}"
         if r.get("ddp_seeds_fid_mean_delta_pct") is not None else "not measured", "<= 2%"),
        *((f"... on {e['devices']}, {e['ddp_seeds']} seeds", f"{e['ddp_seeds_fid_mean_delta_pct']:+.2f}% ({e['ddp_seeds_fid_sem_pct']:.2f}%) / {e['ddp_seeds_residual_mean_delta']:+.4f}", "<= 2%")
          for e in r.get("ddp_seeds_earlier", [])),
        ("the same in float64: residual-rate difference (bound) / FID difference / weight difference after 2 steps",
         f"{r['ddp64_residual_delta']:+.4f} ({r['ddp64_residual_bound']:.4f}) / {r['ddp64_fid_delta_pct']:+.1e}% / {r['ddp64_early_max_weight_diff']:.1e}"
         if r.get("ddp64_fid_delta_pct") is not None else "not measured", "<= 2%"),
        ("2 processes vs 1, encoder-unlearn (float32), largest over masks and forget / retain splits: FID difference / judge-accuracy difference",
         f"{r['ddp_i2i_max_fid_delta_pct']:+.1e}% / {r['ddp_i2i_max_acc_delta']:+.4f}" if r.get("ddp_i2i_max_fid_delta_pct") is not None else "not measured", "<= 2%"),
        ("2 processes vs 1, paired metrics of one inpainter: largest FID difference",
         f"{r['ddp_i2i_eval_max_fid_delta_pct']:+.1e}%" if r.get("ddp_i2i_eval_max_fid_delta_pct") is not None else "not measured", "0"),
    ]
    lines = [
        "## Reliability (`benchmarks/reliability.py`)",
        "",
        "Measured by: " + "; ".join(f"{part}: `{c}` on {r.get('devices', {}).get(part, str(r.get('device')) + ' (' + str(r.get('date')) + ')')}"
                                    for part, c in r.get("commands", {"all": r.get("command")}).items())
        + ". Commands killed and resumed: "
        + "; ".join(f"`{c}`" for c in r.get("resume_commands", {}).values()) + ".",
        "",
        "| figure | measured | goal |",
        "|---|---:|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
