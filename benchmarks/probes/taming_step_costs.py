"""Probe (prints only): what two cheaper pieces of a taming step could save on the 5-image run.

1. The optimizer: Adam over the flow's parameters as taming runs it (the per-tensor loop, torch's CPU default)
   against foreach=True and fused=True, ms per step with random gradients.
2. The frozen original's forward pass, which every step runs on the 16 remember images: ms per image at batch
   sizes 16 to 256 (scoring the next batches' images ahead in one larger batch would pay the cheaper rate).

    python benchmarks/probes/taming_step_costs.py mnist-flow mnist

Printed on 2026-11-25 (session 22, AMD EPYC family 26, one thread, nothing beside it): mnist-flow (144 tensors,
306,080 parameters) Adam 2.34 ms, foreach 1.57 ms, fused 0.52 ms per step; the original's forward 0.685 / 0.547 /
0.492 / 0.545 / 0.655 ms per image at batch 16 / 32 / 64 / 128 / 256. The 5-image run on mnist-flow takes 469 steps
in a 31.9 s loop, 68 ms a step (`python benchmarks/probes/taming_freeze_probe.py mnist mnist-flow 7 5 '' '{"aim_gain":
0.1}'`, the same day). Fused Adam would save about 1.8 ms a step and scoring the original at batch 64 about 3.1 ms
(16 images at 0.685 - 0.492 ms), some 7% of the run in all, against the third that 2% of retrain needs on MNIST
(3.01%). Not done then.

Printed on 2026-12-08 (session 35, AMD EPYC family 23, one thread, nothing beside it): Adam 13.10 ms, foreach 6.32,
fused 2.23 per step; the original's forward 4.079 / 3.521 / 3.082 / 3.155 / 3.148 ms per image at batch 16 / 32 /
64 / 128 / 256. Done since: every training loop builds Adam in the foreach form (`genredact.engine.optim`; the
fused form broke the bit-identical resume of taming's resume test), and taming draws four steps' remember batches
at once and scores them under the original in one forward pass of 64 (`REMEMBER_AHEAD` in
`genredact.methods.taming`).
"""
import sys
import time

import torch

torch.set_num_threads(1)
from genredact.data import load_dataset  # noqa: E402
from genredact.methods.taming import _bpd_from_log_prob  # noqa: E402
from genredact.models.flow import dequantize  # noqa: E402
from genredact.zoo import load_model  # noqa: E402


def timed(fn, seconds: float = 3.0) -> float:
    fn()
    t, n = time.perf_counter(), 0
    while time.perf_counter() - t < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t) / n


def main() -> None:
    model = load_model(sys.argv[1])
    params = list(model.net.parameters())
    print(f"{sys.argv[1]}: {len(params)} tensors, {sum(p.numel() for p in params):,} parameters")
    for kw in ({}, {"foreach": True}, {"fused": True}):
        opt = torch.optim.Adam(params, 1e-12, **kw)
        for p in params:
            p.grad = torch.randn_like(p) * 1e-3
        print(f"Adam {kw or 'default'}: {1000 * timed(opt.step):.2f} ms per step", flush=True)
    model.eval().requires_grad_(False)
    x = torch.as_tensor(load_dataset(sys.argv[2], "train").x[:256])
    g = torch.Generator().manual_seed(0)
    for bs in (16, 32, 64, 128, 256):
        y = dequantize(x[:bs], generator=g)
        with torch.no_grad():
            dt = timed(lambda y=y: _bpd_from_log_prob(model, y))
        print(f"forward, batch {bs}: {1000 * dt / bs:.3f} ms per image", flush=True)


if __name__ == "__main__":
    main()
