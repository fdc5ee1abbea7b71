"""Probe (prints only): encoder-unlearn for 30 steps (real retain, centre mask 0.71) on a zoo inpainter, once per
target, with the whole wall time and the loop's: does the forget set change the cost of a step?

    python benchmarks/probes/i2i_forget_set_step.py fashion-inpainter-conv fashion-mnist label=5 label=0,1,2,3,4 label=5
"""
import sys

import torch

from genredact.api import redact
from genredact.data import load_dataset
from genredact.zoo import load_model

torch.set_num_threads(1)
m = load_model(sys.argv[1])
train = load_dataset(sys.argv[2], "train")
for tgt in sys.argv[3:]:
    e, log = redact(m, tgt, "encoder-unlearn", data=train, seed=0, progress=False, steps=30, retain="real", mask="center", mask_size=0.71)
    print(tgt, "wall", round(log["wall_s"], 2), "loop", round(log["loop_wall_s"], 2), flush=True)
