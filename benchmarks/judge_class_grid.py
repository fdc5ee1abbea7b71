"""Probe: what the evaluation judge counts as one class among a flow's samples.

Samples n images from a zoo flow at the evaluation temperature (0.7, seed 1234, as the flow table),
prints the share the judge puts in the class, and writes a grid of the first 64 of them to OUT.

    python benchmarks/judge_class_grid.py mnist-flow mnist 7 benchmarks/figures/mnist-flow_judge_7.png
"""
import sys

import torch

from genredact.flow_evaluation import EVAL_TEMPERATURE
from genredact.report.grids import save_grid
from genredact.seeding import make_generator
from genredact.zoo import load_classifier, load_model

name, dataset, label, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
torch.set_num_threads(1)
model, judge = load_model(name), load_classifier(dataset, role="judge")
c = list(judge.class_names).index(label)
x = model.sample(n, temperature=EVAL_TEMPERATURE, generator=make_generator(1234))
pred = judge.predict(x)[0].argmax(1)
print(f"{name}: the judge puts {(pred == c).double().mean().item():.2%} of {n} samples (temperature {EVAL_TEMPERATURE}) in class {label}")
save_grid(x[pred == c][:64], out, nrow=8)
print(f"wrote {out}")
