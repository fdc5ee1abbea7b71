"""`finetune-valid` baseline: fine-tuning on valid data only.

GANs: adversarial fine-tuning on valid data, no negatives (the "data deletion by fine-tuning" baseline
of Kong & Chaudhuri section 1.7). Flows: maximum likelihood on the remember set (the training data
without every forget image), Adam with a linear warm-up; for a class (a classifier target) it stops
once the class makes at most `share_goal` of samples on fixed latents under the target's classifier,
the same rule as `taming`'s class mode, so the two are compared at the same goal."""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Literal

import torch

from genredact.errors import GenredactError
from genredact.methods._adversarial import adversarial_finetune, loop_log, real_pool
from genredact.engine import Loop
from genredact.methods._flow import class_share, forget_split, warmup_adam
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import FlowModel, GanModel
from genredact.targets import ClassifierTarget, SamplesTarget, Target


@METHODS.register("finetune-valid")
class FinetuneValidMethod(RedactionMethod):
    name = "finetune-valid"
    families = ("gan", "flow")
    target_kinds = ("classifier", "validity", "samples")
    paper = "baseline (Kong & Chaudhuri 2023, section on data-deletion baselines)"
    summary = "fine-tune on valid data only (GAN: G and D, no negatives; flow: likelihood on the remember set)"

    @dataclass(frozen=True)
    class Config:
        """steps / lr: None takes the family's default (GAN 300 steps at 2e-4, flow at most 1000 at 1e-4).
        Flows only: warmup, share_goal, share_every, mix_samples, temperature."""

        steps: int | None = None
        batch_size: int = 64
        lr: float | None = None
        real: Literal["data", "generator"] = "data"
        n_generated: int = 10000
        warmup: int = 20
        share_goal: float | None = 0.005
        share_every: int = 25
        mix_samples: int = 2000
        temperature: float = 0.7

        def check(self) -> None:
            if (self.steps is not None and self.steps < 1) or self.batch_size < 1 or self.n_generated < 1 or (self.lr is not None and self.lr <= 0):
                raise GenredactError("steps, batch_size, n_generated and lr must be positive")
            if self.warmup < 0 or self.share_every < 1 or self.mix_samples < 1 or self.temperature <= 0:
                raise GenredactError("warmup must be >= 0 and share_every, mix_samples and temperature positive")
            if self.share_goal is not None and not 0 < self.share_goal < 1:
                raise GenredactError(f"share_goal must lie in (0, 1) or be None, got {self.share_goal}")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        if getattr(model, "family", "") == "flow":
            return _finetune_flow(model, target, config, context)
        if isinstance(target, SamplesTarget):
            raise GenredactError("finetune-valid on a GAN needs a classifier or validity target to tell valid data; a set of images works only for flows")
        config = replace(config, steps=config.steps or 300, lr=config.lr or 2e-4)
        device = torch.device(context.device)
        model = model.to(device)
        real = real_pool(model, target, real=config.real, data=context.data, generator=context.generator, device=device, n_generated=config.n_generated)
        edited, result = adversarial_finetune(
            model, real=real, negatives=None, lam=1.0, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=context.generator, progress=context.progress, desc=self.name, device=device,
        )
        return MethodResult(edited, loop_log(result, real_images=len(real)))


def _finetune_flow(model: FlowModel, target: Target, config: FinetuneValidMethod.Config, context: Context) -> MethodResult:
    device = torch.device(context.device)
    g = context.generator
    split = forget_split(context.data, target)
    remember_x = torch.as_tensor(split.remember.x)
    edited = copy.deepcopy(model).to(device).eval()
    steps, lr = config.steps or 1000, config.lr or 1e-4
    opt, sched = warmup_adam(edited, lr, config.warmup)
    loop = Loop(steps=steps, desc="finetune-valid", progress=context.progress, device=device, max_loss=1e6)
    by_share = isinstance(target, ClassifierTarget) and config.share_goal is not None
    z_bank = edited.latents(config.mix_samples, generator=g, temperature=config.temperature) if by_share else None
    state: dict[str, float] = {}

    def measure_share() -> float:
        state["class_share"] = class_share(edited, target, z_bank)
        return state["class_share"]

    def stop(i: int) -> str:
        if not by_share or i % config.share_every:
            return ""
        share = measure_share()
        return f"the class makes {share:.2%} of {len(z_bank)} samples (goal {config.share_goal:.2%}) at step {i}" if share <= config.share_goal else ""

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(0, len(remember_x), (config.batch_size,), generator=g)
        loss = loop.batch_mean(edited.bpd(remember_x[idx], generator=g, shard=loop.shard))
        opt.zero_grad(set_to_none=True)
        loop.backward(loss)
        opt.step()
        sched.step()
        return {"bpd": loss.item(), **({"class_share": state["class_share"]} if by_share else {})}

    result = loop.run(step, state={"net": edited.net, "opt": opt, "sched": sched, "rng": g, "running": state}, stop=stop)
    log = {**loop_log(result), "stopped_early": result.stopped_early, "stop_reason": result.stop_reason,
           "n_forget": len(split.forget), "n_remember": len(remember_x)}
    if by_share:
        log.update(class_share_classifier=measure_share(), share_goal=config.share_goal, temperature=config.temperature)
    return MethodResult(edited.cpu() if device.type != "cpu" else edited, log)
