"""`redact-classifier`: Kong & Chaudhuri, Data Redaction from Pre-trained GANs (SaTML 2023), with the
target given as a differentiable classifier plus the labels to redact.

Negatives are the current generator's samples that the classifier assigns to a redacted label (a pool
refreshed every step, seeded from the pre-trained generator). Because the classifier is differentiable,
the generator also gets a guidance term beta * E[-log(1 - p_target(G(z)))], which pushes each sample
out of the redacted classes directly. "Real" is the valid part of the training data (real='data') or
the pre-trained generator's valid samples (real='generator', data-free).

Hardening (`harden` > 0; ours, not the paper's). The paper's guidance acts on random latents only, so
latents the generator seldom draws at random keep making the class, and an attacker who searches the
latent space finds them (`genredact audit --attack latent-search`). With `harden` = H, the method also
keeps H persistent attack chains: latents on the sphere of radius sqrt(z_dim) (where the attack searches)
that take `harden_steps` Adam steps per training step towards the redacted class under the redaction
classifier, a `harden_restart` share of them redrawn each step so they keep exploring. The generator's
images of those latents (eval mode, as samples are drawn) get the same guidance term, weighted
`harden_weight`, and the ones the classifier flags join the negative pool, so the discriminator learns
them as fake too. Cost: about two extra generator + classifier passes over H images per step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import torch

from genredact.data.augment import random_shift
from genredact.engine import Loop
from genredact.engine.precision import full
from genredact.errors import GenredactError
from genredact.methods._adversarial import adversarial_finetune, generated_pool, loop_log, real_pool
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.models.classifier import target_probability, to_sphere
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
        harden: int = 0  # persistent attack chains (0: the paper's method)
        harden_steps: int = 2  # attack steps per training step
        harden_lr: float = 0.05
        harden_weight: float = 1.0
        harden_restart: float = 0.03  # share of the chains redrawn at random each step

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
            if self.harden < 0 or self.harden_steps < 1 or self.harden_lr <= 0 or self.harden_weight < 0:
                raise GenredactError("harden must be >= 0, harden_steps >= 1, harden_lr > 0 and harden_weight >= 0")
            if not 0.0 <= self.harden_restart <= 1.0:
                raise GenredactError(f"harden_restart must lie in [0, 1], got {self.harden_restart}")

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

        def guide_term(x: torch.Tensor, whole: int, loop: Loop) -> torch.Tensor:
            """-log(1 - p_target) of `x` (this process's shard of `whole` images); refreshes the pool."""
            # float32 probabilities: under bf16 autocast 1 - 1e-6 rounds to 1 and the log below to -inf
            probs = torch.softmax(full(clf(random_shift(x, config.guide_shift, gen, whole=whole, shard=loop.shard))), 1)
            # The same forward pass refreshes the negative pool (the hard decision, no gradient) with the
            # whole batch's flagged samples, so that every process keeps the same pool.
            flagged = loop.gather(flag(probs.detach()).to(torch.uint8), whole).bool()
            negatives.add(loop.gather(x.detach(), whole)[flagged], gen)
            p = probs[:, label_list].sum(1)
            return -torch.log1p(-p.clamp(max=1 - 1e-6)).mean()

        chains = HardChains(model, config, gen, device) if config.harden else None

        def guidance(fake: torch.Tensor, loop: Loop, edited: GanModel) -> torch.Tensor:
            # `fake` is this process's shard of the batch (all of it in one process).
            term = guide_term(fake, config.batch_size, loop)
            if chains is not None:
                hard = chains.advance(edited, lambda x: target_probability(clf, random_shift(x, config.guide_shift, gen), label_list))
                term = term + config.harden_weight * guide_term(hard(loop.shard), config.harden, loop)
            return term

        edited, result = adversarial_finetune(
            model, real=real, negatives=negatives, lam=config.lam, steps=config.steps, batch_size=config.batch_size, lr=config.lr,
            generator=gen, guidance=guidance, beta=config.beta, progress=context.progress, desc=self.name, device=device,
            extra_state=chains.state() if chains is not None else None,
        )
        extra = {"hard_chains_on_target": chains.on_target} if chains is not None else {}
        return MethodResult(edited, loop_log(result, initial_negatives=initial_negatives, real_images=len(real), **extra))


class HardChains:
    """H latents on the sphere of radius sqrt(z_dim), each moved by Adam towards the redacted class (the
    latent-search attack, run alongside training instead of after it)."""

    def __init__(self, model: GanModel, config: RedactClassifierMethod.Config, gen: torch.Generator, device: torch.device) -> None:
        self.config, self.gen = config, gen
        self.radius = model.z_dim ** 0.5
        self.z = to_sphere(model.latents(config.harden, generator=gen), self.radius).to(device).requires_grad_(True)
        self.opt = torch.optim.Adam([self.z], lr=config.harden_lr)
        self.cursor = {"next": 0}  # the next chain to redraw (round robin)
        self.on_target = 0.0  # share of chains the classifier took for the class at the last step

    def state(self) -> dict[str, object]:
        return {"hard_z": self.z, "hard_opt": self.opt, "hard_cursor": self.cursor}

    def advance(self, edited: GanModel, prob: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[Callable], torch.Tensor]:
        """Redraw a few chains, take the attack steps on the generator in eval mode (no weight
        gradients), and return a function giving the generator's images of (a shard of) the chains."""
        cfg, G = self.config, edited.generator
        n_new = int(round(cfg.harden_restart * cfg.harden))
        fresh = edited.latents(n_new, generator=self.gen).to(self.z.device) if n_new else None
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad():
                if fresh is not None:
                    rows = (self.cursor["next"] + torch.arange(n_new)) % cfg.harden
                    self.cursor["next"] = int(rows[-1] + 1) % cfg.harden
                    self.z[rows.to(self.z.device)] = to_sphere(fresh, self.radius)
                    for buf in self.opt.state.get(self.z, {}).values():
                        if torch.is_tensor(buf) and buf.shape == self.z.shape:
                            buf[rows.to(buf.device)] = 0
            for _ in range(cfg.harden_steps):
                z = self.z.detach().requires_grad_(True)
                p = prob(G(z))
                (grad,) = torch.autograd.grad(-torch.log(p.clamp_min(1e-12)).sum(), z)
                self.z.grad = grad.to(self.z.dtype)
                self.opt.step()
                with torch.no_grad():
                    self.z.copy_(to_sphere(self.z, self.radius))
            self.on_target = float((p.detach() >= 0.5).float().mean())
        finally:
            G.train(was_training)

        def images(shard: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
            G.eval()
            try:
                return G(shard(self.z.detach()))
            finally:
                G.train(was_training)

        return images
