"""`redact-classifier`: Kong & Chaudhuri, Data Redaction from Pre-trained GANs (SaTML 2023), with the
target given as a differentiable classifier plus the labels to redact.

Negatives are the current generator's samples that the classifier assigns to a redacted label (a pool
refreshed every step, seeded from the pre-trained generator). Because the classifier is differentiable,
the generator also gets a guidance term beta * E[-log(1 - p_target(G(z)))], which pushes each sample
out of the redacted classes directly. "Real" is the valid part of the training data (real='data') or
the pre-trained generator's valid samples (real='generator', data-free).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from genredact.data.augment import random_shift
from genredact.engine import Loop
from genredact.errors import GenredactError
from genredact.methods._adversarial import adversarial_finetune, generated_pool, loop_log, real_pool
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import ClassifierTarget


@METHODS.register("redact-classifier")
class RedactClassifierMethod(RedactionMethod):
    name = "redact-classifier"
    families = ("gan",)
    target_kinds = ("classifier",)
    paper = "Kong & Chaudhuri, Data Redaction from Pre-trained GANs, SaTML 2023 (arXiv 2206.14389)"
    summary = "GAN fine-tuning with classifier-flagged negatives as fake + differentiable classifier guidance"

    @dataclass(frozen=True)
    class Config:
        steps: int = 300
        batch_size: int = 64
        lr: float = 2e-4
        lam: float = 0.5  # weight of generator samples among the discriminator's fakes; 1 - lam for negatives
        beta: float = 1.0  # weight of the classifier guidance term on the generator
        real: Literal["data", "generator"] = "data"
        negative_threshold: float | None = 0.1  # flag a sample as a negative when p(target) >= this; None: argmax
        guide_shift: int = 2  # random translation (pixels) of the guided samples, so G cannot exploit one view of the classifier
        pool_size: int = 500  # negatives kept in the refreshed pool
        n_generated: int = 10000  # valid generator samples used as "real" when real=generator

        def check(self) -> None:
            if self.steps < 1 or self.batch_size < 1 or self.pool_size < 1 or self.n_generated < 1:
                raise GenredactError("steps, batch_size, pool_size and n_generated must be positive")
            if not 0.0 < self.lam <= 1.0:
                raise GenredactError(f"lam must lie in (0, 1], got {self.lam}")
            if self.negative_threshold is not None and not 0.0 < self.negative_threshold <= 1.0:
                raise GenredactError(f"negative_threshold must lie in (0, 1], got {self.negative_threshold}")
            if self.guide_shift < 0:
                raise GenredactError("guide_shift must be >= 0")
            if self.lr <= 0 or self.beta < 0:
                raise GenredactError("lr must be positive and beta non-negative")

    def apply(self, model: GanModel, target: ClassifierTarget, config: Config, context: Context) -> MethodResult:
        gen = context.generator
        device = torch.device(context.device)
        model = model.to(device)
        clf = target.classifier.to(device).eval().requires_grad_(False)
        real = real_pool(model, target, real=config.real, data=context.data, generator=gen, device=device, n_generated=config.n_generated)
        label_list = list(target.labels)

        def flag(probs: torch.Tensor) -> torch.Tensor:
            return target.flags(probs, config.negative_threshold)

        negatives = generated_pool(model, lambda x: flag(torch.softmax(clf(x), 1)), n=config.pool_size, generator=gen, max_draws=50 * config.pool_size, what="target samples")
        initial_negatives = len(negatives)
        negatives.capacity = config.pool_size

        def guidance(fake: torch.Tensor, loop: Loop) -> torch.Tensor:
            # `fake` is this process's shard of the batch (all of it in one process).
            n = config.batch_size
            # float32 probabilities: under bf16 autocast 1 - 1e-6 rounds to 1 and the log below to -inf
            probs = torch.softmax(clf(random_shift(fake, config.guide_shift, gen, whole=n, shard=loop.shard)).float(), 1)
            # The same forward pass refreshes the negative pool (the hard decision, no gradient) with the
            # whole batch's flagged samples, so that every process keeps the same pool.
            flagged = loop.gather(flag(probs.detach()).to(torch.uint8), n).bool()
            negatives.add(loop.gather(fake.detach(), n)[flagged], gen)
            p = probs[:, label_list].sum(1)
            return -torch.log1p(-p.clamp(max=1 - 1e-6)).mean()

        edited, result = adversarial_finetune(
            model, real=real, negatives=negatives, lam=config.lam, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=gen, guidance=guidance, beta=config.beta, progress=context.progress, desc=self.name, device=device,
        )
        return MethodResult(edited, loop_log(result, initial_negatives=initial_negatives, real_images=len(real)))
