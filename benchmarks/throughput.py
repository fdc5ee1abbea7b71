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
from datetime import datetime, timezone
from pathlib import Path

import torch

from genredact.data import load_dataset, to_float
from genredact.evaluation import evaluate
from genredact.seeding import make_generator
from genredact.zoo import load_classifier, load_model

sys.path.insert(0, str(Path(__file__).parent))
from _results import HERE, device_name, replace_block, write_records  # noqa: E402

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts: a smoke run, not figures to report")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    command = "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    n, steps = (500, 3) if args.quick else (5000, 20)
    sizes = [1000, 5000] if args.quick else [1000, 10000, 100000]
    widths = [16, 32] if args.quick else [32, 64, 128]
    records = []
    for device in devices:
        common = {"device": device_name(device.type), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "command": command.strip()}
        print(f"== {common['device']}", flush=True)
        for precision in ("fp32", "bf16"):
            records += [{**r, **common} for r in family_rows(device, precision, n, steps)]
        records += [{**r, **common} for r in scaling_rows(device, sizes, widths)]
    write_records(RESULTS, "throughput", records)
    replace_block(HERE / "RESULTS.md", "throughput", table(records))
    print(f"wrote {RESULTS}")


def table(records: list[dict]) -> str:
    fam = [r for r in records if "family" in r]
    lines = [
        "## Throughput (`benchmarks/throughput.py`)",
        "",
        f"Devices: {', '.join(sorted({r['device'] for r in records}))}. Command: `{records[0]['command']}` ({records[0]['date']}). "
        "Evaluation = sampling + the judge's forward pass; the judge's raw forward rate on ready tensors is what the device does "
        "for that network, so the gap to it is the pipeline's overhead. bf16 = torch.autocast(bfloat16) around sampling and judging.",
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
    lines += ["", "| device | GAN width | ms per training step |", "|---|---:|---:|"]
    lines += [f"| {r['device']} | {r['width']} | {1000 * r['step_s']:.0f} |" for r in records if r.get("kind") == "gan_width"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
