"""`redact-samples`: Kong & Chaudhuri, Data Redaction from Pre-trained GANs (SaTML 2023), with the
target given as a set of images (e.g. a folder the user never wants to see again).

The given images are the negatives, labelled fake for the discriminator. A set of samples does not say
which real images are target content, so "real" is all of the training data (real='data') or the
pre-trained generator's samples (real='generator', data-free), and lam should be the valid fraction
(variant A of the research notes: lam * p_G + (1 - lam) * p_neg = p_data is solved by p_G = p_valid).
A `label=` target is turned into samples: that class's training images (up to `max_samples`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from genredact.data import to_float
from genredact.errors import GenredactError
from genredact.methods._adversarial import Pool, adversarial_finetune, data_pool, generated_pool, loop_log
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import SamplesTarget, Target


@METHODS.register("redact-samples")
class RedactSamplesMethod(RedactionMethod):
    name = "redact-samples"
    families = ("gan",)
    target_kinds = ("samples", "classifier")
    paper = "Kong & Chaudhuri, Data Redaction from Pre-trained GANs, SaTML 2023 (arXiv 2206.14389)"
    summary = "GAN fine-tuning with a given set of images labelled fake (real = all data, lam = valid fraction)"

    @dataclass(frozen=True)
    class Config:
        steps: int = 300
        batch_size: int = 64
        lr: float = 2e-4
        lam: float = 0.9  # should be the valid fraction of the data (0.9 for one class of ten)
        real: Literal["data", "generator"] = "data"
        max_samples: int = 6000  # when a label= target is turned into its class's training images
        n_generated: int = 10000

        def check(self) -> None:
            if self.steps < 1 or self.batch_size < 1 or self.max_samples < 1 or self.n_generated < 1:
                raise GenredactError("steps, batch_size, max_samples and n_generated must be positive")
            if not 0.0 < self.lam < 1.0:
                raise GenredactError(f"lam must lie in (0, 1) for redact-samples, got {self.lam}")
            if self.lr <= 0:
                raise GenredactError("lr must be positive")

    def samples_of(self, target: Target, context: Context, config: Config) -> np.ndarray:
        if isinstance(target, SamplesTarget):
            return target.images
        data = context.data
        if data is None or tuple(data.class_names) != tuple(target.classifier.class_names):
            raise GenredactError("redact-samples turns a label= target into that class's training images, but the training data is not at hand; give samples=DIR instead")
        images = data.only(target.labels).x
        pick = torch.randperm(len(images), generator=context.generator)[: config.max_samples].numpy()
        return images[np.sort(pick)]

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        gen = context.generator
        device = torch.device(context.device)
        model = model.to(device)
        images = self.samples_of(target, context, config)
        if tuple(images.shape[1:]) != tuple(model.image_shape):
            raise GenredactError(f"the target images are {tuple(images.shape[1:])} but the model makes {tuple(model.image_shape)} images")
        negatives = Pool(to_float(images).to(device))
        if config.real == "data":
            if context.data is None:
                raise GenredactError("real=data needs the model's training data, which is not at hand; use real=generator")
            real = data_pool(context.data, device)
        else:
            real = generated_pool(model, lambda x: torch.ones(x.shape[0], dtype=torch.bool, device=x.device), n=config.n_generated, generator=gen, max_draws=config.n_generated, what="samples")
        edited, result = adversarial_finetune(
            model, real=real, negatives=negatives, lam=config.lam, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=gen, progress=context.progress, desc=self.name, device=device,
        )
        return MethodResult(edited, loop_log(result, n_samples=len(negatives), real_images=len(real)))
