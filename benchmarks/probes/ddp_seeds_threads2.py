"""Probe (prints only): benchmarks/ddp_check.py in one process with 2 torch threads for seeds 0-4, the FID and
residual rate after the redaction. Beside the ddp-seeds part of benchmarks/reliability.py (1 process, 1 thread
against 2 processes): does any float32 rounding change (here: another summation order, no second process)
move the mean FID the way the 2-process runs did?

    python benchmarks/probes/ddp_seeds_threads2.py
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
with tempfile.TemporaryDirectory() as work:
    for seed in range(5):
        out = Path(work) / f"t2_s{seed}.json"
        subprocess.run([sys.executable, str(HERE / "ddp_check.py"), "--out", str(out), "--threads", "2", "--seed", str(seed)], check=True, cwd=HERE.parent)
        after = json.loads(out.read_text())["after"]
        print(f"seed {seed}: 1 process, 2 threads: FID {after['fid']:.4f} residual {after['residual_rate']:.4f}", flush=True)
