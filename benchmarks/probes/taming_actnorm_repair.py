"""Probe (prints only): can the remember drift left by taming be repaired through the flow's global scale
parameters alone? Runs taming (stats="batch") for STEPS1 steps on n forget images of one class (the
benchmark's draw), then trains only the ActNorm parameters on the remember images' NLL (batch 64, Adam at LR2)
for STEPS2 steps. Prints, after the first phase and every 10 steps of the second, the mean BPD drift of
1000 training images outside the class (fixed dequantisation noise), their sigma ratio, and each forget
image's distance to the band level mu + 4 sigma in sigmas.

    python benchmarks/probes/taming_actnorm_repair.py mnist mnist-flow 7 5 150 actnorm 1e-3 60
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import forget_indices  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.methods._flow import forget_split  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import load_model  # noqa: E402

ds, name, label, n, steps1, which, lr2, steps2 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], float(sys.argv[7]), int(sys.argv[8])
if which != "actnorm":
    raise SystemExit("the second phase trains 'actnorm' parameters only")
model = load_model(name)
train = load_dataset(ds, "train")
lab = train.class_names.index(label)
idx = forget_indices(train, lab, (1, 5, 15))[n]
tgt = parse_target("indices=" + ",".join(map(str, idx)), model)
split = forget_split(train, tgt)
others = np.flatnonzero(train.y != lab)
ev = torch.as_tensor(train.x[np.random.default_rng(0).choice(others, 1000, replace=False)])
fx = torch.as_tensor(split.forget)
b0 = model.bpd_of(ev, generator=make_generator(5))
mu0, sd0 = float(b0.mean()), float(b0.std())


def report(m, tag: str) -> None:
    b = m.bpd_of(ev, generator=make_generator(5))
    mu, sd = float(b.mean()), float(b.std())
    d = (m.bpd_of(fx, generator=make_generator(6)) - (mu + 4 * sd)) / sd
    print(tag, f"drift {100 * (mu - mu0) / mu0:+.2f}% sigma {sd / sd0:.3f} d/sigma {np.round(d.numpy(), 2)}", flush=True)


t0 = time.time()
edited, log = redact(model, tgt, "taming", data=train, seed=0, progress=False, stats="batch", steps=steps1)
print("phase1", log["steps"], f"{time.time() - t0:.1f}s", log["stop_reason"])
report(edited, "after phase 1")
edited.net.requires_grad_(False)
for mod in edited.net.modules():
    if type(mod).__name__ == "ActNorm":
        mod.requires_grad_(True)
params = [p for p in edited.net.parameters() if p.requires_grad]
print("phase2 params", sum(p.numel() for p in params))
opt = torch.optim.Adam(params, lr2)
remember = torch.as_tensor(split.remember.x)
g = make_generator(11)
t0 = time.time()
for i in range(steps2):
    loss = edited.bpd(remember[torch.randint(0, len(remember), (64,), generator=g)], generator=g).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if (i + 1) % 10 == 0:
        with torch.no_grad():
            report(edited, f"  phase2 step {i + 1} ({time.time() - t0:.1f}s)")
