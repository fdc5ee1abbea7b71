"""Baselines of Li et al. (ICLR 2024) for image-to-image unlearning. Each is `encoder-unlearn` with
another forget term (same balanced batches, shared masks, frozen decoder, same retain term
||E(T(x_r)) - E0(T(x_r))||^2 and weight alpha):

- `max-loss`: gradient ascent on the forget images' own reconstruction loss (MSE in the hole):
  forget term = -||D(E(T(x_f))) - x_f||^2_hole.
- `noisy-label`: train forget images toward random targets: forget term = ||D(E(T(x_f))) - n||^2_hole
  with n the matched-statistics noise image.
- `retain-label`: map forget inputs to the teacher's encodings of the retain images of the same batch:
  forget term = ||E(T(x_f)) - E0(T(x_r))||^2.
- `random-encoder`: map forget encodings to Gaussian noise with the mean and std of the teacher's
  encodings of the same forget images: forget term = ||E(T(x_f)) - eps||^2.
"""
from __future__ import annotations

import torch

from genredact.methods.base import METHODS
from genredact.methods.encoder_unlearn import Batch, EncoderUnlearnMethod, hole_mse, mse
from genredact.models.inpainter import InpainterModel


@METHODS.register("max-loss")
class MaxLossMethod(EncoderUnlearnMethod):
    name = "max-loss"
    paper = "baseline (Li et al., ICLR 2024): gradient ascent on the forget set's reconstruction loss"
    summary = "encoder only: ascend the forget images' hole MSE, keep retain encodings"

    def forget_term(self, student: InpainterModel, teacher: InpainterModel, b: Batch) -> torch.Tensor:
        return -hole_mse(student.decode(b.h_f), b.x_f, b.m_f, b.loop)


@METHODS.register("noisy-label")
class NoisyLabelMethod(EncoderUnlearnMethod):
    name = "noisy-label"
    paper = "baseline (Li et al., ICLR 2024): train forget inputs toward noise targets"
    summary = "encoder only: forget outputs regress to a noise image, keep retain encodings"

    def forget_term(self, student: InpainterModel, teacher: InpainterModel, b: Batch) -> torch.Tensor:
        fresh = b.loop.shard(torch.randn((b.half, *b.x_f.shape[1:]), generator=b.rng)).to(b.x_f.device)
        noise = b.noise_m + b.m_f * fresh.mul(b.f_std).add(b.f_mean).clamp(-1, 1)
        return hole_mse(student.decode(b.h_f), noise, b.m_f, b.loop)


@METHODS.register("retain-label")
class RetainLabelMethod(EncoderUnlearnMethod):
    name = "retain-label"
    paper = "baseline (Li et al., ICLR 2024): map forget inputs to the teacher's outputs for retain inputs"
    summary = "encoder only: forget encodings go to teacher encodings of the batch's retain images"

    def forget_term(self, student: InpainterModel, teacher: InpainterModel, b: Batch) -> torch.Tensor:
        return mse(b.h_f, b.guide_r, b.loop)


@METHODS.register("random-encoder")
class RandomEncoderMethod(EncoderUnlearnMethod):
    name = "random-encoder"
    paper = "baseline (Li et al., ICLR 2024): map forget encodings to Gaussian noise with the teacher's statistics"
    summary = "encoder only: forget encodings go to N(mean, std of the teacher's forget encodings)"

    def forget_term(self, student: InpainterModel, teacher: InpainterModel, b: Batch) -> torch.Tensor:
        with torch.no_grad():
            t_f = teacher.encode(b.xm_f, b.m_f)
            mean, std = b.loop.batch_mean_std(t_f.flatten())
            eps = b.loop.shard(torch.randn((b.half, *t_f.shape[1:]), generator=b.rng)).to(t_f.device) * std + mean
        return mse(b.h_f, eps, b.loop)
