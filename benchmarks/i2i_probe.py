"""Probe (prints only): encoder-unlearn on a zoo inpainter with each given config; prints the centre-mask
figures of the issue (forget and retain judge accuracy and FID on held-out test images, against the base
model's) and the wall time.

    python benchmarks/i2i_probe.py fashion-mnist conv 0,1,2,3,4 '[{"retain": "proxy:mnist"}, {"retain": "proxy:mnist", "anchor": 1.0}]'
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.metrics.i2i import evaluate_i2i  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import DATASET_PREFIX, load_classifier, load_model  # noqa: E402

MASK = "center-0.71"
ds, network, labels, configs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
n = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
model = load_model(f"{DATASET_PREFIX[ds]}-inpainter-{network}")
test, judge = load_dataset(ds, "test"), load_classifier(ds, role="judge")
target = parse_target(f"label={labels}", model)


def judged(m):
    return evaluate_i2i(m, test, target.labels, judge, n=n)[MASK]


base = judged(model)
bf, br = base["forget"], base["retain"]
print(f"base: forget acc {bf['acc']:.3f} FID {bf['fid']:.2f} | retain acc {br['acc']:.3f} FID {br['fid']:.2f}", flush=True)
for cfg in configs:
    t0 = time.perf_counter()
    method = cfg.pop("method", "encoder-unlearn")
    edited, log = redact(model, target, method, seed=0, progress=False, **cfg)
    r = judged(edited)
    f, rr = r["forget"], r["retain"]
    print(f"{method} {cfg}: forget acc {f['acc']:.3f} FID {f['fid']:.2f} (x{f['fid'] / bf['fid']:.2f}) | retain acc {rr['acc']:.3f} "
          f"({100 * (rr['acc'] - br['acc']):+.1f} pts) FID {rr['fid']:.2f} ({100 * (rr['fid'] / br['fid'] - 1):+.1f}%) | wall {log['wall_s']:.1f}s "
          f"(with eval {time.perf_counter() - t0:.0f}s)", flush=True)
