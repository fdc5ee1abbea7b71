"""The adversarial fine-tuning core shared by the three data-redaction methods and `finetune-valid`.

Kong & Chaudhuri's objective (research notes section 1.2): the discriminator's "fake" distribution is a
mixture of generator samples (weight lambda) and negative samples (weight 1 - lambda):

    L_D = -E_real log D(x) - lam E_z log(1 - D(G(z))) - (1 - lam) E_neg log(1 - D(x'))
    L_G = -E_z log D(G(z))  [+ beta * guidance(G(z))]

With real = valid data only, any lam in (0, 1] has p_G = p_valid as its optimum (NDA); with real = all
data, lam must equal the valid fraction. Both G and D start from the pre-trained weights.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch

from genredact.data import ImageData, to_float
from genredact.engine import Loop, LoopResult
from genredact.engine.optim import adam
from genredact.errors import GenredactError
from genredact.losses import d_fake_loss, d_real_loss, g_loss
from genredact.models import GanModel


class Pool:
    """A fixed-capacity bank of images on one device, drawn with an explicit generator."""

    def __init__(self, x: torch.Tensor, capacity: int | None = None) -> None:
        self.x = x
        self.capacity = capacity or x.shape[0]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(self), (n,), generator=generator)
        return self.x[idx.to(self.x.device)]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"x": self.x}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.x = state["x"].to(self.x.device).clone()

    def add(self, new: torch.Tensor, generator: torch.Generator) -> None:
        """Add `new`; past capacity, random old entries are replaced (keeps the pool fresh). Entries keep
        the pool's dtype (samples drawn under bf16 autocast come in as bfloat16)."""
        new = new.detach().to(self.x.dtype)
        if new.shape[0] == 0:
            return
        room = self.capacity - len(self)
        if room > 0:
            self.x = torch.cat([self.x, new[:room]])
            new = new[room:]
        if new.shape[0]:
            idx = torch.randint(0, len(self), (new.shape[0],), generator=generator).to(self.x.device)
            # A slot drawn twice takes the later image. (A plain `x[idx] = new` leaves which one wins to
            # the thread schedule, which would make runs differ bit for bit.)
            last = torch.full((len(self),), -1, dtype=torch.long, device=idx.device)
            last.scatter_reduce_(0, idx, torch.arange(len(idx), device=idx.device), reduce="amax")
            slots = (last >= 0).nonzero().squeeze(1)
            self.x[slots] = new[last[slots]]


@torch.no_grad()
def generated_pool(model: GanModel, keep: Callable[[torch.Tensor], torch.Tensor], *, n: int, generator: torch.Generator, max_draws: int, what: str, batch: int = 500) -> Pool:
    """Samples of `model` for which `keep(x)` is True, until `n` are found or `max_draws` are drawn."""
    found, drawn = [], 0
    model.generator.eval()
    while sum(f.shape[0] for f in found) < n and drawn < max_draws:
        x = model.generate(model.latents(batch, generator=generator))
        drawn += batch
        found.append(x[keep(x)])
    x = torch.cat(found)[:n] if found else torch.empty(0)
    if x.shape[0] == 0:
        raise GenredactError(f"the model produced no {what} in {drawn} samples, so there is nothing to learn from; check the target")
    return Pool(x)


def data_pool(data: ImageData, device: torch.device) -> Pool:
    if len(data) == 0:
        raise GenredactError("the real data holds no valid images; check the target and data set")
    return Pool(to_float(data.x).to(device))


def adversarial_finetune(
    model: GanModel,
    *,
    real: Pool,
    negatives: Pool | None,
    lam: float,
    steps: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    guidance: Callable[[torch.Tensor, Loop, GanModel], torch.Tensor] | None = None,
    beta: float = 0.0,
    refresh: Callable[[torch.Tensor], None] | None = None,
    extra_state: dict[str, object] | None = None,
    progress: bool = True,
    desc: str = "redact",
    device: str | torch.device = "cpu",
) -> tuple[GanModel, LoopResult]:
    """Fine-tune a copy of `model` (G and D) with negatives labelled fake. Returns (edited, loop result).

    `guidance(fake, loop, edited)` adds beta times its value to the generator's loss (it gets the model
    being edited for terms on latents of its own); `extra_state` is whatever else it changes, checkpointed
    with the loop."""
    if model.discriminator is None:
        raise GenredactError("this method fine-tunes the discriminator too, but the model has none; wrap your GAN with its discriminator")
    edited = copy.deepcopy(model)
    loop = Loop(steps=steps, desc=desc, progress=progress, device=device)
    edited.to(loop.device).train()
    opt_g = adam(edited.generator.parameters(), lr, betas=(0.5, 0.999))
    opt_d = adam(edited.discriminator.parameters(), lr, betas=(0.5, 0.999))
    n_neg = max(1, int(round(batch_size * (1 - lam)))) if negatives is not None and lam < 1 else 0

    def step(i: int) -> dict[str, float]:
        # Every random draw at full batch size, then this process's shard of each (one process: all of it).
        z = edited.latents(batch_size, generator=generator)
        x_real = real.draw(batch_size, generator)
        x_neg = negatives.draw(n_neg, generator) if n_neg else None
        fake = edited.generator(loop.shard(z))
        loss_d = d_real_loss(edited.discriminator(loop.shard(x_real)))
        loss_d = loss_d + lam * d_fake_loss(edited.discriminator(fake.detach()))
        if n_neg:
            loss_d = loss_d + (1 - lam) * d_fake_loss(edited.discriminator(loop.shard(x_neg)))
        opt_d.zero_grad(set_to_none=True)
        loop.backward(loss_d)
        opt_d.step()
        loss_g = g_loss(edited.discriminator(fake))
        out = {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
        if guidance is not None:
            gl = guidance(fake, loop, edited)
            loss_g = loss_g + beta * gl
            out["guide"] = gl.item()
        opt_g.zero_grad(set_to_none=True)
        loop.backward(loss_g)
        opt_g.step()
        if refresh is not None:
            refresh(loop.gather(fake.detach(), batch_size))
        return out

    state = {"generator": edited.generator, "discriminator": edited.discriminator, "opt_g": opt_g, "opt_d": opt_d, "rng": generator}
    if negatives is not None:  # small, and refreshed in place by some methods
        state["negatives"] = negatives
    state.update(extra_state or {})
    result = loop.run(step, state=state)
    return edited.eval(), result


def loop_log(result: LoopResult, **extra: object) -> dict[str, object]:
    return {"steps": result.steps, "wall_s": result.wall_s, "peak_mem_mb": result.peak_mem_mb, "history": result.history, **extra}


@torch.no_grad()
def valid_part(data: ImageData, target: object, device: torch.device | str) -> ImageData:
    """The real images that are not target content: by the data set's own labels when the target is
    described by labels of that data set, else by the target's validity decision."""
    labels = getattr(target, "labels", None)
    clf = getattr(target, "classifier", None)
    if labels is not None and clf is not None and tuple(clf.class_names) == tuple(data.class_names):
        return data.without(labels)
    valid_fn = getattr(target, "valid", None)
    if valid_fn is None:
        raise GenredactError("this target cannot tell valid real images from target content; use the data-free variant (real=generator)")
    keep = torch.cat([valid_fn(to_float(data.x[i : i + 2000]).to(device)).cpu() for i in range(0, len(data), 2000)])
    return data.where(keep.numpy())


def real_pool(model: GanModel, target: object, *, real: str, data: ImageData | None, generator: torch.Generator, device: torch.device | str, n_generated: int) -> Pool:
    """Valid "real" images: the training data's valid part (real='data') or the pre-trained
    generator's valid samples (real='generator', the data-free variant)."""
    if real == "data":
        if data is None:
            raise GenredactError("real=data needs the model's training data, which is not at hand; pass data=... or use real=generator")
        return data_pool(valid_part(data, target, device), torch.device(device))
    return generated_pool(model, target.valid, n=n_generated, generator=generator, max_draws=20 * n_generated, what="valid samples")
