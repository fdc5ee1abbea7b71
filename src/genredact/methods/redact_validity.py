"""`redact-validity`: Kong & Chaudhuri, Data Redaction from Pre-trained GANs (SaTML 2023), with the
target given as a black-box validity function (no gradients are taken through it).

Negatives are samples of the current generator that the validity function rejects, kept in a pool that
is refreshed every step (so the discriminator does not memorise a stale set), seeded from the
pre-trained generator. "Real" is the valid part of the training data as judged by the validity function
(real='data') or the pre-trained generator's valid samples (real='generator', data-free).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from genredact.errors import GenredactError
from genredact.methods._adversarial import adversarial_finetune, generated_pool, loop_log, real_pool
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import ClassifierTarget, Target, ValidityTarget


@METHODS.register("redact-validity")
class RedactValidityMethod(RedactionMethod):
    name = "redact-validity"
    families = ("gan",)
    target_kinds = ("validity", "classifier")
    paper = "Kong & Chaudhuri, Data Redaction from Pre-trained GANs, SaTML 2023 (arXiv 2206.14389)"
    summary = "GAN fine-tuning with black-box-rejected samples of the current generator as fake (refreshed pool)"

    @dataclass(frozen=True)
    class Config:
        steps: int = 300
        batch_size: int = 64
        lr: float = 2e-4
        lam: float = 0.5
        real: Literal["data", "generator"] = "data"
        pool_size: int = 500
        n_generated: int = 10000

        def check(self) -> None:
            if self.steps < 1 or self.batch_size < 1 or self.pool_size < 1 or self.n_generated < 1:
                raise GenredactError("steps, batch_size, pool_size and n_generated must be positive")
            if not 0.0 < self.lam <= 1.0:
                raise GenredactError(f"lam must lie in (0, 1], got {self.lam}")
            if self.lr <= 0:
                raise GenredactError("lr must be positive")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        # A classifier target is used only through its hard decision: a black box, no gradients.
        validity: ValidityTarget = target.as_validity() if isinstance(target, ClassifierTarget) else target
        gen = context.generator
        device = torch.device(context.device)
        model = model.to(device)
        real = real_pool(model, target, real=config.real, data=context.data, generator=gen, device=device, n_generated=config.n_generated)
        negatives = generated_pool(model, lambda x: ~validity.valid(x), n=config.pool_size, generator=gen, max_draws=50 * config.pool_size, what="invalid samples")
        initial_negatives = len(negatives)
        negatives.capacity = config.pool_size

        def refresh(fake: torch.Tensor) -> None:
            negatives.add(fake[~validity.valid(fake)], gen)

        edited, result = adversarial_finetune(
            model, real=real, negatives=negatives, lam=config.lam, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=gen, refresh=refresh, progress=context.progress, desc=self.name, device=device,
        )
        return MethodResult(edited, loop_log(result, initial_negatives=initial_negatives, real_images=len(real)))
