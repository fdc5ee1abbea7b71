"""Probe (prints only): reach the band for a few forget images by a Fisher-metric minimal change
instead of Adam steps on taming's loss (issue 4, 5 images: wall <= 2% of retrain).

The forget images' BPDs are a handful of scalar constraints b_i(theta) = level. The smallest
parameter change that meets them to first order, measured in the remember data's (diagonal,
empirical) Fisher metric F, is

    delta = -F^-1 J^T (J F^-1 J^T + lam I)^-1 r        r_i = b_i - level,  J = d b / d theta  (n x P)

and to second order the remember data's mean BPD rises by about delta^T F delta D ln2 / 2 (F of the
per-image BPD, D dimensions), the least any change meeting the constraints can cost. Adam is blind to this: it rescales every parameter by its
own gradient history, which undoes any per-parameter preconditioning. The probe takes damped
Gauss-Newton steps of that kind (fraction `eta` of the step, F damped by `damp` x its mean), then
prints, after each, the forget images' d / sigma against the band, and the remember drift on a fixed
pool, with the wall time.

With "hold": m, m remember images are held at the original's BPD as further constraints (J grows by
m rows; "metric": "euclid" drops F). "every" scores the 1024-image pool only every so many steps.

    python benchmarks/taming_fisher_probe.py mnist mnist-flow 7 5 '[{"iters": 40, "eta": 0.05, "damp": 1.0, "every": 5}]'

Measured 2026-11-24 on mnist-flow, 5 sevens (AMD EPYC, 1 thread): it does not work. With eta 0.5 one
step raised the remember pool's mean BPD by 702% (the flow is far from linear in its parameters at
that scale); with eta 0.05 the drift was +24% after 5 steps and +75% after 40 while the images stayed
4.2 sigma below the (rising) band level: the Fisher-cheapest direction raises every BPD. Holding 64
remember images fixed: drift +5.4% at d = -3.5 sigma, +8.6% at d = -2.9 sigma; 128 held without F: +7.3%
at -3.5 sigma (taming's Adam run peaks at +7.3% with the images already in the band).
"""
import copy
import json
import math
import sys
import time

import torch

torch.set_num_threads(1)
from genredact.data import load_dataset  # noqa: E402
from genredact.models.flow import dequantize  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.zoo import load_model  # noqa: E402
from flow_taming import forget_indices  # noqa: E402


def flat_grad(model, y: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """Gradient of the (one-image) BPD of the dequantised y w.r.t. params, flattened."""
    b = -model.log_prob(y) / (model.dim * math.log(2))
    gs = torch.autograd.grad(b.sum(), params)
    return torch.cat([g.reshape(-1) for g in gs])


def bpd(model, y: torch.Tensor) -> torch.Tensor:
    if len(y) == 0:
        return y.new_zeros(0)
    with torch.no_grad():
        return torch.cat([-model.log_prob(y[i : i + 500]) / (model.dim * math.log(2)) + 7.0 for i in range(0, len(y), 500)])


def main() -> None:
    ds, name, label, n, configs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
    base = load_model(name).eval()
    train = load_dataset(ds, "train")
    lab = train.class_names.index(label)
    idx = forget_indices(train, lab, (1, 5, 15))[n]
    keep = torch.ones(len(train), dtype=torch.bool)
    keep[torch.as_tensor(idx)] = False
    rem = torch.as_tensor(train.x)[keep]
    g = make_generator(0)
    pool = dequantize(rem[torch.randperm(len(rem), generator=g)[:1024]], generator=g)
    yf = dequantize(torch.as_tensor(train.x[idx]), generator=g)
    b0 = bpd(base, pool)
    mu, sd = float(b0.mean()), float(b0.std())
    k, band = 4.0, 0.15
    level = mu + k * sd
    print(f"remember pool: mu {mu:.4f} sigma {sd:.4f}  level {level:.4f}  band +-{band * k * sd:.4f}", flush=True)
    for cfg in configs:
        t0 = time.perf_counter()
        model = copy.deepcopy(base).eval()
        params = [p for p in model.net.parameters() if p.requires_grad]
        m, eta, damp, lam, iters = cfg.get("fisher_images", 128), cfg.get("eta", 0.5), cfg.get("damp", 1e-2), cfg.get("lam", 1e-6), cfg.get("iters", 20)
        fy = dequantize(rem[torch.randperm(len(rem), generator=g)[:m]], generator=g)
        F = torch.zeros(sum(p.numel() for p in params))
        for i in range(m):
            F += flat_grad(model, fy[i : i + 1], params).pow(2)
        F /= m
        Finv = 1.0 / (F + damp * F.mean())
        print(cfg, f"Fisher from {m} images in {time.perf_counter() - t0:.1f}s; P = {F.numel()}", flush=True)
        hold = cfg.get("hold", 0)  # remember images whose BPD is held at the original's (extra constraints)
        yh = dequantize(rem[torch.randperm(len(rem), generator=g)[:hold]], generator=g) if hold else yf[:0]
        bh0 = bpd(base, yh)
        if cfg.get("metric", "fisher") == "euclid":
            Finv = torch.ones_like(F)
        for it in range(iters):
            ys = torch.cat([yf, yh])
            J = torch.stack([flat_grad(model, ys[i : i + 1], params) for i in range(len(ys))])
            r = torch.cat([bpd(model, yf) - level, bpd(model, yh) - bh0])
            A = (J * Finv) @ J.T
            coef = torch.linalg.solve(A + lam * torch.eye(len(r)) * A.diagonal().mean(), r)
            delta = -(Finv * (J.T @ coef)) * eta
            with torch.no_grad():
                off = 0
                for p in params:
                    p.add_(delta[off : off + p.numel()].view_as(p))
                    off += p.numel()
            if (it + 1) % cfg.get("every", 1) and it + 1 < iters:
                continue
            bp = bpd(model, pool)
            d = (bpd(model, yf) - (float(bp.mean()) + k * float(bp.std()))) / float(bp.std())
            drift = 100 * (float(bp.mean()) - mu) / mu
            print(f"  it {it + 1:2d}  {time.perf_counter() - t0:6.1f}s  d/sigma {[round(v, 2) for v in d.tolist()]}  predicted rise {0.5 * float((delta * F * delta).sum()) * model.dim * math.log(2):.4f} bpd  drift {drift:+.2f}%", flush=True)


if __name__ == "__main__":
    main()
