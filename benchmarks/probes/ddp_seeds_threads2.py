"""Probe (prints only): benchmarks/ddp_check.py in one process with 2 torch threads for seeds 0-4, the FID and
residual rate after the redaction. Beside the ddp-seeds part of benchmarks/reliability.py (1 process, 1 thread
against 2 processes): does any float32 rounding change (here: another summation order, no second process)
move the mean FID the way the 2-process runs did?

    python benchmarks/probes/ddp_seeds_threads2.py
"""
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for reliability
from reliability import ddp_runs  # noqa: E402

with tempfile.TemporaryDirectory() as work:
    runs, _ = ddp_runs(Path(work), tuple((f"t2_s{seed}", [sys.executable], ["--threads", "2", "--seed", str(seed)]) for seed in range(5)))
for seed in range(5):
    after = runs[f"t2_s{seed}"]["after"]
    print(f"seed {seed}: 1 process, 2 threads: FID {after['fid']:.4f} residual {after['residual_rate']:.4f}", flush=True)
