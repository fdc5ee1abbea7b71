"""Probe (prints only): where an encoder-unlearn step's time goes on the zoo inpainters, one CPU thread.

For 64 masked images (random masks): the teacher's no-grad encoding as two calls of 32 (as the step makes it:
retain images, then noise) and as one call of 64, the same under inference_mode, and the student's encoding
with its backward pass.

    python benchmarks/probes/i2i_step_timing.py
"""
import time

import torch

from genredact.zoo import load_model

torch.set_num_threads(1)


def per_call(fn, repeats: int) -> float:
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def timings(name: str) -> str:
    m = load_model(name).eval()
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    xm, mk = m.mask(x, kind="random", generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for _ in range(3):
            m.encode(xm, mk)
        two = per_call(lambda: (m.encode(xm[:32], mk[:32]), m.encode(xm[32:], mk[32:])), 20)
        one = per_call(lambda: m.encode(xm, mk), 20)
        with torch.inference_mode():
            inf = per_call(lambda: m.encode(xm, mk), 20)
    m.encoder.requires_grad_(True)
    student = per_call(lambda: m.encode(xm, mk).pow(2).mean().backward(), 10)
    return (f"{name}: teacher 2 x 32 {two * 1e3:.1f} ms, 1 x 64 {one * 1e3:.1f} ms, inference_mode {inf * 1e3:.1f} ms; "
            f"student forward + backward on 64 {student * 1e3:.1f} ms")


for name in ["fashion-inpainter-mae", "fashion-inpainter-conv"]:
    print(timings(name), flush=True)
