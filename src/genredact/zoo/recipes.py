"""Recipes that train the zoo's base GANs and classifiers (also used by the `retrain` baseline)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genredact.data import ImageData, to_float
from genredact.data.augment import random_shift
from genredact.engine import Loop, LoopResult
from genredact.engine.optim import adam
from genredact.losses import d_fake_loss, d_real_loss, g_loss
from genredact.models import ClassifierModel, GanModel
from genredact.models.nets import DCGANDiscriminator, DCGANGenerator, JudgeConvNet, LeNet
from genredact.seeding import make_generator


@dataclass(frozen=True)
class GanRecipe:
    """DCGAN training: non-saturating loss, Adam(2e-4, betas 0.5/0.999)."""

    steps: int = 8000
    batch_size: int = 64
    lr: float = 2e-4
    z_dim: int = 64
    width: int = 32
    seed: int = 0


@dataclass(frozen=True)
class ClassifierRecipe:
    arch: str = "lenet"  # "lenet" (redaction classifier) or "judge-convnet" (evaluation judge)
    epochs: int = 2
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    shift: int = 2  # random translation augmentation, in pixels
    members: int = 1  # above 1: that many networks trained alike with seeds seed, seed + 1, ..., voting by mean probability


def train_gan(data: ImageData, recipe: GanRecipe = GanRecipe(), *, like: GanModel | None = None, progress: bool = True, desc: str = "train GAN", device: str | None = None) -> tuple[GanModel, LoopResult]:
    """Train a GAN from scratch on `data` (all of it: pass `data.without(labels)` to retrain).

    The architecture is a DCGAN from the recipe, or, with `like`, a freshly initialised copy of that
    model's architecture (rebuilt from its config, so no trained weight is reused).
    """
    if len(data) == 0:
        raise ValueError("cannot train a GAN on an empty data set")
    channels, h, w = data.x.shape[1:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        if like is not None:
            model = GanModel.from_config(like.to_config())
        else:
            gen_net = DCGANGenerator(z_dim=recipe.z_dim, width=recipe.width, channels=channels)
            disc_net = DCGANDiscriminator(width=recipe.width, channels=channels)
            model = GanModel(gen_net, disc_net, z_dim=recipe.z_dim, image_shape=(channels, h, w), dataset=data.name, class_names=list(data.class_names))
    loop = Loop(steps=recipe.steps, desc=desc, progress=progress, device=device)
    model.to(loop.device).train()
    real = to_float(data.x).to(loop.device)
    rng = make_generator(recipe.seed + 1)
    opt_g = adam(model.generator.parameters(), recipe.lr, betas=(0.5, 0.999))
    opt_d = adam(model.discriminator.parameters(), recipe.lr, betas=(0.5, 0.999))

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(0, real.shape[0], (recipe.batch_size,), generator=rng).to(loop.device)
        z = model.latents(recipe.batch_size, generator=rng)
        fake = model.generator(loop.shard(z))  # several processes: each its shard of the same batch
        loss_d = d_real_loss(model.discriminator(real[loop.shard(idx)])) + d_fake_loss(model.discriminator(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        loop.backward(loss_d)
        opt_d.step()
        loss_g = g_loss(model.discriminator(fake))
        opt_g.zero_grad(set_to_none=True)
        loop.backward(loss_g)
        opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    result = loop.run(step, state={"generator": model.generator, "discriminator": model.discriminator, "opt_g": opt_g, "opt_d": opt_d, "rng": rng})
    return model.eval(), result


def train_classifier(data: ImageData, recipe: ClassifierRecipe = ClassifierRecipe(), *, role: str = "redaction", progress: bool = True, device: str | None = None) -> tuple[ClassifierModel, LoopResult]:
    if recipe.members > 1:  # each member exactly as a one-network recipe of its seed would train it
        parts = [train_classifier(data, dataclasses.replace(recipe, seed=recipe.seed + i, members=1), role=role, progress=progress, device=device) for i in range(recipe.members)]
        results = [r for _, r in parts]
        return ClassifierModel.ensemble([m for m, _ in parts]), LoopResult(
            steps=sum(r.steps for r in results), wall_s=sum(r.wall_s for r in results), peak_mem_mb=max(r.peak_mem_mb for r in results),
            history=[h for r in results for h in r.history])
    channels = data.x.shape[1]
    k = len(data.class_names)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        net = LeNet(num_classes=k, channels=channels) if recipe.arch == "lenet" else JudgeConvNet(num_classes=k, channels=channels)
    model = ClassifierModel(net, class_names=list(data.class_names), dataset=data.name, role=role)
    steps_per_epoch = int(np.ceil(len(data) / recipe.batch_size))
    loop = Loop(steps=recipe.epochs * steps_per_epoch, desc=f"train {recipe.arch}", progress=progress, device=device)
    model.to(loop.device).train()
    x = to_float(data.x).to(loop.device)
    y = torch.as_tensor(data.y).to(loop.device)
    rng = make_generator(recipe.seed + 1)
    opt = adam(model.parameters(), recipe.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=max(1, loop.steps))
    order_state: dict[str, torch.Tensor] = {}  # this epoch's permutation (checkpointed with the loop)

    def step(i: int) -> dict[str, float]:
        if i % steps_per_epoch == 0:
            order_state["perm"] = torch.randperm(len(data), generator=rng)
        j = i % steps_per_epoch
        idx = order_state["perm"][j * recipe.batch_size : (j + 1) * recipe.batch_size].to(loop.device)
        xb = random_shift(x[idx], recipe.shift, rng)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed * 100003 + i)  # dropout noise, without touching global state
            loss = F.cross_entropy(model(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loop.backward(loss)
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    result = loop.run(step, state={"net": model.net, "opt": opt, "sched": sched, "rng": rng, "order": order_state})
    return model.eval(), result


@torch.no_grad()
def accuracy(model: ClassifierModel, data: ImageData) -> float:
    probs, _ = model.predict(to_float(data.x))
    return float((probs.argmax(1).numpy() == data.y).mean())


def train_zoo_entry(entry: Any, train: ImageData, test: ImageData, params: dict[str, Any], *, progress: bool, device: str | None) -> tuple[Any, int, float, dict[str, Any], dict[str, Any]]:
    """Train a zoo GAN or classifier entry (see `genredact.zoo.TRAINERS`)."""
    metrics: dict[str, Any] = {}
    if entry.kind == "gan":
        recipe = GanRecipe(**params)
        model, result = train_gan(train, recipe, progress=progress, desc=f"zoo {entry.name}", device=device)
    else:
        recipe = ClassifierRecipe(**params)
        model, result = train_classifier(train, recipe, role=entry.role, progress=progress, device=device)
        metrics["test_accuracy"] = accuracy(model, test)
    return model, result.steps, result.wall_s, dataclasses.asdict(recipe), metrics
