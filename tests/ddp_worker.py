"""Run by tests/test_ddp.py twice: plainly, and under `accelerate launch --num_processes 2 --cpu`.

Evaluates the tiny GAN, redacts class 1 with redact-classifier and evaluates the result, under a judge
trained with another seed, then audits it (latent-search, inversion); the main process writes the figures
to --out."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import _train_tiny_gan, train_tiny_classifier, two_class_data  # noqa: E402

import torch  # noqa: E402

from genredact.api import redact  # noqa: E402
from genredact.engine import Loop  # noqa: E402
from genredact.engine.dist import is_main, world  # noqa: E402
from genredact.evaluation import evaluate  # noqa: E402
from genredact.targets import ClassifierTarget  # noqa: E402

KEYS = ("residual_rate", "residual_upper95", "fid", "kid", "precision", "recall")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=80)
    args = ap.parse_args()
    data = two_class_data()
    clf, judge = train_tiny_classifier(data, seed=0), train_tiny_classifier(data, seed=1)
    gan = _train_tiny_gan(data)
    kw = dict(labels=(1,), judge=judge, real=data, n=6000, seed=5, kid_subsets=5)
    before = evaluate(gan, **kw)
    edited, log = redact(gan, ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny"), "redact-classifier", data=data,
                         progress=False, steps=args.steps, batch_size=32, pool_size=64)
    after = evaluate(edited, **kw)
    bn = batchnorm_fit()
    others, i2i = flow_and_inpainter(data, clf)
    attacks = audit_figures(edited, gan, data, judge)
    if is_main():
        Path(args.out).write_text(json.dumps({"world": world()[1], "before": {k: before[k] for k in KEYS}, "after": {k: after[k] for k in KEYS},
                                              "steps": log["steps"], "generator": [p.tolist() for p in edited.generator.parameters()],
                                              "batchnorm_net": bn, "others": others, "i2i_eval": i2i,
                                              "audit": attacks}))


def audit_figures(edited, gan, data, judge) -> dict[str, dict]:
    """latent-search and inversion (each process optimises its shard of the latents) on the redacted and the
    pre-trained tiny GAN: their figures and the grids of their finds."""
    from genredact.audit import audit

    configs = {"latent-search": {"restarts": 48, "steps": 25, "lr": 0.1, "shift": 2, "manifold_k": 3},
               "inversion": {"n_images": 12, "restarts": 2, "steps": 25, "lr": 0.1}}
    optimised = set()  # how many latents this process optimises at once (generated with gradients)
    plain = edited.generate

    def generate(z, *a, **kw):
        if torch.is_grad_enabled():
            optimised.add(len(z))
        return plain(z, *a, **kw)

    edited.generate = generate
    res = audit(edited, labels=(1,), attacks=list(configs), reference={"pretrained": gan}, judge=judge, heldout=data, configs=configs,
                progress=False)
    del edited.generate
    out = {name: {model: {k: (v.tolist() if k == "grid" else v) for k, v in figures.items() if k == "grid" or isinstance(v, (int, float))}
                  for model, figures in r["models"].items()} for name, r in res.items()}
    return {**out, "optimised_at_once": sorted(optimised)}


def flow_and_inpainter(data, clf) -> tuple[dict[str, list], dict]:
    """A tiny flow trained by the zoo recipe and tamed (its remember term uses the batch's BPD spread): their
    weights; a tiny inpainter trained and unlearned by encoder-unlearn and two baselines: their fills of
    fixed masked images, and the paired image-to-image metrics of the unlearned one. (Not the inpainters' weights: a convolution's bias feeding a GroupNorm has a
    gradient that is rounding noise, which Adam scales up to full steps, so those biases differ between
    any two summation orders while the outputs do not.)"""
    from genredact.data import to_float
    from genredact.zoo.flow_recipes import FlowRecipe, train_flow
    from genredact.zoo.inpainter_recipes import InpainterRecipe, train_inpainter
    from genredact.targets import IndicesTarget

    out = {}
    flow, _ = train_flow(data, FlowRecipe(steps=20, batch_size=16, lr=5e-3, warmup=5, levels=2, flow_steps=2, hidden=8, init_batch=64), progress=False)
    out["flow"] = flow
    idx = tuple(int(i) for i in (data.y == 1).nonzero()[0][:3])
    target = IndicesTarget(images=data.x[list(idx)], source="test", indices=idx, dataset=data.name)
    out["taming"], _ = redact(flow, target, "taming", data=data, seed=0, progress=False, steps=12, lr=2e-3, alpha=0.9, stat_images=64,
                              check_images=32, remember_batch=16, warmup=2)
    inp, _ = train_inpainter(data, InpainterRecipe(arch="tiny-conv", steps=20, batch_size=16, lr=1e-2), progress=False)
    out["inpainter"] = inp
    target = ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny")
    for method in ("encoder-unlearn", "noisy-label", "random-encoder"):
        out[method], _ = redact(inp, target, method, data=data, seed=0, progress=False, steps=10, batch_size=16, lr=3e-3)
    x = to_float(data.x[:64])
    result = {}
    for name, model in out.items():
        if name in ("flow", "taming"):
            result[name] = [p.tolist() for p in model.state_dict().values()]
        else:
            with torch.no_grad():
                xm, m = model.mask(x, kind="center", size=0.5)
                result[name] = [model.eval().decode(model.encode(xm, m)).tolist()]
    from genredact.metrics.i2i import evaluate_i2i

    return result, evaluate_i2i(out["encoder-unlearn"], data, (1,), clf, masks=(("center", 0.5), ("outpaint", 0.25)))


def batchnorm_fit(steps: int = 30, batch: int = 24) -> dict[str, list]:
    """A small net with BatchNorm fitted on sharded batches: its weights and running statistics."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(1)
    loop = Loop(steps=steps, progress=False)

    def step(i: int) -> dict[str, float]:
        x = torch.randn(batch, 3, generator=gen)
        y = x.sum(1, keepdim=True) ** 2
        loss = ((net(loop.shard(x)) - loop.shard(y)) ** 2).mean()
        opt.zero_grad()
        loop.backward(loss)
        opt.step()
        return {"loss": loss.item()}

    history = loop.run(step, state={"net": net, "opt": opt, "rng": gen}).history
    return {"state": [t.tolist() for t in net.state_dict().values()], "losses": [h["loss"] for h in history]}


if __name__ == "__main__":
    main()
