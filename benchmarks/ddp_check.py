"""One redaction and its evaluation, for benchmarks/reliability.py to run plainly and under
`accelerate launch --multi_gpu --num_processes 2` (gloo on CPU) and compare.

    python benchmarks/ddp_check.py --out single.json
    accelerate launch --multi_gpu --num_processes 2 benchmarks/ddp_check.py --out multi.json

The zoo's MNIST DCGAN, digit 7 redacted with redact-classifier (its defaults; every process takes its
shard of the same batch), evaluated under the independent judge on --n samples. The main process writes
the figures.
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
    ap.add_argument("--early-steps", type=int, default=2, help="a second, short redaction whose weights are saved for comparison")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
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
    early, _ = redact(model, target, "redact-classifier", seed=args.seed, progress=False, steps=args.early_steps)
    if is_main():
        weights = {**{f"G.{k}": v for k, v in early.generator.state_dict().items()}, **{f"D.{k}": v for k, v in early.discriminator.state_dict().items()}}
        save_file({k: v.detach().contiguous() for k, v in weights.items()}, args.out + ".early.safetensors")
        Path(args.out).write_text(json.dumps({"world": world()[1], "dtype": args.dtype, "before": {k: before[k] for k in KEYS}, "after": {k: after[k] for k in KEYS},
                                              "redact_wall_s": log["wall_s"], "eval_wall_s": eval_s}))


if __name__ == "__main__":
    main()
