"""Probe that set taming's defaults (prints only): forget 5 training images of one class with several
configs and print wall time, steps, band share, random retain BPD change and held-out BPD.

    python benchmarks/flow_tune.py fashion-mnist fashion-flow 5 '[{"lr": 1e-4, "steps": 300, "alpha": 0.3}]'
"""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from genredact.api import redact
from genredact.data import load_dataset
from genredact.targets import parse_target
from genredact.zoo import load_model
from genredact.seeding import make_generator
ds, name, label = sys.argv[1], sys.argv[2], int(sys.argv[3])
configs = json.loads(sys.argv[4])
model = load_model(name); train = load_dataset(ds, "train")
rng = np.random.default_rng(0)
pool = np.flatnonzero(train.y == label)
idx = np.sort(rng.choice(pool, 5, replace=False))
tgt = parse_target("indices=" + ",".join(map(str, idx)), model)
retain = train.x[rng.choice(np.flatnonzero(train.y != label), 200, replace=False)]
held = train.x[np.setdiff1d(pool, idx)[:50]]
g=lambda: make_generator(1)
b0 = model.bpd_of(retain, generator=g()).numpy(); f0 = model.bpd_of(tgt.images, generator=g()).numpy(); h0=model.bpd_of(held, generator=g()).numpy()
print("base retain", b0.mean(), b0.std(), "forget", f0, "held", h0.mean(), flush=True)
for cfg in configs:
    e, log = redact(model, tgt, "taming", data=train, progress=False, **cfg)
    b1 = e.bpd_of(retain, generator=g()).numpy(); f1 = e.bpd_of(tgt.images, generator=g()).numpy(); h1=e.bpd_of(held, generator=g()).numpy()
    print(cfg, f"wall {log['wall_s']:.1f} steps {log['steps']} band {log['in_band_share']} level {log['band_level']:.3f} retain {b1.mean():.4f} ({100*(b1.mean()-b0.mean())/b0.mean():+.2f}%) forget {np.round(f1,3)} held {h1.mean():.3f}", flush=True)
