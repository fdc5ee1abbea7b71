"""Benchmark: throughput per family on this machine's CPU (and its GPU when there is one).

    python benchmarks/throughput.py                  # everything
    python benchmarks/throughput.py --quick          # smaller counts (a smoke run)

For each family (GAN, flow, inpainter; the zoo's MNIST models): sampling images/s, evaluation
images/s (sampling + the judge's forward pass, as `evaluate` does it) next to the judge's raw forward
rate on ready tensors (what the device can do for that network), and training steps/s of the zoo
recipe; with --precision bf16 also under bf16 autocast. Then how `evaluate`'s wall time grows with the
number of samples (1k, 10k, 100k) and how the GAN's training step time grows with width.

Writes benchmarks/results/throughput.json and the table in benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

from genredact.data import load_dataset, to_float
from genredact.errors import GenredactError
from genredact.evaluation import evaluate
from genredact.seeding import make_generator
from genredact.zoo import load_classifier, load_model

sys.path.insert(0, str(Path(__file__).parent))
from _results import stamp, HERE, load_records, replace_block, write_records  # noqa: E402

RESULTS = HERE / "results" / "throughput.json"
FAMILIES = {"gan": "mnist-dcgan", "flow": "mnist-flow", "inpainter": "mnist-inpainter-conv"}


def timed(fn, device: torch.device, repeat: int = 1) -> float:
    """Seconds per call of fn (after one warm-up call), synchronising CUDA."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeat


def autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def family_rows(device: torch.device, precision: str, n: int, train_steps: int) -> list[dict]:
    from genredact.zoo.flow_recipes import FlowRecipe, train_flow
    from genredact.zoo.inpainter_recipes import InpainterRecipe, train_inpainter
    from genredact.zoo.recipes import GanRecipe, train_gan

    data = load_dataset("mnist", "train")
    test = to_float(load_dataset("mnist", "test").x[:n]).to(device)
    judge = load_classifier("mnist", role="judge", device=str(device))
    rows = []
    for family, name in FAMILIES.items():
        model = load_model(name, device=str(device)).eval()
        m = n if family != "flow" else max(500, n // 4)  # flows sample slowly on CPU
        with torch.no_grad(), autocast(device, precision):
            if family == "inpainter":
                sample = lambda model=model, m=m: model(test[:m], generator=make_generator(0))  # noqa: E731
            else:
                sample = lambda model=model, m=m: model.sample(m, generator=make_generator(0))  # noqa: E731
            x = sample().float()
            sample_s = timed(sample, device)
            judge_s = timed(lambda x=x: judge.predict(x), device)
            raw = x[: min(len(x), 2000)].contiguous()
            raw_s = timed(lambda raw=raw: judge.net(raw), device, repeat=3)
        recipes = {"gan": lambda: train_gan(data, GanRecipe(steps=train_steps), progress=False, device=str(device)),
                   "flow": lambda: train_flow(data, FlowRecipe(steps=train_steps), progress=False, device=str(device)),
                   "inpainter": lambda: train_inpainter(data, InpainterRecipe(steps=train_steps), progress=False, device=str(device))}
        if precision == "fp32":
            _, result = recipes[family]()
            steps_s = result.steps / result.wall_s
        else:
            steps_s = None  # the recipes train in fp32
        rows.append({"family": family, "model": name, "precision": precision, "images": m, "sample_img_s": m / sample_s,
                     "eval_img_s": m / (sample_s + judge_s), "judge_img_s": m / judge_s, "judge_raw_img_s": len(raw) / raw_s,
                     "train_steps_s": steps_s, "train_steps": train_steps})
        print(f"  {family:9s} {precision}: sample {m / sample_s:,.0f} img/s, judge {m / judge_s:,.0f} img/s (raw forward {len(raw) / raw_s:,.0f}), "
              f"train {steps_s or 0:.2f} steps/s", flush=True)
    return rows


def scaling_rows(device: torch.device, sizes: list[int], widths: list[int]) -> list[dict]:
    from genredact.zoo.recipes import GanRecipe, train_gan

    rows = []
    model = load_model("mnist-dcgan", device=str(device))
    judge = load_classifier("mnist", role="judge", device=str(device))
    for n in sizes:
        t0 = time.perf_counter()
        evaluate(model, labels=(7,), judge=judge, n=n, kid_subsets=10)
        wall = time.perf_counter() - t0
        rows.append({"kind": "eval_samples", "n": n, "wall_s": wall})
        print(f"  evaluate n={n}: {wall:.1f}s", flush=True)
    data = load_dataset("mnist", "train")
    for w in widths:
        _, result = train_gan(data, GanRecipe(steps=20, width=w), progress=False, device=str(device))
        rows.append({"kind": "gan_width", "width": w, "step_s": result.wall_s / result.steps})
        print(f"  GAN width {w}: {result.wall_s / result.steps * 1000:.0f} ms/step", flush=True)
    return rows


PARTS = {"family": None, "scaling": ("eval_samples", "gan_width"), "judge": ("judge_batch",), "precision": ("precision_effect",),
         "methods": ("method_precision",), "processes": ("process_scaling",)}
# per family: the zoo model, the family's default redaction method and its target
METHOD_RUNS = {"gan": ("mnist-dcgan", "redact-classifier", "label=7"), "flow": ("mnist-flow", "taming", "label=7"),
               "inpainter": ("mnist-inpainter-conv", "encoder-unlearn", "label=0,1,2,3,4")}


def part_of(record: dict) -> str:
    return next((p for p, kinds in PARTS.items() if kinds and record.get("kind") in kinds), "family")


def precision_rows(device: torch.device, n: int) -> list[dict]:
    """What bf16 does to the figures: the same evaluation (zoo MNIST GAN, class 7, same latents) in fp32
    and under bf16 autocast, and a redaction (redact-classifier defaults) trained in each precision."""
    from genredact.api import redact
    from genredact.engine.precision import precision as precision_mode
    from genredact.targets import parse_target

    model = load_model("mnist-dcgan", device=str(device))
    judge = load_classifier("mnist", role="judge", device=str(device))
    target = parse_target("label=7", model)
    rows = []
    for mode in ("fp32", "bf16"):
        with precision_mode(mode):
            base = evaluate(model, labels=(7,), judge=judge, n=n, seed=1234)
            edited, log = redact(model, target, "redact-classifier", seed=0, device=str(device), progress=False)
            red = evaluate(edited, labels=(7,), judge=judge, n=n, seed=1234)
        rows.append({"kind": "precision_effect", "precision": mode, "n": n,
                     "pretrained_residual_rate": base["residual_rate"], "pretrained_fid": base["fid"],
                     "redacted_residual_rate": red["residual_rate"], "redacted_residual_upper95": red["residual_upper95"],
                     "redacted_fid": red["fid"], "redaction_wall_s": log["wall_s"]})
        print(f"  {mode}: pre-trained residual {base['residual_rate']:.4f} FID {base['fid']:.3f}; redact-classifier residual "
              f"{red['residual_rate']:.4f} FID {red['fid']:.3f} ({log['wall_s']:.1f}s)", flush=True)
    return rows


def method_rows(device: torch.device, n: int) -> list[dict]:
    """Each family's default redaction method (its default options) trained in fp32 and under bf16: its wall
    time, its loop's steps/s, and what bf16 does to its result under the independent judge (GAN and flow:
    residual rate and FID of n samples; inpainter: judge accuracy on the forget and retain outputs of n
    test images per split, centre mask)."""
    from genredact.api import redact
    from genredact.metrics.i2i import evaluate_i2i

    rows = []
    for family, (name, method, spec) in METHOD_RUNS.items():
        model = load_model(name, device=str(device))
        judge = load_classifier("mnist", role="judge", device=str(device))
        for mode in ("fp32", "bf16"):
            try:
                edited, log = redact(model, spec, method, seed=0, device=str(device), progress=False, precision=mode)
            except GenredactError as exc:  # e.g. training that diverged twice in this precision: a finding, not a crash
                rows.append({"kind": "method_precision", "family": family, "model": name, "method": method, "target": spec, "precision": mode, "error": str(exc)})
                print(f"  {family:9s} {method} {mode}: {exc}", flush=True)
                continue
            labels = tuple(int(v) for v in spec.split("=")[1].split(","))
            if family == "inpainter":
                centre = evaluate_i2i(edited, load_dataset("mnist", "test"), labels, judge, masks=(("center", 0.71),), n=n)["center-0.71"]
                result = {"forget_judge_acc": centre["forget"]["acc"], "retain_judge_acc": centre["retain"]["acc"]}
                shown = f"forget acc {result['forget_judge_acc']:.3f}, retain acc {result['retain_judge_acc']:.3f}"
            else:
                ev = evaluate(edited, labels=labels, judge=judge, n=n, seed=1234)
                result = {"residual_rate": ev["residual_rate"], "residual_upper95": ev["residual_upper95"], "fid": ev["fid"]}
                shown = f"residual {ev['residual_rate']:.4f} (upper {ev['residual_upper95']:.4f}), FID {ev['fid']:.3f}"
            rows.append({"kind": "method_precision", "family": family, "model": name, "method": method, "target": spec, "precision": mode, "n": n,
                         "steps": log["steps"], "wall_s": log["wall_s"], "loop_wall_s": log["loop_wall_s"],
                         "loop_steps_s": log["steps"] / log["loop_wall_s"], **result})
            print(f"  {family:9s} {method} {mode}: {log['steps']} steps, wall {log['wall_s']:.1f}s "
                  f"({log['steps'] / log['loop_wall_s']:.1f} steps/s in its loop); {shown}", flush=True)
    return rows


def process_rows(counts: list[int], n: int) -> list[dict]:
    """benchmarks/ddp_check.py (the zoo MNIST GAN: an evaluation of n samples, redact-classifier on digit 7 with its
    defaults, the redacted model's evaluation) in 1 process and under `accelerate launch --num_processes N` on the
    CPU (gloo; the GPU hidden), one torch thread per process: how the wall time shrinks with the processes."""
    import json
    import os
    import subprocess
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for k in counts:
            out = Path(work) / f"p{k}.json"
            launch = ([sys.executable] if k == 1 else
                      [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(k), "--num_machines", "1",
                       "--mixed_precision", "no", "--dynamo_backend", "no"])
            t0 = time.perf_counter()
            res = subprocess.run([*launch, str(HERE / "ddp_check.py"), "--out", str(out), "--n", str(n), "--early-steps", "0"], capture_output=True, text=True,
                                 env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
            wall = time.perf_counter() - t0
            if res.returncode != 0:
                raise SystemExit(f"ddp_check in {k} processes failed: {res.stderr.strip()[-1500:]}")
            r = json.loads(out.read_text())
            rows.append({"kind": "process_scaling", "processes": k, "n": n, "eval_wall_s": r["eval_wall_s"], "redact_wall_s": r["redact_wall_s"],
                         "command_wall_s": wall, "redacted_residual_rate": r["after"]["residual_rate"], "redacted_fid": r["after"]["fid"]})
            print(f"  {k} processes: evaluation of {n} samples {r['eval_wall_s']:.1f}s, redaction {r['redact_wall_s']:.1f}s, whole command {wall:.1f}s; "
                  f"residual {r['after']['residual_rate']:.4f}, FID {r['after']['fid']:.3f}", flush=True)
    return rows


def judge_batch_rows(device: torch.device, batches: list[int]) -> list[dict]:
    """The judge's raw forward rate by batch size and precision: where the device saturates for that
    network (the ceiling an evaluation can reach), and the batch that gets there."""
    judge = load_classifier("mnist", role="judge", device=str(device))
    test = to_float(load_dataset("mnist", "test").x).to(device)
    rows = []
    for precision in ("fp32", "bf16"):
        for b in batches:
            x = test[torch.arange(b, device=device) % len(test)].contiguous()
            with torch.no_grad(), autocast(device, precision):
                s = timed(lambda x=x: judge.net(x), device, repeat=5)
            rows.append({"kind": "judge_batch", "precision": precision, "batch": b, "img_s": b / s})
            print(f"  judge forward, {precision}, batch {b:6d}: {b / s:,.0f} img/s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts: a smoke run, not figures to report")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--devices", nargs="+", default=None, choices=["cpu", "cuda"],
                    help="devices to measure (default: the CPU, and the GPU when there is one); records of other devices in the results file are kept")
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS),
                    help="what to measure (default: all); records of the other parts are kept")
    ap.add_argument("--processes", nargs="+", type=int, default=[1, 2],
                    help="process counts for --parts processes (CPU, gloo; default 1 2: this machine's cores)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.devices and "cuda" in args.devices and not torch.cuda.is_available():
        sys.exit("error: --devices cuda asked for, but torch sees no GPU here; leave it out to measure the CPU")
    devices = [torch.device(d) for d in (args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))]
    sizes = [1000, 5000] if args.quick else [1000, 10000, 100000]
    widths = [16, 32] if args.quick else [32, 64, 128]
    records = []
    for device in devices:
        common = stamp("throughput.py", device.type, argv)
        print(f"== {common['device']}", flush=True)
        # a GPU gets larger counts: 5000 images and 20 steps are over before its clocks and caches settle
        n, steps = (500, 3) if args.quick else (20000, 200) if device.type == "cuda" else (5000, 20)
        if "family" in args.parts:
            for precision in ("fp32", "bf16"):
                records += [{**r, **common} for r in family_rows(device, precision, n, steps)]
        if "scaling" in args.parts:
            records += [{**r, **common} for r in scaling_rows(device, sizes, widths)]
        if "judge" in args.parts:
            records += [{**r, **common} for r in judge_batch_rows(device, [256, 1024, 4096, 16384] if not args.quick else [256, 1024])]
        if "precision" in args.parts:
            records += [{**r, **common} for r in precision_rows(device, 2000 if args.quick else 10000)]
        if "processes" in args.parts and device.type == "cpu":
            records += [{**r, **common} for r in process_rows(args.processes, 2000 if args.quick else 10000)]
        if "methods" in args.parts:
            records += [{**r, **common} for r in method_rows(device, 500 if args.quick else 10000)]
    measured = {(r["device"], part_of(r)) for r in records}
    records = [r for r in load_records(RESULTS) if (r["device"], part_of(r)) not in measured] + records
    write_records(RESULTS, "throughput", records)
    replace_block(HERE / "RESULTS.md", "throughput", table(records))
    print(f"wrote {RESULTS}")


def table(records: list[dict]) -> str:
    fam = [r for r in records if "family" in r and "kind" not in r]
    runs = "; ".join(sorted({f"`{r['command']}` ({r['device']}, {r['date']})" for r in records}))
    lines = [
        "## Throughput (`benchmarks/throughput.py`)",
        "",
        f"Devices: {', '.join(sorted({r['device'] for r in records}))}. Commands: {runs}. "
        "Evaluation = sampling + the judge's forward pass; the judge's raw forward rate on ready tensors is what the device does "
        "for that network, so the gap to it is the pipeline's overhead. bf16 = torch.autocast(bfloat16) around sampling and judging. "
        "The first `evaluate` call of a run (the 1k row) also pays one-time setup (data loading, and on a GPU the CUDA context and kernel "
        "selection), so it can take longer than the 10k row. The judge-batch table is the judge's raw forward rate by batch size: where the "
        "device saturates for that network. The GAN width table times 20 recipe steps (batch 64) per width.",
        "",
        "| device | family | precision | sampling img/s | evaluation img/s | judge img/s | judge raw forward img/s | training steps/s |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in fam:
        steps = f"{r['train_steps_s']:.2f}" if r["train_steps_s"] else "fp32 only"
        lines.append(f"| {r['device']} | {r['family']} ({r['model']}) | {r['precision']} | {r['sample_img_s']:,.0f} | {r['eval_img_s']:,.0f} | "
                     f"{r['judge_img_s']:,.0f} | {r['judge_raw_img_s']:,.0f} | {steps} |")
    lines += ["", "| device | evaluate n | wall s |", "|---|---:|---:|"]
    lines += [f"| {r['device']} | {r['n']:,} | {r['wall_s']:.1f} |" for r in records if r.get("kind") == "eval_samples"]
    lines += ["", "| device | precision | judge batch | judge raw forward img/s |", "|---|---|---:|---:|"]
    lines += [f"| {r['device']} | {r['precision']} | {r['batch']:,} | {r['img_s']:,.0f} |" for r in records if r.get("kind") == "judge_batch"]
    lines += ["", "| device | precision | evaluate n | pre-trained residual | pre-trained FID | redact-classifier residual (95% upper) | redact-classifier FID | redaction wall s |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['device']} | {r['precision']} | {r['n']:,} | {r['pretrained_residual_rate']:.4f} | {r['pretrained_fid']:.3f} | "
              f"{r['redacted_residual_rate']:.4f} ({r['redacted_residual_upper95']:.4f}) | {r['redacted_fid']:.3f} | {r['redaction_wall_s']:.1f} |"
              for r in records if r.get("kind") == "precision_effect"]
    lines += ["", "Each family's default redaction method with its default options, trained in fp32 and under bf16 (`--parts methods`): "
              "wall time of the whole method, steps/s of its training loop, and its result under the independent judge "
              "(GAN, flow: residual rate and FID of n samples; inpainter: judge accuracy on the centre-mask outputs of the forget and retain test images). "
              "The taming rows of 2026-11-25 measured the class's share on 10,000 samples every 25 steps where taming now takes 2000 (a bug, "
              "fixed in bd5badc), so their wall times carry that sampling.",
              "", "| device | family | method, target | precision | steps | wall s | loop steps/s | result |", "|---|---|---|---|---:|---:|---:|---|"]
    for r in records:
        if r.get("kind") != "method_precision":
            continue
        if "error" in r:
            lines.append(f"| {r['device']} | {r['family']} ({r['model']}) | {r['method']}, {r['target']} | {r['precision']} | - | - | - | failed: {r['error']} |")
            continue
        result = (f"forget acc {r['forget_judge_acc']:.3f}, retain acc {r['retain_judge_acc']:.3f}" if "forget_judge_acc" in r
                  else f"residual {r['residual_rate']:.4f} ({r['residual_upper95']:.4f}), FID {r['fid']:.3f}")
        lines.append(f"| {r['device']} | {r['family']} ({r['model']}) | {r['method']}, {r['target']} | {r['precision']} | {r['steps']} | "
                     f"{r['wall_s']:.1f} | {r['loop_steps_s']:.1f} | {result} |")
    lines += ["", "Several processes on the CPU (`--parts processes`): `benchmarks/ddp_check.py` (an evaluation of the zoo MNIST GAN, "
              "redact-classifier on digit 7 with its defaults, the redacted model's evaluation) in one process and under "
              "`accelerate launch --multi_gpu --num_processes N` (gloo), one torch thread per process. Every process draws the same full "
              "batch and trains on its shard; an evaluation's latent chunks are split over the processes. The evaluation column is the "
              "first `evaluate` call, which also judges the test set (its feature cache): the rows before 2026-12-07 judged the whole "
              "test set in every process, since then each process judges its share of it (on the AMD EPYC of family 23, 2 processes: "
              "60.0 s before that change, one run of `accelerate launch --multi_gpu --num_processes 2 benchmarks/ddp_check.py --n 10000 "
              "--early-steps 0` at the parent commit).",
              "", "| device | processes | evaluate n | evaluation s | redaction s | speed-up (redaction) | redacted residual | redacted FID |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        if r.get("kind") == "process_scaling":
            one = next((o for o in records if o.get("kind") == "process_scaling" and o["device"] == r["device"] and o["processes"] == 1), None)
            speed = f"{one['redact_wall_s'] / r['redact_wall_s']:.2f}x" if one else "-"
            lines.append(f"| {r['device']} | {r['processes']} | {r['n']:,} | {r['eval_wall_s']:.1f} | {r['redact_wall_s']:.1f} | {speed} | "
                         f"{r['redacted_residual_rate']:.4f} | {r['redacted_fid']:.3f} |")
    lines += ["", "| device | GAN width | ms per training step |", "|---|---:|---:|"]
    lines += [f"| {r['device']} | {r['width']} | {1000 * r['step_s']:.0f} |" for r in records if r.get("kind") == "gan_width"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
