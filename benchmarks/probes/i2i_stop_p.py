"""Probe (prints only): encoder-unlearn with forget_to="classifier" and its early stop `stop_p`, on a zoo inpainter,
with the settings of the benchmark's steered rows (centre-0.71 training masks, real retain data, alpha 0.05,
100 steps), scored as benchmarks/i2i_unlearning.py scores (evaluation judge, centre-0.71 mask, the first 2000 test
images per split). One line per stop_p: steps taken, the steering classifiers' probability at the stop, and the
judge's figures against the base model's.

    python benchmarks/probes/i2i_stop_p.py DATASET NETWORK LABELS STOP_P [STOP_P ...]

e.g. `python benchmarks/probes/i2i_stop_p.py fashion-mnist mae 0,1,2,3,4 0 0.1 0.05 0.02` (0: every step).

Printed on 2026-12-07 (AMD EPYC family 23, one thread, other jobs beside it, so the seconds are not comparable;
the steps are). A stop_p of 1e-9 never stops and traces every check (step: p, retain fills' move): on
fashion-inpainter-conv / Sandal 0: 0.633, 0.000; 10: 0.029, 0.105; 20: 0.033, 0.032; then 0.014-0.019; on
fashion-inpainter-mae / half the move settled at 0.16-0.19 and p at 0.13 (so stop_p 0.1 never stops there; the 100-step column is these 1e-9 runs). With
the forget bar alone (a7129c1), Sandal stopped at step 10 with retain accuracy -1.7 points and retain FID +32.9%.
With the rule that also waits for the retain fills to stop moving away (e15a7fa), stop_p 0.2:

| model, forget | steps | judge forget acc | forget FID | retain acc | retain FID | 100 steps (stop_p 0) |
|---|---:|---:|---:|---:|---:|---|
| fashion conv, Sandal | 20 | 0.031 | 2.58x | -0.3 | +9.1% | 0.011, 2.58x, +0.1, +1.4% |
| fashion mae, half | 30 | 0.110 | 5.07x | +6.5 | +2.6% | 0.070, 5.60x, +6.1, +3.4% |
| mnist mae, half | 30 | 0.000 | 1.12x | -3.2 | -5.2% | 0.000, 1.13x, -2.1, -4.2% |
| fashion conv, half | 60 | 0.071 | 5.91x | +8.4 | -8.5% | 0.069, 5.94x, +8.1, -8.8% |
| mnist conv, half | 20 | 0.025 | 1.47x | +5.1 | -4.4% | 0.016, 1.47x, +6.0, -9.3% |
| mnist conv, 7 | 20 | 0.028 | 5.33x | +2.3 | +2.1% | 0.000, 5.33x, +2.7, -1.6% |
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
