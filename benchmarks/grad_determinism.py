"""Probe (prints only): are repeated forward and backward passes bit-identical within one process?

At torch's 2 threads, it runs N forward and backward passes of the zoo's MNIST DCGAN and redaction
classifier on fixed latents and compares every gradient with the first pass, then N repeats of matmul
shapes from those networks. It looks for the thread-schedule dependence behind issue 7's run-to-run
differences of the CLI GAN redaction. Run it beside a CPU load (e.g. two `yes > /dev/null`) to look
under contention.

    python benchmarks/grad_determinism.py 300
"""
import sys

import torch

from genredact.zoo import load_classifier, load_model

torch.set_num_threads(2)
n = int(sys.argv[1])
model, clf = load_model("mnist-dcgan"), load_classifier("mnist", role="redaction")
G, D = model.generator.train(), model.discriminator.train()
params = list(G.parameters()) + list(D.parameters())
z = model.latents(16, generator=torch.Generator().manual_seed(0))


def grads() -> list[torch.Tensor]:
    for p in params + list(clf.parameters()):
        p.grad = None
    x = G(z)
    (D(x).sum() + torch.softmax(clf(x), 1)[:, 7].sum()).backward()
    return [p.grad.clone() for p in params]


ref = grads()
differ = sum(not all(torch.equal(a, b) for a, b in zip(ref, grads())) for _ in range(n))
print(f"forward + backward: {differ} of {n} passes differ from the first", flush=True)

g = torch.Generator().manual_seed(0)
shapes = [(500, 400, 120), (120, 500, 400), (16, 3136, 1), (3136, 16, 128), (128, 16, 3136), (64, 100, 6272), (6272, 64, 100), (10, 500, 84), (84, 500, 120)]
mats = [(torch.randn(m, k, generator=g), torch.randn(k, c, generator=g)) for m, k, c in shapes]
refs = [a @ b for a, b in mats]
bad = {s: sum(not torch.equal(a @ b, r) for _ in range(n)) for s, (a, b), r in zip(shapes, mats, refs)}
print(f"matmul: repeats that differ, by shape (m, k, n): {bad}", flush=True)
