"""Probe (prints only): taming's class mode on a zoo flow with each given config; prints the
redaction classifier's class share at each logged step, then the class's share of 10,000 samples
under the independent evaluation judge and the mean BPD change of 2,000 test images of the other
classes (fixed dequantisation noise).

    python benchmarks/class_trace.py mnist mnist-flow 7 '[{"steps": 600}, {"steps": 600, "self_forget": 0.5}]'
"""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from genredact.api import redact
from genredact.data import load_dataset
from genredact.flow_evaluation import sample_class_mix
from genredact.seeding import make_generator
from genredact.targets import parse_target
from genredact.zoo import load_classifier, load_model

ds, name, label, configs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
model = load_model(name)
train, test = load_dataset(ds, "train"), load_dataset(ds, "test")
judge = load_classifier(ds, role="judge")
tgt = parse_target(f"label={label}", model)
lab = tgt.labels[0]
others = test.x[np.flatnonzero(test.y != lab)[:2000]]
bpd_before = model.bpd_of(others, generator=make_generator(7)).mean().item()
share_before = sample_class_mix(model, judge, n=10000, seed=1234)["shares"][lab]
for cfg in configs:
    e, log = redact(model, tgt, "taming", data=train, seed=0, progress=False, **cfg)
    shares = [(int(h["step"]), round(100 * h["share"], 2)) for h in log["history"] if "share" in h]
    print(cfg, f"wall {log['wall_s']:.1f}s steps {log['steps']} {log['stop_reason']}", flush=True)
    print("   (step, classifier share %):", shares, flush=True)
    after = sample_class_mix(e, judge, n=10000, seed=1234)["shares"][lab]
    bpd_after = e.bpd_of(others, generator=make_generator(7)).mean().item()
    print(f"   judge share {100 * share_before:.2f}% -> {100 * after:.2f}%; other classes' test BPD {bpd_before:.4f} -> {bpd_after:.4f} ({100 * (bpd_after / bpd_before - 1):+.2f}%)", flush=True)
