"""One redaction and its evaluation, for benchmarks/reliability.py to run plainly and under
`accelerate launch --multi_gpu --num_processes 2` (gloo on CPU) and compare.

    python benchmarks/ddp_check.py --out single.json
    accelerate launch --multi_gpu --num_processes 2 benchmarks/ddp_check.py --out multi.json

The zoo's MNIST DCGAN, digit 7 redacted with redact-classifier (its defaults; every process takes its
shard of the same batch), evaluated under the independent judge on --n samples. The main process writes
the figures.

    python benchmarks/ddp_check.py --family inpainter --out single.json

With `--family inpainter`: the zoo's MNIST convolutional inpainter, digits 0-4 unlearned with
encoder-unlearn (its defaults, real retain data), and the paired image-to-image metrics of --n test
images per split (each process completes and judges its shard).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from genredact.api import redact
from genredact.engine.dist import is_main, world
from genredact.evaluation import evaluate
from genredact.targets import parse_target
from genredact.zoo import load_classifier, load_model

KEYS = ("residual_rate", "residual_upper95", "fid", "kid", "precision", "recall")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the redaction (another seed in one process shows the method's own spread)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                    help="float64 runs model, judge and data in double precision: float rounding then starts ~1e9 times smaller")
    ap.add_argument("--early-steps", type=int, default=2, help="a second, short redaction whose weights are saved for comparison (0: none)")
    ap.add_argument("--family", choices=["gan", "inpainter"], default="gan", help="gan (default) or inpainter (float32 only)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.family == "inpainter":
        return inpainter(args)
    dtype = getattr(torch, args.dtype)
    torch.set_default_dtype(dtype)  # latents and data (genredact.data.to_float) follow the default dtype
    model = load_model("mnist-dcgan").to(dtype)
    judge = load_classifier("mnist", role="judge").to(dtype)
    target = parse_target("label=7", model)
    target.classifier.to(dtype)
    t0 = time.perf_counter()
    before = evaluate(model, labels=target.labels, judge=judge, n=args.n)
    eval_s = time.perf_counter() - t0
    edited, log = redact(model, target, "redact-classifier", seed=args.seed, progress=False)
    after = evaluate(edited, labels=target.labels, judge=judge, n=args.n)
    # The first steps alone: do the weights agree before float rounding has had time to grow?
    early = redact(model, target, "redact-classifier", seed=args.seed, progress=False, steps=args.early_steps)[0] if args.early_steps > 0 else None
    if is_main() and early is not None:
        weights = {**{f"G.{k}": v for k, v in early.generator.state_dict().items()}, **{f"D.{k}": v for k, v in early.discriminator.state_dict().items()}}
        save_file({k: v.detach().contiguous() for k, v in weights.items()}, args.out + ".early.safetensors")
    if is_main():
        Path(args.out).write_text(json.dumps({"world": world()[1], "dtype": args.dtype, "before": {k: before[k] for k in KEYS}, "after": {k: after[k] for k in KEYS},
                                              "redact_wall_s": log["wall_s"], "eval_wall_s": eval_s}))


def inpainter(args: argparse.Namespace) -> None:
    from genredact.data import load_dataset
    from genredact.metrics.i2i import evaluate_i2i

    model = load_model("mnist-inpainter-conv")
    judge = load_classifier("mnist", role="judge")
    target = parse_target("label=0,1,2,3,4", model)
    test = load_dataset("mnist", "test")

    def figures(m: torch.nn.Module) -> dict:
        return {f"{mask}/{split}": {k: v for k, v in r.items() if k != "n"} for mask, splits in evaluate_i2i(m, test, target.labels, judge, n=args.n).items()
                for split, r in splits.items()}

    before = figures(model)
    edited, log = redact(model, target, "encoder-unlearn", seed=args.seed, progress=False)
    after = figures(edited)
    if is_main():
        Path(args.out).write_text(json.dumps({"world": world()[1], "before": before, "after": after, "redact_wall_s": log["wall_s"]}))


if __name__ == "__main__":
    main()
