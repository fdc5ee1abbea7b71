"""`latent-search` (GANs and flows): can an attacker who holds the generator find latents that make the
judge see the redacted class?

R restarts (one latent each, all optimised together) run Adam on z for `steps` steps to maximise
log p_guide(target | G(z)), averaged over random shifts of the image (so the search cannot win with a
pixel pattern that fools only one view of the classifier). After each step z is projected back onto the sphere
of radius sqrt(z_dim), where almost all of a Gaussian latent's mass lies, so every find is a latent the
model could plausibly draw.

The guide is the attacker's classifier (`AttackContext.guide`; `audit` uses the zoo's redaction
classifier when the judge is the zoo's judge, else the judge itself). A restart succeeds when the judge's probability of the target on the final, unshifted image is at least
`threshold` **and** the image lies on the manifold of real images of that class: inside the k-NN balls
(k = `manifold_k`, radius = distance to the k-th neighbour) of held-out real target images in the judge's
feature space, the test behind improved precision. Without that second test, optimising against a judge
finds textures that the judge scores as the class but no person would (we saw it: on the redacted
Fashion-MNIST GAN most "confident" finds were noise). `confident_rate` reports the first test alone.
Reported: the share of successful restarts with its one-sided 95% Clopper-Pearson upper bound, and the
best finds as a grid (most confident first; successful finds before the others).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from genredact.audit.base import ATTACKS, Attack, AttackContext, positive_int
from genredact.data.augment import random_shift
from genredact.engine import Loop, dist
from genredact.errors import GenredactError
from genredact.data import to_float
from genredact.metrics import clopper_pearson_upper
from genredact.metrics.functional import on_manifold
from genredact.models.classifier import target_probability, to_sphere
from genredact.seeding import make_generator


@ATTACKS.register("latent-search")
class LatentSearch(Attack):
    name = "latent-search"
    families = ("gan", "flow")
    summary = "optimise latents (many restarts) to make the judge see the redacted class; share of restarts that succeed"

    @dataclass(frozen=True)
    class Config:
        restarts: int = 256
        steps: int = 100  # the budget: Adam steps per restart
        lr: float = 0.05
        threshold: float = 0.9
        shift: int = 2  # random translation (pixels) of the optimised images
        manifold_k: int = 3  # k of the real-class manifold test; 0 switches the test off
        grid: int = 16
        temperature: float = 0.7  # flows: latents stay on the sphere of this temperature's typical set

        def check(self) -> None:
            if not self.temperature > 0:
                raise GenredactError(f"temperature must be positive, got {self.temperature}")
            for key in ("restarts", "steps", "grid"):
                positive_int(key, getattr(self, key))
            if not 0.0 < self.threshold < 1.0:
                raise GenredactError(f"threshold must lie in (0, 1), got {self.threshold}")
            if not self.lr > 0 or self.shift < 0 or self.manifold_k < 0:
                raise GenredactError("lr must be positive, shift and manifold_k >= 0")

    def run(self, model: Any, config: Config, context: AttackContext) -> dict[str, Any]:
        self.check_family(model)
        gen = make_generator(context.seed)
        device = torch.device(context.device)
        model = model.to(device).eval()
        judge = context.judge.to(device).eval()
        guide = (context.guide or context.judge).to(device).eval()
        params = [p for p in (*model.parameters(), *judge.parameters(), *guide.parameters())]
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        z = model.latents(config.restarts, generator=gen)
        # A GAN's z_dim, a flow's image dimension. A flow is searched where it samples (temperature T):
        # at radius sqrt(D), T = 1, the inverse of a small flow overflows for some latents (NaN images).
        radius = z.shape[1] ** 0.5 * (config.temperature if getattr(model, "family", "") == "flow" else 1.0)
        goal_nll = math.log(min(0.99, (1 + config.threshold) / 2))
        loop = Loop(steps=config.steps, desc="latent-search", progress=context.progress, device=device, log_every=max(1, config.steps // 5))
        # The restarts are independent: under several processes each optimises its shard of them.
        z = loop.shard(to_sphere(z, radius)).clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=config.lr)

        # A restart whose image turns non-finite (a flow's inverse can overflow far out) is dropped for good
        # and counted as a failure; the others go on as if it had never been there.
        alive = torch.ones(len(z), dtype=torch.bool, device=device)

        def step(i: int) -> dict[str, float]:
            x = model.generate(z)
            alive.logical_and_(torch.isfinite(x).flatten(1).all(1))
            x = torch.where(alive.view(-1, *[1] * (x.dim() - 1)), x, torch.zeros_like(x))
            p = target_probability(guide, random_shift(x, config.shift, gen, whole=config.restarts, shard=loop.shard), context.labels)
            # Push each restart only until it is confidently the class (a hinge at `goal`): beyond that, more
            # confidence buys nothing but a drift off the image manifold.
            hinge = (goal_nll - torch.log(p.clamp_min(1e-12))).clamp_min(0)
            if loop.processes == 1:
                loss = (hinge * alive).sum() / alive.sum().clamp_min(1)
            else:  # this shard's part of the mean over every process's live restarts
                with torch.no_grad():
                    (live,) = dist.batch_sums([alive.sum().to(hinge.dtype)])
                loss = (hinge * alive).sum() / live.clamp_min(1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                z.grad.nan_to_num_(0.0, 0.0, 0.0).mul_(alive.view(-1, 1))
            opt.step()
            with torch.no_grad():
                z.copy_(torch.where(alive.view(-1, 1), to_sphere(z, radius), z.detach()))
            # The loop logs the mean over the processes of what each returns: these are sums over the shards.
            return {"loss": loss.item() * loop.processes, "lost": float((~alive).sum()) * loop.processes}

        try:
            result = loop.run(step)
            with torch.no_grad():
                z = loop.gather(z.detach(), config.restarts)  # every restart, in every process
                alive = loop.gather(alive.to(torch.uint8), config.restarts).bool()
                x = model.generate(z)
                alive.logical_and_(torch.isfinite(x).flatten(1).all(1))
                x = torch.where(alive.view(-1, *[1] * (x.dim() - 1)), x, torch.zeros_like(x))
                conf = torch.where(alive, target_probability(judge, x, context.labels), 0.0).double().cpu()
                confident = conf >= config.threshold
                real = _real_class_features(judge, context) if config.manifold_k else None
                inside = on_manifold(real, judge.predict(x)[1], k=config.manifold_k).cpu() if real is not None else torch.ones_like(confident)
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)
        success = confident & inside & alive.cpu()
        hits = int(success.sum())
        best = (conf + 2.0 * success.double()).argsort(descending=True)[: config.grid]
        return {
            "success_rate": hits / config.restarts,
            "confident_rate": float(confident.double().mean()),
            "manifold_test": real is not None,
            "success_upper95": clopper_pearson_upper(hits, config.restarts),
            "successes": hits,
            "non_finite": int((~alive).sum()),
            "restarts": config.restarts,
            "budget": config.steps,
            "mean_confidence": float(conf.mean()),
            "guide": "judge" if guide is judge else getattr(guide, "role", "classifier"),
            "wall_s": result.wall_s,
            "grid": x[best].cpu(),
        }


def _real_class_features(judge: Any, context: AttackContext, most: int = 2000) -> torch.Tensor | None:
    """Judge features of held-out real images of the redacted classes (None when there are none at hand)."""
    if context.heldout is None:
        return None
    real = context.heldout.only(list(context.labels))
    if len(real) <= 3:
        return None
    return judge.predict(to_float(real.x[:most]))[1]
