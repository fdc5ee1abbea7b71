"""The image-to-image family: an encoder-decoder that fills a masked part of an image.

`output = composite(x, D(E(T(x))))`, where T masks the image (centre inpainting or outpainting),
E is the encoder, D the decoder, and the known pixels are copied through. The unlearning methods of
Li et al. (ICLR 2024) edit E only, so the adapter keeps the two apart.

Masks are (B, 1, H, W) floats with 1 in the hole (the pixels to generate) and 0 where the image is
known; the masked image has 0 (mid-grey in [-1, 1]) in the hole.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from torch import nn

from genredact.errors import CheckpointError, GenredactError
from genredact.models.base import MODEL_CLASSES, GenerativeModel, build_net, net_config

MaskKind = Literal["center", "outpaint", "random"]
MASK_KINDS = ("center", "outpaint", "random")
#: Ranges drawn by the "random" mask (training): centre-box side fraction and outpainting border fraction.
RANDOM_CENTER = (0.25, 0.75)
RANDOM_BORDER = (0.07, 0.32)


def check_mask(kind: str, size: float) -> None:
    """Refuse a mask that cannot be built, in one sentence."""
    if kind not in MASK_KINDS:
        raise GenredactError(f"unknown mask kind {kind!r}; choose one of: {', '.join(MASK_KINDS)}")
    if kind == "center" and not 0.0 < size <= 1.0:
        raise GenredactError(f"a centre mask's size is the box side as a fraction of the image side and must lie in (0, 1], not {size}")
    if kind == "outpaint" and not 0.0 < size < 0.5:
        raise GenredactError(f"an outpainting mask's size is the border width as a fraction of the image side and must lie in (0, 0.5), not {size}")


def box_masks(h: int, w: int, top: torch.Tensor, left: torch.Tensor, bh: torch.Tensor, bw: torch.Tensor) -> torch.Tensor:
    """Per-image boxes (integer tensors (B,)) -> masks (B, 1, h, w) with 1 inside each box."""
    rows = torch.arange(h, device=top.device)[None, :, None]  # (1, h, 1)
    cols = torch.arange(w, device=top.device)[None, None, :]  # (1, 1, w)
    inside = (rows >= top[:, None, None]) & (rows < (top + bh)[:, None, None]) & (cols >= left[:, None, None]) & (cols < (left + bw)[:, None, None])
    return inside[:, None].float()


def make_mask(n: int, h: int, w: int, *, kind: str, size: float, generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Masks (n, 1, h, w): 1 = hole. `center`: a centred box of side `size`*side; `outpaint`: a border of
    width `size`*side; `random`: per image, a centre box (jittered, side in RANDOM_CENTER) or an
    outpainting border (width in RANDOM_BORDER), drawn from `generator` on the CPU."""
    check_mask(kind, size)
    if kind in ("center", "outpaint"):
        side_h = max(1, round(size * h))
        side_w = max(1, round(size * w))
        if kind == "center":
            top, left = (h - side_h) // 2, (w - side_w) // 2
            m = torch.zeros(1, 1, h, w, device=device)
            m[..., top : top + side_h, left : left + side_w] = 1.0
        else:
            m = torch.ones(1, 1, h, w, device=device)
            m[..., side_h : h - side_h, side_w : w - side_w] = 0.0
        return m.expand(n, 1, h, w).contiguous()
    u = torch.rand(n, 4, generator=generator)
    is_box = u[:, 0] < 0.6
    frac = torch.where(is_box, RANDOM_CENTER[0] + (RANDOM_CENTER[1] - RANDOM_CENTER[0]) * u[:, 1], RANDOM_BORDER[0] + (RANDOM_BORDER[1] - RANDOM_BORDER[0]) * u[:, 1])
    side = (frac * h).round().long().clamp(1, h)
    # Boxes wander up to a quarter of the free margin around the centre.
    jitter = ((u[:, 2:] - 0.5) * 0.5 * (h - side)[:, None]).round().long()
    top = (h - side) // 2 + jitter[:, 0]
    left = (w - side) // 2 + jitter[:, 1]
    box = box_masks(h, w, top, left, side, side)
    border = 1.0 - box_masks(h, w, side, side, h - 2 * side, w - 2 * side)
    return torch.where(is_box[:, None, None, None], box, border).to(device)


@MODEL_CLASSES.register("InpainterModel")
class InpainterModel(GenerativeModel):
    """An image-to-image model: `encoder(x_masked, mask) -> h`, `decoder(h) -> x` in [-1, 1].

    Args:
        encoder: module (B, C, H, W) masked image + (B, 1, H, W) mask -> a latent (any shape).
        decoder: module latent -> (B, C, H, W) image in [-1, 1].
        image_shape: (C, H, W).
        mask_kind: the default mask: "center" (inpainting), "outpaint" or "random" (training).
        mask_size: centre-box side, or outpainting border width, as a fraction of the image side.
        dataset: name of the data set it was trained on (finds the zoo judge).
        class_names: the data set's class names, when known.
    """

    family: ClassVar[str] = "inpainter"

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        *,
        image_shape: tuple[int, int, int],
        mask_kind: str = "center",
        mask_size: float = 0.5,
        dataset: str | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        check_mask(mask_kind, float(mask_size))
        self.encoder = encoder
        self.decoder = decoder
        self.image_shape = tuple(int(s) for s in image_shape)
        self.mask_kind = mask_kind
        self.mask_size = float(mask_size)
        self.dataset = dataset
        self.class_names = list(class_names) if class_names else None

    def mask(self, x: torch.Tensor, *, kind: str | None = None, size: float | None = None, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """T(x): (x_masked (B, C, H, W) with 0 in the hole, mask (B, 1, H, W) with 1 in the hole)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise GenredactError(f"the inpainter takes images of shape (B, {', '.join(map(str, self.image_shape))}), not {tuple(x.shape)}")
        kind = self.mask_kind if kind is None else kind
        size = self.mask_size if size is None else float(size)
        m = make_mask(x.shape[0], x.shape[2], x.shape[3], kind=kind, size=size, generator=generator, device=x.device)
        return x * (1.0 - m), m

    def encode(self, x_masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(x_masked, mask)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(h)

    def inpaint(self, x_masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill the hole: known pixels are copied, the hole comes from D(E(x_masked, mask))."""
        return x_masked * (1.0 - mask) + self.decode(self.encode(x_masked, mask)) * mask

    def forward(self, x: torch.Tensor, *, kind: str | None = None, size: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mask `x` (default mask from the config, or `kind`/`size`) and fill the hole."""
        x_masked, m = self.mask(x, kind=kind, size=size, generator=generator)
        return self.inpaint(x_masked, m)

    @torch.no_grad()
    def complete(self, x: torch.Tensor, *, kind: str | None = None, size: float | None = None, batch_size: int = 500) -> torch.Tensor:
        """`forward` in eval mode and batches, without gradients (for evaluation); x on any device."""
        was = self.training
        self.eval()
        try:
            return torch.cat([self(x[i : i + batch_size].to(self.device), kind=kind, size=size).cpu() for i in range(0, x.shape[0], batch_size)])
        finally:
            self.train(was)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        raise GenredactError("an inpainter fills holes in given images and draws no samples of its own; call model(x) or model.complete(x)")

    def to_config(self) -> dict[str, Any]:
        return {
            "encoder": net_config(self.encoder),
            "decoder": net_config(self.decoder),
            "image_shape": list(self.image_shape),
            "mask_kind": self.mask_kind,
            "mask_size": self.mask_size,
            "dataset": self.dataset,
            "class_names": self.class_names,
        }

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "InpainterModel":
        try:
            return cls(
                build_net(cfg["encoder"]),
                build_net(cfg["decoder"]),
                image_shape=tuple(cfg["image_shape"]),
                mask_kind=cfg.get("mask_kind", "center"),
                mask_size=cfg.get("mask_size", 0.5),
                dataset=cfg.get("dataset"),
                class_names=cfg.get("class_names"),
            )
        except KeyError as exc:
            raise CheckpointError(f"inpainter config lacks the field {exc}; the model folder is not a genredact inpainter") from None


def build_inpainter(arch: str, *, image_shape: tuple[int, int, int], dataset: str | None = None, class_names: list[str] | None = None, **net_kwargs: Any) -> InpainterModel:
    """A freshly initialised built-in inpainter: arch = "conv" | "mae" | "tiny-conv" | "tiny-mae"."""
    from genredact.models.inpainter_nets import ARCHS

    if arch not in ARCHS:
        raise GenredactError(f"unknown inpainter network {arch!r}; choose one of: {', '.join(ARCHS)}")
    c, h, w = image_shape
    if h != w:
        raise GenredactError(f"the built-in inpainters take square images, not {h}x{w}")
    enc, dec = ARCHS[arch](channels=c, size=h, **net_kwargs)
    return InpainterModel(enc, dec, image_shape=image_shape, dataset=dataset, class_names=class_names)
