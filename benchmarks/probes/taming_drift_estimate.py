"""Probe (prints only): is the remember drift that stops taming's 5-image run an honest estimate?

Runs the benchmark's row 'taming (batch statistics, aim_gain=0.1)' on the 5 images benchmarks/flow_taming.py
forgets, then prints the drift the run stopped on (the mean BPD shift of the last stat_steps remember batches,
over the original's mean), the same shift over 60 fresh batches of 16 remember images scored by the edited and the
original model (in train mode, then eval mode: the flow has no batch-dependent layer, so the two differ by their
draws only), and the benchmark's random-retain BPD change (flow_metrics).

    python benchmarks/probes/taming_drift_estimate.py mnist mnist-flow 7

Printed on 2026-11-25 (AMD EPYC family 26, beside a test run): 469 steps; drift at the stop 0.987%; fresh batches
0.822% (train mode) and 0.899% (eval mode); benchmark retain change 0.779%. The window's estimate sits within its
noise of the fresh ones (a 256-image window: about 0.1 point), so the run's long wait at 1.1-1.5% before it stops is
the drift itself, not a biased gauge.
"""
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import forget_indices  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.methods._flow import forget_split  # noqa: E402
from genredact.methods.taming import _bpd_from_log_prob  # noqa: E402
from genredact.metrics.flow import flow_metrics  # noqa: E402
from genredact.models.flow import dequantize  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import load_model  # noqa: E402

ds, name, label = sys.argv[1], sys.argv[2], sys.argv[3]
model = load_model(name)
train, test = load_dataset(ds, "train"), load_dataset(ds, "test")
lab = train.class_names.index(label)
target = parse_target("indices=" + ",".join(map(str, forget_indices(train, lab, (1, 5, 15))[5])), model)
edited, log = redact(model, target, "taming", data=train, seed=0, progress=False, stats="batch", aim_gain=0.1)
print(f"steps {log['steps']}; drift at the stop {100 * log['remember_drift']:.3f}%", flush=True)
split = forget_split(train, target)
remember_x = torch.as_tensor(split.remember.x)
g = make_generator(5)
for mode in ("train", "eval"):
    edited.train(mode == "train")
    shifts = []
    with torch.no_grad():
        for _ in range(60):
            y = dequantize(remember_x[torch.randint(0, len(remember_x), (16,), generator=g)], generator=g)
            shifts.append(float((_bpd_from_log_prob(edited, y) - _bpd_from_log_prob(model, y)).mean()))
    print(f"{mode} mode, 60 fresh batches of 16: {100 * np.mean(shifts) / log['mu_original']:.3f}%", flush=True)
edited.eval()
fm = flow_metrics(model, edited, train=train, test=test, forget_idx=split.forget_idx, forget=split.forget, classes=(lab,), judge=None)
print(f"benchmark retain change {fm['remember_shift']['change_pct']:.3f}%")
