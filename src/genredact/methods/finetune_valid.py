"""`finetune-valid` baseline: adversarial fine-tuning on valid data only, no negatives (the
"data deletion by fine-tuning" baseline of Kong & Chaudhuri section 1.7)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from genredact.errors import GenredactError
from genredact.methods._adversarial import adversarial_finetune, loop_log, real_pool
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import Target


@METHODS.register("finetune-valid")
class FinetuneValidMethod(RedactionMethod):
    name = "finetune-valid"
    families = ("gan",)
    target_kinds = ("classifier", "validity")
    paper = "baseline (Kong & Chaudhuri 2023, section on data-deletion baselines)"
    summary = "fine-tune G and D on valid data only; no negatives"

    @dataclass(frozen=True)
    class Config:
        steps: int = 300
        batch_size: int = 64
        lr: float = 2e-4
        real: Literal["data", "generator"] = "data"
        n_generated: int = 10000

        def check(self) -> None:
            if self.steps < 1 or self.batch_size < 1 or self.n_generated < 1 or self.lr <= 0:
                raise GenredactError("steps, batch_size, n_generated and lr must be positive")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        device = torch.device(context.device)
        model = model.to(device)
        real = real_pool(model, target, real=config.real, data=context.data, generator=context.generator, device=device, n_generated=config.n_generated)
        edited, result = adversarial_finetune(
            model, real=real, negatives=None, lam=1.0, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=context.generator, progress=context.progress, desc=self.name, device=device,
        )
        return MethodResult(edited, loop_log(result, real_images=len(real)))
