"""Quick tuning probe: redact one class with several method configs and print the judge's figures.

    python benchmarks/tune.py MODEL LABEL '[{"negative_threshold": 0.1, "guide_shift": 2}, ...]'

Each config may name "method" (default redact-classifier). Prints one line per config (5000 samples,
one CPU thread); it writes no result file, so its figures only inform defaults.
"""
from __future__ import annotations

import json
import sys

import torch

import genredact
from genredact.evaluation import evaluate
from genredact.targets import parse_target


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    model = genredact.load_model(argv[0])
    spec = f"label={argv[1]}"
    labels = parse_target(spec, model).labels
    base = evaluate(model, labels=labels, n=5000)
    print("base", {k: round(base[k], 4) for k in ("residual_rate", "fid", "precision", "recall")}, flush=True)
    for cfg in json.loads(argv[2]):
        method = cfg.pop("method", "redact-classifier")
        edited, log = genredact.redact(model, spec, method, progress=False, **cfg)
        r = evaluate(edited, labels=labels, n=5000)
        extra = {}
        if "stage1" in log:
            extra["adapted_share"] = [round(s, 3) for s in log["stage1"].get("adapted_target_share", [])]
            extra["dist_first_last"] = [h["dist"] for h in log["history"] if "dist" in h][:: max(1, log["stage2"]["steps"] - 1)]
        print(method, cfg, round(log["wall_s"], 1), {k: round(r[k], 4) for k in ("residual_rate", "residual_upper95", "fid", "precision", "recall")}, extra, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
