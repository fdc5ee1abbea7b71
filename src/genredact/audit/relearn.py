"""`relearn`: how many fine-tuning steps on a few target images bring the redacted content back?

The attacker fine-tunes a copy of the model on `n_images` held-out images of the redacted class with the
family's own training loss (a GAN: the non-saturating adversarial loss, G and D, Adam 2e-4, those
images as the only real data; a flow: their bits per dimension; an inpainter: the hole reconstruction
loss under random masks) and measures the family's residual rate under the judge (`Relearn.residual`:
the class share of `eval_n` samples from fixed latents, or for an inpainter the share of held-out class
images whose completion shows the class) every `eval_every` steps. Reported: the first step at which the residual rate reaches
`threshold` (by default half of the pre-trained model's rate, which `genredact.audit` measures first), or
None when `max_steps` did not get there, plus the residual-rate curve. Compared with the same figure for a
model that never saw the class (`retrain`), a redaction that comes back in a handful of steps is shallow.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from genredact.audit.base import ATTACKS, Attack, AttackContext, positive_int
from genredact.data import to_float
from genredact.engine import Loop
from genredact.engine.optim import adam
from genredact.errors import GenredactError
from genredact.losses import d_fake_loss, d_real_loss, g_loss
from genredact.metrics import residual_rate
from genredact.seeding import make_generator


@ATTACKS.register("relearn")
class Relearn(Attack):
    name = "relearn"
    families = ("gan", "flow", "inpainter")
    summary = "fine-tune on a few target images; steps until the residual rate is back at half the pre-trained model's"

    @dataclass(frozen=True)
    class Config:
        n_images: int = 10
        max_steps: int = 200
        eval_every: int = 10
        eval_n: int = 1000
        batch_size: int = 32
        lr: float = 2e-4
        threshold: float | None = None  # residual rate that counts as relearned; None: set by `audit` from the pre-trained model
        mask: str | None = None  # inpainters: the mask of the residual measurement (default: the model's own)
        mask_size: float | None = None

        def check(self) -> None:
            for key in ("n_images", "max_steps", "eval_every", "eval_n", "batch_size"):
                positive_int(key, getattr(self, key))
            if not self.lr > 0:
                raise GenredactError(f"lr must be positive, got {self.lr}")
            if self.threshold is not None and not 0.0 < self.threshold < 1.0:
                raise GenredactError(f"threshold must lie in (0, 1), got {self.threshold}")

    @staticmethod
    @torch.no_grad()
    def residual(model: Any, context: AttackContext, *, n: int, seed: int, mask: str | None = None, mask_size: float | None = None) -> float:
        """The family's residual rate under the judge: the share of samples showing the class (GAN; flow at
        the evaluation temperature), or for an inpainter the share of held-out class images whose
        completion (under `mask`/`mask_size`, by default the model's own) the judge still calls the class."""
        judge = context.judge
        family = getattr(model, "family", "")
        if family == "inpainter":
            if context.heldout is None:
                raise GenredactError("relearn on an inpainter needs held-out images of the forgotten class; pass heldout=...")
            target = context.heldout.only(list(context.labels))
            x = to_float(target.x[:n]).to(next(model.parameters()).device)
            with torch.random.fork_rng(devices=[]):  # a random default mask: the same holes every time
                torch.manual_seed(seed)
                out = model.complete(x, kind=mask, size=mask_size)
            return float(residual_rate(judge.predict(out)[0], context.labels)["rate"])
        was = model.training
        model.eval()
        try:
            if family == "flow":
                from genredact.flow_evaluation import EVAL_TEMPERATURE

                x = model.sample(n, generator=make_generator(seed), temperature=EVAL_TEMPERATURE)
            else:
                x = model.sample(n, generator=make_generator(seed))
        finally:
            model.train(was)
        return float(residual_rate(judge.predict(x)[0], context.labels)["rate"])

    def run(self, model: Any, config: Config, context: AttackContext) -> dict[str, Any]:
        self.check_family(model)
        if config.threshold is None:
            raise GenredactError("relearn needs a threshold residual rate (genredact.audit sets half the pre-trained model's); pass threshold=...")
        if context.heldout is None:
            raise GenredactError("relearn needs held-out images of the redacted class; pass heldout=...")
        family = getattr(model, "family", "")
        if family == "gan" and model.discriminator is None:
            raise GenredactError("relearn fine-tunes a GAN with its own adversarial loss, but the model has no discriminator")
        target = context.heldout.only(list(context.labels))
        if len(target) == 0:
            raise GenredactError("the held-out data has no images of the redacted class")
        gen = make_generator(context.seed)
        device = torch.device(context.device)
        pick = torch.randperm(len(target), generator=gen)[: config.n_images]
        real = to_float(target.x[pick.numpy()]).to(device)
        real_u8 = torch.as_tensor(target.x[pick.numpy()])
        context.judge.to(device).eval()
        edited = copy.deepcopy(model).to(device).train()
        edited.requires_grad_(True)
        eval_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
        curve: list[tuple[int, float]] = []

        def rate() -> float:
            return self.residual(edited, context, n=config.eval_n, seed=eval_seed, mask=config.mask, mask_size=config.mask_size)

        if family == "gan":
            opt_g = adam(edited.generator.parameters(), config.lr, betas=(0.5, 0.999))
            opt_d = adam(edited.discriminator.parameters(), config.lr, betas=(0.5, 0.999))

            def train_step() -> dict[str, float]:
                idx = torch.randint(0, len(real), (config.batch_size,), generator=gen).to(device)
                fake = edited.generator(edited.latents(config.batch_size, generator=gen))
                loss_d = d_real_loss(edited.discriminator(real[idx])) + d_fake_loss(edited.discriminator(fake.detach()))
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                loss_g = g_loss(edited.discriminator(fake))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
        else:
            opt = adam(edited.parameters(), config.lr)

            def train_step() -> dict[str, float]:
                idx = torch.randint(0, len(real), (config.batch_size,), generator=gen)
                if family == "flow":  # the flow's own loss: bits per dimension of the images
                    loss = edited.bpd(real_u8[idx], generator=gen).mean()
                else:  # an inpainter's own loss: reconstruct the hole under its training masks
                    from genredact.zoo.inpainter_recipes import hole_loss

                    x = real[idx.to(device)]
                    xm, m = edited.mask(x, kind="random", generator=gen)
                    loss = hole_loss(edited.decode(edited.encode(xm, m)), x, m)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return {"loss": loss.item()}

        curve.append((0, rate()))
        loop = Loop(steps=config.max_steps, desc="relearn", progress=context.progress, device=device)

        def step(i: int) -> dict[str, float]:
            out = train_step()
            if (i + 1) % config.eval_every == 0:
                curve.append((i + 1, rate()))
            return out

        def stop(i: int) -> str:
            return "relearned" if curve[-1][1] >= config.threshold else ""

        result = loop.run(step, stop=stop)
        reached = next((s for s, r in curve if r >= config.threshold), None)
        return {
            "relearn_steps": reached,
            "threshold": config.threshold,
            "budget": config.max_steps,
            "start_rate": curve[0][1],
            "final_rate": curve[-1][1],
            "curve": curve,
            "n_images": int(len(real)),
            "wall_s": result.wall_s,
        }
