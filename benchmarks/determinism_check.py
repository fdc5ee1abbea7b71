"""Probe (prints only): are uninterrupted runs of the resume test's redaction bit-identical?

Runs the CLI redaction of tests/test_resume.py N times into /tmp/genredact-determinism and prints, for
each run, whether its weights equal the first run's and the largest difference.

    python benchmarks/determinism_check.py 16
"""
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

REDACT = ["redact", "mnist-dcgan", "--method", "redact-classifier", "--target", "label=7", "--set", "steps=60", "--set", "pool_size=20",
          "--set", "batch_size=16", "--no-eval", "--quiet", "--checkpoint-every", "0"]
base = Path("/tmp/genredact-determinism")
shutil.rmtree(base, ignore_errors=True)
base.mkdir(parents=True)
ref = None
for t in range(int(sys.argv[1])):
    subprocess.run([sys.executable, "-m", "genredact", *REDACT, "--out", str(base / f"w{t}")], capture_output=True, check=True)
    w = load_file(str(base / f"w{t}" / "model" / "model.safetensors"))
    ref = ref or w
    print(t, "identical to run 0:", all(torch.equal(ref[k], w[k]) for k in w), "max difference:", max((ref[k] - w[k]).abs().max().item() for k in w), flush=True)
