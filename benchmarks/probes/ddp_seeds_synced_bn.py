"""Probe (prints only): the ddp-seeds redaction (benchmarks/ddp_check.py) in one process, 1 thread, with the
distributed path's BatchNorm forced on (genredact.engine.dist._synced_bn_forward, its cross-process sum an
identity in one process): does that BatchNorm's float32 arithmetic alone shift the FID the way the 2-process
runs did? One seed per call.

    python benchmarks/probes/ddp_seeds_synced_bn.py SEED
"""
import contextlib
import functools
import json
import runpy
import sys
import tempfile
from pathlib import Path

from torch import nn

from genredact.engine import dist


class _Identity:
    @staticmethod
    def apply(t):
        return t  # the sum over one process


@contextlib.contextmanager
def _always_synced(modules):
    """dist.synced_batchnorm without its one-process shortcut."""
    layers = [m for mod in modules for m in mod.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in layers:
        bn.forward = functools.partial(dist._synced_bn_forward, bn, bn.forward)
    try:
        yield
    finally:
        for bn in layers:
            del bn.forward


dist._SumAcross = _Identity
dist.synced_batchnorm = _always_synced
seed = sys.argv[1]
out = str(Path(tempfile.mkdtemp(prefix="synced-bn-")) / f"s{seed}.json")
sys.argv = ["ddp_check.py", "--out", out, "--seed", seed]
runpy.run_path(str(Path(__file__).resolve().parents[1] / "ddp_check.py"), run_name="__main__")
after = json.loads(Path(out).read_text())["after"]
print(f"seed {seed}: 1 process, synced BatchNorm forced: FID {after['fid']:.4f} residual {after['residual_rate']:.4f}", flush=True)
