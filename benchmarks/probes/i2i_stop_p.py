"""Probe (prints only): encoder-unlearn with forget_to="classifier" and its early stop `stop_p`, on a zoo inpainter,
with the settings of the benchmark's steered rows (centre-0.71 training masks, real retain data, alpha 0.05,
100 steps), scored as benchmarks/i2i_unlearning.py scores (evaluation judge, centre-0.71 mask, the first 2000 test
images per split). One line per stop_p: steps taken, the steering classifiers' probability at the stop, and the
judge's figures against the base model's.

    python benchmarks/probes/i2i_stop_p.py DATASET NETWORK LABELS STOP_P [STOP_P ...]

e.g. `python benchmarks/probes/i2i_stop_p.py fashion-mnist mae 0,1,2,3,4 0 0.1 0.05 0.02` (0: every step).
"""
import sys

import torch

from genredact.api import redact
from genredact.data import load_dataset
from genredact.metrics.i2i import evaluate_i2i
from genredact.targets import parse_target
from genredact.zoo import DATASET_PREFIX, load_classifier, load_model

torch.set_num_threads(1)
ds, net, labels, *stops = sys.argv[1:]
test = load_dataset(ds, "test")
name = f"{DATASET_PREFIX[ds]}-inpainter-{net}"
model = load_model(name)
target = parse_target(f"label={labels}", model)
judge = load_classifier(ds, role="judge")


def scored(m: torch.nn.Module) -> dict:
    return evaluate_i2i(m, test, target.labels, judge, masks=(("center", 0.71),), n=2000)["center-0.71"]


base = scored(model)
bf, br = base["forget"], base["retain"]
print(f"{name}, forget {list(target.labels)}: base forget acc {bf['acc']:.3f} FID {bf['fid']:.2f} | retain acc {br['acc']:.3f} FID {br['fid']:.2f}", flush=True)
for stop_p in map(float, stops):
    edited, log = redact(model, target, "encoder-unlearn", seed=0, progress=False, retain="real", mask="center", mask_size=0.71, alpha=0.05,
                         steps=100, forget_to="classifier", stop_p=stop_p)
    res = scored(edited)
    f, r = res["forget"], res["retain"]
    last = log.get("stop_checks", [[None, float("nan"), float("nan")]])[-1]
    print(f"  stop_p {stop_p}: {log['steps']} steps (p {last[1]:.4f}, retain fills moved {last[2]:.3f} at the last check), {log['wall_s']:.1f} s | judge forget acc {f['acc']:.3f} "
          f"FID {f['fid']:.2f} ({f['fid'] / bf['fid']:.2f}x) | retain acc {r['acc']:.3f} ({100 * (r['acc'] - br['acc']):+.1f}) "
          f"FID {r['fid']:.2f} ({100 * (r['fid'] / br['fid'] - 1):+.1f}%)", flush=True)
    if log.get("stop_checks"):
        print("    checks (step: p, moved): " + ", ".join(f"{int(s)}: {p:.3f}, {m:.3f}" for s, p, m in log["stop_checks"]), flush=True)
