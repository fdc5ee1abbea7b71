"""Probe (prints only): encoder-unlearn with forget_to="classifier" on a zoo inpainter, centre-0.71 training masks,
real retain data, 150 steps, scored on 2000 test images per split with the centre mask (as benchmarks/i2i_unlearning.py),
under the evaluation judge and, for comparison, under other classifiers. Which classifiers steer decides whether the
outputs become another class or a pattern that fools the steering classifier alone.

    python benchmarks/probes/i2i_steer_classifiers.py DATASET NETWORK LABELS CLASSIFIER STEER CONFIG [ALSO ...]

CLASSIFIER: the target's classifier (a zoo name); STEER: encoder-unlearn's steer option ('' = the zoo's ensemble
beside it, 'none' = CLASSIFIER alone); CONFIG: more encoder-unlearn options (JSON, e.g. '{"alpha": 0.05}'); ALSO:
more zoo classifiers to score with.
"""
import json
import sys

import torch

from genredact.api import redact
from genredact.data import load_dataset
from genredact.metrics.i2i import evaluate_i2i
from genredact.targets import parse_target
from genredact.zoo import DATASET_PREFIX, load_classifier, load_model

torch.set_num_threads(1)
ds, net, labels, clf_name, steer, config, *also = sys.argv[1:]
test = load_dataset(ds, "test")
model = load_model(f"{DATASET_PREFIX[ds]}-inpainter-{net}")
target = parse_target(f"label={labels}", model, classifier=load_model(clf_name), classifier_source=clf_name)
scorers = {"judge": load_classifier(ds, role="judge"), **{name: load_model(name) for name in also}}


def scored(m: torch.nn.Module) -> dict:
    return {name: evaluate_i2i(m, test, target.labels, c, n=2000)["center-0.71"] for name, c in scorers.items()}


base = scored(model)
bf, br = base["judge"]["forget"], base["judge"]["retain"]
print(f"{model.__class__.__name__} {DATASET_PREFIX[ds]}-inpainter-{net}, forget {list(target.labels)}: base forget acc {bf['acc']:.3f} FID {bf['fid']:.2f} | "
      f"retain acc {br['acc']:.3f} FID {br['fid']:.2f}", flush=True)
opts = {"retain": "real", "mask": "center", "mask_size": 0.71, **json.loads(config)}
edited, log = redact(model, target, "encoder-unlearn", seed=0, progress=False, forget_to="classifier", steer=steer, **opts)
res = scored(edited)
f, r = res["judge"]["forget"], res["judge"]["retain"]
print(f"  steered by {log['steered_by']}, {json.loads(config)}: judge forget acc {f['acc']:.3f} FID {f['fid']:.2f} ({f['fid'] / bf['fid']:.1f}x) | "
      f"retain acc {r['acc']:.3f} ({100 * (r['acc'] - br['acc']):+.1f}) FID {r['fid']:.2f} ({100 * (r['fid'] / br['fid'] - 1):+.1f}%) | {log['wall_s']:.1f} s", flush=True)
for name in also:
    print(f"    under {name}: forget acc {base[name]['forget']['acc']:.3f} -> {res[name]['forget']['acc']:.3f}, "
          f"retain acc {base[name]['retain']['acc']:.3f} -> {res[name]['retain']['acc']:.3f}", flush=True)
