"""Probe (prints only): taming's debias mode on a zoo flow with each given config; prints the
redaction classifier's max mix error (percentage points) at each logged step and the run's wall time, then
the mix of 10,000 samples under the independent evaluation judge against the same target.

    python benchmarks/debias_trace.py mnist mnist-flow "7:0.3" '[{"steps": 300}, {"steps": 300, "lr": 3e-4}]' [CLASSIFIER_FOLDER]

A classifier folder as the fifth argument steers instead of the zoo's redaction classifier (the LeNet; the judge
stays the zoo's evaluation judge). The runs fine-tune (debias="resample", taming's default for a mix until
2026-11-25) unless a config names another debias mode.
"""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from genredact.api import redact
from genredact.data import load_dataset
from genredact.flow_evaluation import sample_class_mix
from genredact.targets import parse_target
from genredact.zoo import load_classifier, load_model

ds, name, mix, configs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
model = load_model(name)
train = load_dataset(ds, "train")
judge = load_classifier(ds, role="judge")
steer_name = sys.argv[5] if len(sys.argv) > 5 else None
steer = load_model(steer_name) if steer_name else load_classifier(ds, role="redaction")
tgt = parse_target(f"mix={mix}", model, classifier=steer, classifier_source=steer_name or "redaction classifier")
for cfg in configs:
    e, log = redact(model, tgt, "taming", data=train, seed=0, progress=False, **{"debias": "resample", **cfg})
    h = log["history"]
    errs = [(int(r["step"]), round(100 * r["max_err"], 2)) for r in h]
    print(cfg, f"wall {log['wall_s']:.1f}s steps {log['steps']} {log['stop_reason']} {log.get('kept', '')}", flush=True)
    print("   (step, classifier max err pp) as the history logged them:", errs, flush=True)
    print("   target      ", np.round(log["target_mix"], 3).tolist())
    print("   classifier  ", np.round(log["mix_after_classifier"], 3).tolist())
    print("   class stream", np.round(log["class_stream"], 3).tolist(), flush=True)
    before, after = (sample_class_mix(m, judge, n=10000, seed=1234) for m in (model, e))
    q = tgt.resolve(np.asarray(before["shares"]))
    print("   judge after ", np.round(after["shares"], 3).tolist())
    print(f"   judge max err pp {100 * np.abs(np.asarray(after['shares']) - q).max():.2f} (before {100 * np.abs(np.asarray(before['shares']) - q).max():.2f})", flush=True)
