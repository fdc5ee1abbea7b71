"""The GAN family adapter: wraps any generator (and optional discriminator) nn.Module."""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from genredact.errors import CheckpointError
from genredact.models.base import MODEL_CLASSES, GenerativeModel, build_net, net_config


@MODEL_CLASSES.register("GanModel")
class GanModel(GenerativeModel):
    """A GAN: `generator(z) -> x` in [-1, 1] with z ~ N(0, I) of size `z_dim`; `discriminator(x) -> logit`.

    Args:
        generator: any module mapping (B, z_dim) latents to (B, C, H, W) images in [-1, 1].
        discriminator: the matching discriminator (B, C, H, W) -> (B,) logits, or None.
        z_dim: latent size.
        image_shape: (C, H, W) of the outputs.
        dataset: name of the data set the model was trained on (used to find zoo classifiers).
        class_names: the data set's class names, when known.
    """

    family: ClassVar[str] = "gan"

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module | None = None,
        *,
        z_dim: int,
        image_shape: tuple[int, int, int],
        dataset: str | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.z_dim = int(z_dim)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.dataset = dataset
        self.class_names = list(class_names) if class_names else None

    def latents(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """A bank of n latents (n, z_dim) drawn on the CPU from `generator`, moved to the model's device."""
        return torch.randn(n, self.z_dim, generator=generator).to(self.device)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    @torch.no_grad()
    def generate_batched(self, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Images of latents z, in eval mode and batches, without gradients."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            return torch.cat([self.generator(z[i : i + batch_size]) for i in range(0, len(z), batch_size)])
        finally:
            self.generator.train(was_training)

    def sample(self, n: int, *, generator: torch.Generator | None = None, batch_size: int = 1000) -> torch.Tensor:
        return self.generate_batched(self.latents(n, generator=generator), batch_size)

    def to_config(self) -> dict[str, Any]:
        return {
            "generator": net_config(self.generator),
            "discriminator": None if self.discriminator is None else net_config(self.discriminator),
            "z_dim": self.z_dim,
            "image_shape": list(self.image_shape),
            "dataset": self.dataset,
            "class_names": self.class_names,
        }

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "GanModel":
        try:
            disc = cfg.get("discriminator")
            return cls(
                build_net(cfg["generator"]),
                None if disc is None else build_net(disc),
                z_dim=cfg["z_dim"],
                image_shape=tuple(cfg["image_shape"]),
                dataset=cfg.get("dataset"),
                class_names=cfg.get("class_names"),
            )
        except KeyError as exc:
            raise CheckpointError(f"GAN config lacks the field {exc}; the model folder is not a genredact GAN") from None
