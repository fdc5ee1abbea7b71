"""Probe (prints only): taming on n forget images of one class, the same train indices as
benchmarks/flow_taming.py draws for that size, with each given config; prints the run's history every
200 steps (forget loss, in-band share, remember drift) and where the images end under the benchmark's
band (flow_metrics: d / sigma per image, retain BPD change).

    python benchmarks/taming_trace.py mnist mnist-flow 7 5 '[{}, {"lr": 3e-4}]'
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
from flow_taming import forget_indices
from genredact.methods._flow import forget_split
from genredact.metrics.flow import flow_metrics
ds, name, label, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
configs = json.loads(sys.argv[5])
model = load_model(name); train = load_dataset(ds, "train"); test = load_dataset(ds, "test")
lab = train.class_names.index(label)
idx = forget_indices(train, lab, (1, 5, 15))[n]  # the benchmark's images for that size
tgt = parse_target("indices=" + ",".join(map(str, idx)), model)
for cfg in configs:
    e, log = redact(model, tgt, "taming", data=train, seed=0, progress=False, **cfg)
    h = log["history"]
    print(cfg, f"wall {log['wall_s']:.1f} steps {log['steps']} reason {log['stop_reason']}")
    for i, r in enumerate(h):
        if i % 20 == 0 or i == len(h) - 1:
            print("  ", i, {k: round(v, 4) for k, v in r.items() if isinstance(v, float)})
    split = forget_split(train, tgt)
    fm = flow_metrics(model, e, train=train, test=test, forget_idx=split.forget_idx, forget=split.forget, classes=(lab,), judge=None)
    a = fm["after"]
    d = (fm["after"]["_bpd"]["forget"] - a["band_level"]) / a["sigma"]
    print(f"   in band {a['forget_in_band']:.0%} d/sigma {np.round(d, 2)} retain {fm['remember_shift']}", flush=True)
