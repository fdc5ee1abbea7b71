"""Recipes that train the zoo's inpainters (also used by `retrain` on inpainters).

One model serves centre inpainting and outpainting: every training image gets a random mask (a
jittered centre box of side 0.25-0.75, or an outpainting border of width 0.07-0.32 of the side), and
the loss is L1 + MSE on the hole pixels.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from genredact.data import ImageData, to_float
from genredact.engine import Loop, LoopResult, dist
from genredact.engine.optim import adam
from genredact.engine.schedule import one_cycle
from genredact.errors import GenredactError
from genredact.models.inpainter import InpainterModel, build_inpainter
from genredact.seeding import make_generator


@dataclass(frozen=True)
class InpainterRecipe:
    """Adam with a one-cycle schedule; `arch` is a built-in network ("conv", "mae", ...)."""

    arch: str = "conv"
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0


def hole_loss(out: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, loop: Loop | None = None) -> torch.Tensor:
    """L1 + MSE over the hole pixels, averaged per hole pixel (of the whole batch, with a loop's shards)."""
    diff = (out - x) * mask
    err, area = diff.abs().sum() + diff.pow(2).sum(), mask.sum() * x.shape[1]
    if loop is not None and loop.processes > 1:
        err, area = dist.batch_sums([err, area])
    return err / area.clamp_min(1.0)


def train_inpainter(
    data: ImageData, recipe: InpainterRecipe = InpainterRecipe(), *, like: InpainterModel | None = None, progress: bool = True, desc: str = "train inpainter", device: str | None = None
) -> tuple[InpainterModel, LoopResult]:
    """Train an inpainter from scratch on `data` (pass `data.without(labels)` to retrain).

    With `like`, a freshly initialised copy of that model's architecture (rebuilt from its config).
    """
    if len(data) == 0:
        raise GenredactError("cannot train an inpainter on an empty data set")
    shape = tuple(int(s) for s in data.x.shape[1:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        if like is not None:
            model = InpainterModel.from_config(like.to_config())
        else:
            model = build_inpainter(recipe.arch, image_shape=shape, dataset=data.name, class_names=list(data.class_names))
    loop = Loop(steps=recipe.steps, desc=desc, progress=progress, device=device)
    model.to(loop.device).train()
    real = to_float(data.x)
    rng = make_generator(recipe.seed + 1)
    opt = adam(model.parameters(), recipe.lr)
    sched = one_cycle(opt, recipe.lr, recipe.steps)

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(0, real.shape[0], (recipe.batch_size,), generator=rng)
        x = real[idx].to(loop.device)
        x_masked, m = model.mask(x, kind="random", generator=rng)
        x, x_masked, m = loop.shard(x), loop.shard(x_masked), loop.shard(m)  # several processes: this one's shard
        loss = hole_loss(model.decode(model.encode(x_masked, m)), x, m, loop)
        opt.zero_grad(set_to_none=True)
        loop.backward(loss)
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    result = loop.run(step, state={"encoder": model.encoder, "decoder": model.decoder, "opt": opt, "sched": sched, "rng": rng})
    return model.eval(), result


def train_zoo_entry(entry: Any, train: ImageData, test: ImageData, params: dict[str, Any], *, progress: bool, device: str | None) -> tuple[Any, int, float, dict[str, Any], dict[str, Any]]:
    """Train a zoo inpainter (see `genredact.zoo.TRAINERS`); the card carries its quality on the test set."""
    from genredact.zoo import load_classifier

    recipe = InpainterRecipe(**params)
    model, result = train_inpainter(train, recipe, progress=progress, desc=f"zoo {entry.name}", device=device)
    judge = load_classifier(entry.dataset, role="judge")
    model.cpu()
    # The base model's "retain set" is every class: judge the outputs on the whole test set.
    res = _all_classes(model, test, judge)
    return model, result.steps, result.wall_s, dataclasses.asdict(recipe), {"test_metrics": res}


def _all_classes(model: InpainterModel, test: ImageData, judge: Any) -> dict[str, Any]:
    from genredact.metrics.i2i import DEFAULT_MASKS, mask_name, paired_metrics

    x = to_float(test.x)
    probs, tf = judge.predict(x)
    out: dict[str, Any] = {"ground_truth_acc": float((probs.argmax(1).numpy() == test.y).mean())}
    for kind, size in DEFAULT_MASKS:
        out[mask_name(kind, size)] = paired_metrics(model, x, test.y, judge, kind=kind, size=size, truth_feats=tf)
    return out


def retrain_inpainter(model: InpainterModel, target: Any, config: Any, context: Any) -> Any:
    """`retrain` for inpainters: a fresh copy of `model`'s architecture trained with the zoo recipe on
    the training data without the target's labels. Options left at retrain's GAN defaults take the
    inpainter recipe's values (steps, batch size, learning rate)."""
    from genredact.methods._adversarial import loop_log, valid_part
    from genredact.methods.base import MethodResult

    defaults = {f.name: f.default for f in dataclasses.fields(type(config))}
    pick = {k: getattr(config, k) for k in ("steps", "batch_size", "lr") if getattr(config, k) != defaults[k]}
    recipe = InpainterRecipe(**{**pick, "seed": config.seed})
    valid = valid_part(context.data, target, context.device)
    new, result = train_inpainter(valid, recipe, like=model, progress=context.progress, desc="retrain", device=str(context.device))
    return MethodResult(new, loop_log(result, train_images=len(valid)))
