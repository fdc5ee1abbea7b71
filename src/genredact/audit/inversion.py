"""`inversion`: can the redacted model still reproduce held-out images of the redacted class?

For each of `n_images` held-out test images of the redacted class, and as many of the other classes, a
latent is optimised (Adam, `steps` steps, best of `restarts` starting points) to minimise

    || G(z) - x ||^2 / n_pixels + feature_weight * || f(G(z)) - f(x) ||^2 / || f(x) ||^2

with f the evaluation judge's features. Reported, per group: mean pixel MSE and relative feature error of
the best reconstruction, and the judge's accuracy on the reconstructions (does the reconstruction of a 7
still read as a 7?). A redaction that took the class out raises the target group's errors and lowers its
accuracy while the retain group stays where the pre-trained model had it; `target_gap` is the ratio of the
target group's pixel error to the retain group's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genredact.audit.base import ATTACKS, Attack, AttackContext, positive_int
from genredact.data import to_float
from genredact.engine import Loop
from genredact.errors import GenredactError
from genredact.seeding import make_generator


@ATTACKS.register("inversion")
class Inversion(Attack):
    name = "inversion"
    families = ("gan",)
    summary = "optimise a latent to reproduce each held-out image of the redacted class; errors vs retain-class images"

    @dataclass(frozen=True)
    class Config:
        n_images: int = 64
        restarts: int = 4
        steps: int = 200
        lr: float = 0.05
        feature_weight: float = 0.1
        grid: int = 16

        def check(self) -> None:
            for key in ("n_images", "restarts", "steps", "grid"):
                positive_int(key, getattr(self, key))
            if not self.lr > 0 or self.feature_weight < 0:
                raise GenredactError("lr must be positive and feature_weight >= 0")

    def run(self, model: Any, config: Config, context: AttackContext) -> dict[str, Any]:
        self.check_family(model)
        if context.heldout is None:
            raise GenredactError("inversion needs held-out real images of the data set; pass heldout=...")
        gen = make_generator(context.seed)
        device = torch.device(context.device)
        model = model.to(device).eval()
        judge = context.judge.to(device).eval()
        groups = {"target": context.heldout.only(list(context.labels)), "retain": context.heldout.without(list(context.labels))}
        out: dict[str, Any] = {"budget": config.steps, "restarts": config.restarts}
        grids = []
        params = [*model.parameters(), *judge.parameters()]
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            for name, data in groups.items():
                if len(data) == 0:
                    raise GenredactError(f"the held-out data has no {name} images to invert")
                pick = torch.randperm(len(data), generator=gen)[: config.n_images]
                x = to_float(data.x[pick.numpy()]).to(device)
                y = torch.as_tensor(data.y[pick.numpy()]).to(device)
                recon, pix, feat = self._invert(model, judge, x, config, gen, context, desc=f"inversion ({name})")
                pred = judge.predict(recon)[0].argmax(1).to(device)
                out[f"{name}_pixel_mse"] = float(pix.mean())
                out[f"{name}_feature_err"] = float(feat.mean())
                out[f"{name}_judge_acc"] = float((pred == y).double().mean())
                grids += [x[: config.grid // 2], recon[: config.grid // 2]]
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)
        out["target_gap"] = out["target_pixel_mse"] / max(out["retain_pixel_mse"], 1e-12)
        out["grid"] = torch.cat(grids).cpu()  # rows: target images, their reconstructions, retain images, theirs
        return out

    @staticmethod
    def _invert(model: Any, judge: Any, x: torch.Tensor, config: Config, gen: torch.Generator, context: AttackContext, *, desc: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        with torch.no_grad():
            fx = judge.features(x)
            fnorm = fx.pow(2).sum(1).clamp_min(1e-12)
        total = n * config.restarts
        loop = Loop(steps=config.steps, desc=desc, progress=context.progress, device=x.device, log_every=max(1, config.steps // 5))
        # The latents are independent: under several processes each optimises its shard of them.
        xr = loop.shard(x.repeat(config.restarts, 1, 1, 1))
        fxr, fnr = loop.shard(fx.repeat(config.restarts, 1)), loop.shard(fnorm.repeat(config.restarts))
        z = loop.shard(model.latents(total, generator=gen)).clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=config.lr)

        def errors() -> tuple[torch.Tensor, torch.Tensor]:
            g = model.generate(z)
            pix = (g - xr).pow(2).flatten(1).mean(1)
            feat = (judge.features(g) - fxr).pow(2).sum(1) / fnr
            return pix, feat

        def step(i: int) -> dict[str, float]:
            pix, feat = errors()
            err = pix + config.feature_weight * feat
            loss = err.mean() if loop.processes == 1 else err.sum() / total  # a shard's part of the mean over every latent
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item() * loop.processes}  # the loop logs the processes' mean: the shards' sum

        loop.run(step)
        with torch.no_grad():
            pix, feat = errors()
            pix, feat, z = loop.gather(pix, total), loop.gather(feat, total), loop.gather(z.detach(), total)
            best = (pix + config.feature_weight * feat).view(config.restarts, n).argmin(0)
            idx = best * n + torch.arange(n, device=x.device)
            return model.generate(z[idx]), pix[idx].cpu(), feat[idx].cpu()
