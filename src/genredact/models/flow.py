"""The normalizing-flow family adapter: wraps any invertible network with `encode`/`decode`.

Conventions (one pair, used everywhere in genredact):

- **Images** are float (B, C, H, W) in [-1, 1], as in the rest of the library, or uint8 (B, C, H, W).
- **Dequantisation**: an 8-bit pixel value k in {0..255} becomes the continuous value
  y = (k + u) / 128 - 1 with u ~ U(0, 1), so each bin has width 2/256 and y lies in [-1, 1).
  A float image on the 8-bit grid (`to_float`'s k / 127.5 - 1) is mapped back to k first.
- **log_prob(y)** is the density of the flow at continuous y (natural log, w.r.t. Lebesgue measure on
  [-1, 1]^D). **bpd(x)** is the discrete-data bits per dimension of the 8-bit image x under uniform
  dequantisation: bpd = (-log p(y) - D log(2/256)) / (D log 2) = -log p(y) / (D log 2) + 7.
  It is an upper bound on -log2 P(x) / D (the usual figure papers report).
- `forward(z) -> (x, log_det)` is the generative direction, `inverse(x) -> (z, log_det)` the
  normalising one (normflows/FrEIA naming); z is flat (B, D) with a standard normal prior, or, after
  `taming` with `debias="prior"`, a `MixturePrior` (weighted diagonal Gaussians, a few per class):
  `log_prob`, `latents` and `sample` then use that prior, and the network is unchanged.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, ClassVar

import numpy as np
import torch
from torch import nn

from genredact.errors import CheckpointError, GenredactError
from genredact.models.base import MODEL_CLASSES, GenerativeModel, build_net, net_config
from genredact.models.flow_nets import standard_normal_log_prob

N_BINS = 256


class MixturePrior(nn.Module):
    """A mixture of K diagonal Gaussians over the flat latent (D,): weights w (K,), means (K, D), log-stds
    (K, D). Sampling at temperature T draws a component by w, then mean + T * spread * std * eps (`spread`, 1 by
    default, narrows every component for sampling alone, like a temperature); the density is exact (logsumexp
    over the components, at spread 1), so a flow with this prior is still a normalizing flow."""

    def __init__(self, components: int, dim: int, spread: float = 1.0) -> None:
        super().__init__()
        if not 0 < spread <= 1:
            raise GenredactError(f"the mixture prior's sampling spread must lie in (0, 1], got {spread}")
        self.spread = float(spread)
        self.register_buffer("log_weights", torch.full((components,), -math.log(components)))
        self.register_buffer("means", torch.zeros(components, dim))
        self.register_buffer("log_stds", torch.zeros(components, dim))

    @property
    def weights(self) -> torch.Tensor:
        return self.log_weights.exp()

    def set(self, weights: torch.Tensor, means: torch.Tensor, stds: torch.Tensor) -> None:
        """Set the components (weights are normalised; a zero weight leaves its component unused)."""
        w = torch.as_tensor(weights, dtype=torch.float64).clamp_min(0)
        if not torch.isfinite(w).all() or float(w.sum()) <= 0:
            raise GenredactError("the mixture prior needs non-negative weights with a positive sum")
        # A zero weight is stored as a log-weight of -1e30, not -inf: exp gives exactly 0 (never drawn, nothing
        # added to the density), and the checkpoint stays finite (load_pretrained refuses non-finite tensors).
        self.log_weights.copy_((w / w.sum()).log().clamp_min(-1e30).to(self.log_weights))
        self.means.copy_(means)
        self.log_stds.copy_(stds.clamp_min(1e-4).log())

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log sum_k w_k N(z; mean_k, diag(std_k^2)) (B,)."""
        inv = (-self.log_stds).exp()
        comp = -0.5 * (((z[:, None, :] - self.means[None]) * inv[None]).pow(2).sum(2) + z.shape[1] * math.log(2 * math.pi)) - self.log_stds.sum(1)[None]
        return torch.logsumexp(comp + self.log_weights[None], dim=1)

    def sample(self, n: int, *, generator: torch.Generator | None = None, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """n latents (n, D) and their components (n,), drawn on the CPU from `generator`."""
        comp = torch.multinomial(self.weights.double().cpu(), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.means.shape[1], generator=generator)
        z = self.means.cpu()[comp] + float(temperature) * self.spread * self.log_stds.cpu()[comp].exp() * eps
        return z, comp


def dequantize(x: torch.Tensor | np.ndarray, *, generator: torch.Generator | None = None, noise: bool = True) -> torch.Tensor:
    """8-bit images (uint8, or float in [-1, 1] on the 8-bit grid) -> continuous y in [-1, 1).

    With `noise=False` each pixel goes to its bin centre (deterministic, for previews).
    """
    t = torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x
    if t.dtype == torch.uint8:
        k = t.float()
    elif t.is_floating_point():
        k = ((t.detach().clamp(-1, 1) + 1) * 127.5).round()
    else:
        raise GenredactError(f"images must be uint8 or float in [-1, 1], not {t.dtype}")
    if noise:
        u = torch.rand(k.shape, generator=generator).to(k.device)
    else:
        u = torch.full_like(k, 0.5)
    return (k + u) * (2.0 / N_BINS) - 1.0


def finite_images(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Flow outputs with non-finite pixels (an inverse that overflowed far out in latent space) set to
    background (-1), and how many images had any: a NaN image would otherwise reach a classifier, whose
    argmax of NaN logits is an arbitrary class, or a grid."""
    bad = ~torch.isfinite(x)
    return x.masked_fill(bad, -1.0), int(bad.flatten(1).any(1).sum())


@MODEL_CLASSES.register("FlowModel")
class FlowModel(GenerativeModel):
    """A normalizing flow over images: exact `log_prob`, `bpd`, `sample(n, temperature=...)`.

    Args:
        net: an invertible module with `encode(x) -> (z (B, D), log_det)` and `decode(z) -> (x, log_det)`
            (the built-in `GlowNet`, or your own).
        image_shape: (C, H, W).
        dataset: name of the training data set (used to find zoo classifiers and judges).
        class_names: the data set's class names, when known.
    """

    family: ClassVar[str] = "flow"
    has_log_prob: ClassVar[bool] = True

    def __init__(self, net: nn.Module, *, image_shape: tuple[int, int, int], dataset: str | None = None, class_names: list[str] | None = None) -> None:
        super().__init__()
        self.net = net
        self.image_shape = tuple(int(s) for s in image_shape)
        self.dataset = dataset
        self.class_names = list(class_names) if class_names else None
        self.prior: MixturePrior | None = None

    def use_mixture_prior(self, components: int, spread: float = 1.0) -> MixturePrior:
        """Replace the standard normal prior by a `MixturePrior` of `components` (set it with `.set`)."""
        self.prior = MixturePrior(components, self.dim, spread).to(self.device)
        return self.prior

    @property
    def dim(self) -> int:
        return int(np.prod(self.image_shape))

    # The two directions ---------------------------------------------------------------------------

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """Latent (B, D) -> image (B, C, H, W) and log|det dx/dz| (B,)."""
        return self.net.decode(z)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Continuous image (B, C, H, W) -> latent (B, D) and log|det dz/dx| (B,)."""
        return self.net.encode(x)

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """Natural-log density (B,) of continuous images y in [-1, 1] (already dequantised)."""
        z, log_det = self.inverse(y)
        return (standard_normal_log_prob(z) if self.prior is None else self.prior.log_prob(z)) + log_det

    def bpd(self, x: torch.Tensor | np.ndarray, *, generator: torch.Generator | None = None, draws: int = 1,
            shard: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Bits per dimension (B,) of 8-bit images x (uint8 or float on the 8-bit grid), averaged over
        `draws` dequantisation draws from `generator`. Differentiable w.r.t. the flow's parameters. With
        `shard` (a training loop's, several processes), the noise is drawn for all of x and only this
        process's shard is scored."""
        total = None
        for _ in range(max(1, int(draws))):
            y = dequantize(x, generator=generator).to(self.device)
            if shard is not None:
                y = shard(y)
            b = -self.log_prob(y) / (self.dim * math.log(2)) + math.log2(N_BINS / 2)
            total = b if total is None else total + b
        return total / max(1, int(draws))

    @torch.no_grad()
    def bpd_of(self, x: torch.Tensor | np.ndarray, *, generator: torch.Generator | None = None, draws: int = 1, batch_size: int = 500) -> torch.Tensor:
        """`bpd` in eval mode and batches, without gradients, on the CPU (B,)."""
        was = self.training
        self.eval()
        try:
            return torch.cat([self.bpd(x[i : i + batch_size], generator=generator, draws=draws).cpu() for i in range(0, len(x), batch_size)])
        finally:
            self.train(was)

    # Sampling -------------------------------------------------------------------------------------

    def latents(self, n: int, *, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        """n latents (n, D) ~ N(0, temperature^2 I) (or the mixture prior's, at `temperature`), drawn on the
        CPU from `generator`."""
        if self.prior is not None:
            return self.prior.sample(n, generator=generator, temperature=temperature)[0].to(self.device)
        return (torch.randn(n, self.dim, generator=generator) * float(temperature)).to(self.device)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, D) -> images in [-1, 1] (clamped)."""
        return self.forward(z)[0].clamp(-1, 1)

    def sample(self, n: int, *, temperature: float = 1.0, generator: torch.Generator | None = None, batch_size: int = 500) -> torch.Tensor:  # type: ignore[override]
        """n images (n, C, H, W) in [-1, 1]; `temperature` < 1 scales the latent (sharper, less varied).

        Far out in latent space the inverse of a flow can overflow; such pixels come back as background
        (-1), with a warning that says how many samples had them, so one overflow does not poison a
        whole evaluation."""
        if temperature <= 0:
            raise GenredactError(f"temperature must be positive, got {temperature}")
        x, n_bad = finite_images(self.generate_batched(self.latents(n, generator=generator, temperature=temperature), batch_size))
        if n_bad:
            warnings.warn(f"{n_bad} of {n} flow samples had non-finite pixels (the inverse overflowed); "
                          "those pixels are set to background", RuntimeWarning, stacklevel=2)
        return x

    @torch.no_grad()
    def generate_batched(self, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Images of latents z, in eval mode and batches, without gradients."""
        was = self.training
        self.eval()
        try:
            return torch.cat([self.generate(z[i : i + batch_size]) for i in range(0, len(z), batch_size)])
        finally:
            self.train(was)

    # Config ---------------------------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        cfg = {"net": net_config(self.net), "image_shape": list(self.image_shape), "dataset": self.dataset, "class_names": self.class_names}
        if self.prior is not None:
            cfg["prior"] = {"kind": "mixture", "components": int(self.prior.means.shape[0]), "spread": self.prior.spread}
        return cfg

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "FlowModel":
        try:
            model = cls(build_net(cfg["net"]), image_shape=tuple(cfg["image_shape"]), dataset=cfg.get("dataset"), class_names=cfg.get("class_names"))
        except KeyError as exc:
            raise CheckpointError(f"flow config lacks the field {exc}; the model folder is not a genredact flow") from None
        prior = cfg.get("prior")
        if prior is not None:
            bad = CheckpointError(f"flow config has an unknown prior {prior!r}; only a mixture with a positive number of components and a spread in (0, 1] is known")
            if not isinstance(prior, dict) or prior.get("kind") != "mixture" or not isinstance(prior.get("components"), int) or prior["components"] < 1:
                raise bad
            spread = prior.get("spread", 1.0)  # folders written before the spread: 1
            if not isinstance(spread, (int, float)):
                raise bad
            try:  # MixturePrior checks the spread's range
                model.use_mixture_prior(prior["components"], float(spread))
            except GenredactError:
                raise bad from None
        return model
