"""`likelihood-ascent` baseline for flows: plain gradient ascent of the forget images' NLL (the
`forget_loss_baseline` ablation of Taming's reference code). No remember term, no target level: it
stops as soon as every forget image is at least as unlikely as the Taming band's lower edge
(BPD >= mu + k sigma - 0.15 k sigma, with mu, sigma of the current model on remember images), or at
`steps`."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from genredact.engine import Loop
from genredact.engine.optim import adam
from genredact.errors import GenredactError
from genredact.methods._flow import forget_split
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import FlowModel
from genredact.seeding import make_generator
from genredact.targets import Target


@METHODS.register("likelihood-ascent")
class LikelihoodAscentMethod(RedactionMethod):
    name = "likelihood-ascent"
    families = ("flow",)
    target_kinds = ("samples", "classifier")
    needs_data = True
    paper = "baseline (Malnick et al. 2024, forget loss = -NLL)"
    summary = "maximise the forget images' NLL until they are as unlikely as the Taming band"

    @dataclass(frozen=True)
    class Config:
        steps: int = 400
        lr: float = 2e-4
        batch_size: int = 8
        k: float = 4.0
        band: float = 0.15
        refresh_every: int = 10
        stat_images: int = 512
        check_images: int = 256

        def check(self) -> None:
            if min(self.steps, self.batch_size, self.refresh_every, self.stat_images, self.check_images) < 1 or self.lr <= 0 or self.k <= 0:
                raise GenredactError("steps, batch_size, refresh_every, stat_images, check_images, lr and k must be positive")

    def apply(self, model: FlowModel, target: Target, config: Config, context: Context) -> MethodResult:
        device = torch.device(context.device)
        edited = copy.deepcopy(model).to(device).eval()
        g = context.generator
        split = forget_split(context.data, target)
        forget = torch.as_tensor(split.forget)
        remember_x = torch.as_tensor(split.remember.x)
        stat_x = remember_x[torch.randperm(len(remember_x), generator=g)[: config.stat_images]]
        check_x = forget[torch.randperm(len(forget), generator=g)[: config.check_images]]
        noise_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        state: dict[str, float] = {}
        opt = adam(edited.parameters(), config.lr)
        loop = Loop(steps=config.steps, desc=self.name, progress=context.progress, device=device, max_loss=1e6)

        def stop(i: int) -> str:
            if i % config.refresh_every == 0:
                b = edited.bpd_of(stat_x, generator=make_generator(noise_seed))
                state["mu"], state["sigma"] = float(b.mean()), float(b.std())
            low = state["mu"] + (config.k - config.band * config.k) * state["sigma"]
            reached = float((edited.bpd_of(check_x, generator=make_generator(noise_seed + 1)) >= low).double().mean())
            state["reached"] = reached
            return f"every forget image is past the band's lower edge at step {i}" if reached >= 1.0 else ""

        def step(i: int) -> dict[str, float]:
            xf = forget[torch.randint(0, len(forget), (config.batch_size,), generator=g)]
            bpd = loop.batch_mean(edited.bpd(xf, generator=g, shard=loop.shard))
            opt.zero_grad(set_to_none=True)
            loop.backward(-bpd)
            opt.step()
            return {"forget_bpd": bpd.item(), "reached": state["reached"]}

        result = loop.run(step, state={"net": edited.net, "opt": opt, "rng": g, "running": state}, stop=stop)
        log = {
            "steps": result.steps, "wall_s": result.wall_s, "peak_mem_mb": result.peak_mem_mb, "history": result.history,
            "stopped_early": result.stopped_early, "stop_reason": result.stop_reason, "n_forget": len(forget), "n_remember": len(remember_x),
        }
        return MethodResult(edited.cpu() if device.type != "cpu" else edited, log)
