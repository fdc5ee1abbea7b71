"""Probe (prints only): where the time of a taming images-mode run goes, and its whole history.

Runs taming on n training images of one class (the same train indices as benchmarks/flow_taming.py
draws for that size) under cProfile, with each given config. Prints the wall time and steps, the
cumulative seconds in the training step, the band-statistics refresh and the in-band check, then
(step, in-band share, remember drift) for every logged step.

    python benchmarks/taming_profile.py mnist mnist-flow 7 5 '[{}, {"gamma": 0.2}]'
"""
import cProfile
import json
import pstats
import sys

import torch

torch.set_num_threads(1)
from genredact.api import redact
from genredact.data import load_dataset
from genredact.targets import parse_target
from genredact.zoo import load_model
from flow_taming import forget_indices

ds, name, label, n, configs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
model = load_model(name)
train = load_dataset(ds, "train")
lab = train.class_names.index(label)
idx = forget_indices(train, lab, (1, 5, 15))[n]  # the benchmark's images for that size
tgt = parse_target("indices=" + ",".join(map(str, idx)), model)
for cfg in configs:
    prof = cProfile.Profile()
    prof.enable()
    e, log = redact(model, tgt, "taming", data=train, seed=0, progress=False, **cfg)
    prof.disable()
    cum = {f[2]: v[3] for f, v in pstats.Stats(prof).stats.items() if f[0].endswith("taming.py")}
    print(cfg, f"wall {log['wall_s']:.1f}s steps {log['steps']}  step {cum.get('step', 0):.1f}s  refresh {cum.get('refresh', 0):.1f}s  in-band check {cum.get('in_band_share', 0):.1f}s", flush=True)
    print("   (step, in band, remember drift %):", [(int(h["step"]), round(h["in_band"], 2), round(100 * h["remember_drift"], 2)) for h in log["history"]], flush=True)
