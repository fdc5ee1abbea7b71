"""Probe (prints only): launch tests/ddp_worker.py under `accelerate launch` (2 CPU processes, gloo) N times and
count the runs that fail, and those whose log has "terminate called without an active exception" (a rank aborted
at exit with gloo's threads unjoined; seen in a fresh-clone CI run of tests/test_ddp.py on 2026-11-25, before
`world()` registered the process group's shutdown at exit).

    python benchmarks/probes/ddp_exit_repeat.py 20

Printed on 2026-11-25 (session 22, AMD EPYC family 26, after the fix): 0 failed, 0 aborted at exit, of 20.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    failed = aborted = 0
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            res = subprocess.run([*LAUNCH, str(ROOT / "tests" / "ddp_worker.py"), "--out", str(Path(tmp) / f"{i}.json")],
                                 capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
            failed += res.returncode != 0
            aborted += "terminate called without an active exception" in res.stderr
            print(f"run {i}: exit {res.returncode}", flush=True)
    print(f"{failed} failed, {aborted} aborted at exit, of {n}")


if __name__ == "__main__":
    main()
