"""Built-in networks: a DCGAN for 28x28 images and two classifier architectures.

The redaction classifier (`lenet`) and the evaluation judge (`judge-convnet`) are deliberately
different architectures, trained with different seeds, so that a method which only fools the
classifier it used is caught by the judge. `ensemble` lets several classifier networks (e.g.
`judge-convnet`s of other seeds than the judge's) vote as one.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from genredact.models.base import NETS, build_net


class _Net(nn.Module):
    net_name = ""

    def __init__(self, **config) -> None:
        super().__init__()
        self.config = dict(config)


@NETS.register("dcgan-generator")
class DCGANGenerator(_Net):
    """z (B, z_dim) -> x (B, channels, 28, 28) in [-1, 1]."""

    net_name = "dcgan-generator"

    def __init__(self, *, z_dim: int = 64, width: int = 64, channels: int = 1) -> None:
        super().__init__(z_dim=z_dim, width=width, channels=channels)
        w = width
        self.fc = nn.Sequential(nn.Linear(z_dim, 4 * w * 7 * 7, bias=False), nn.BatchNorm1d(4 * w * 7 * 7), nn.ReLU(True))
        self.body = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),  # 14 -> 28
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.Conv2d(w, channels, 3, 1, 1),
            nn.Tanh(),
        )
        self.w = w

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], 4 * self.w, 7, 7)
        return self.body(h)


@NETS.register("dcgan-discriminator")
class DCGANDiscriminator(_Net):
    """x (B, channels, 28, 28) -> logit (B,)."""

    net_name = "dcgan-discriminator"

    def __init__(self, *, width: int = 64, channels: int = 1) -> None:
        super().__init__(width=width, channels=channels)
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1),  # 14 -> 7
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1),  # 7 -> 4
            nn.LeakyReLU(0.2, True),
            nn.Flatten(),
            nn.Linear(4 * w * 4 * 4, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


@NETS.register("lenet")
class LeNet(_Net):
    """The redaction classifier: a LeNet-style CNN. `features` is its 128-d penultimate layer."""

    net_name = "lenet"

    def __init__(self, *, num_classes: int = 10, channels: int = 1, width: int = 16) -> None:
        super().__init__(num_classes=num_classes, channels=channels, width=width)
        w = width
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, w, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(2),  # 14
            nn.Conv2d(w, 2 * w, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(2),  # 7
            nn.Flatten(), nn.Linear(2 * w * 7 * 7, 128), nn.ReLU(True),
        )
        self.head = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@NETS.register("judge-convnet")
class JudgeConvNet(_Net):
    """The evaluation judge: a VGG-style CNN with batch norm and global pooling (a different
    architecture from `lenet`). `features` is its 128-d penultimate layer, the feature space for
    FID, KID, precision and recall."""

    net_name = "judge-convnet"

    def __init__(self, *, num_classes: int = 10, channels: int = 1, width: int = 32) -> None:
        super().__init__(num_classes=num_classes, channels=channels, width=width)
        w = width

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.trunk = nn.Sequential(
            *block(channels, w), *block(w, w), nn.MaxPool2d(2),  # 14
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),  # 7
            *block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * w, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@NETS.register("ensemble")
class EnsembleNet(_Net):
    """Classifier networks voting by mean class probability: the logits are the log of the members' mean
    softmax (so softmax and argmax read as for one network), the features are the members' side by side.
    `members` are NETS configs; each member keeps its own weights."""

    net_name = "ensemble"

    def __init__(self, *, members: list[dict]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member network")
        super().__init__(members=[dict(m) for m in members])
        self.members = nn.ModuleList(build_net(m) for m in members)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m.features(x) for m in self.members], 1)

    def head(self, f: torch.Tensor) -> torch.Tensor:
        """Logits from `features` (the members' features side by side; members of one width, as a recipe trains them)."""
        if f.shape[1] % len(self.members):
            raise ValueError(f"features of width {f.shape[1]} do not split into {len(self.members)} members of one width")
        parts = f.chunk(len(self.members), dim=1)
        return torch.stack([m.head(p).log_softmax(1) for m, p in zip(self.members, parts)]).logsumexp(0) - math.log(len(self.members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@NETS.register("tiny-generator")
class TinyGenerator(_Net):
    """A tiny MLP generator for tests and docs: z (B, z_dim) -> (B, channels, size, size)."""

    net_name = "tiny-generator"

    def __init__(self, *, z_dim: int = 4, size: int = 8, channels: int = 1, hidden: int = 32) -> None:
        super().__init__(z_dim=z_dim, size=size, channels=channels, hidden=hidden)
        self.shape = (channels, size, size)
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(True), nn.Linear(hidden, channels * size * size), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


@NETS.register("tiny-discriminator")
class TinyDiscriminator(_Net):
    net_name = "tiny-discriminator"

    def __init__(self, *, size: int = 8, channels: int = 1, hidden: int = 32) -> None:
        super().__init__(size=size, channels=channels, hidden=hidden)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, hidden), nn.LeakyReLU(0.2, True), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


@NETS.register("tiny-classifier")
class TinyClassifier(_Net):
    net_name = "tiny-classifier"

    def __init__(self, *, size: int = 8, channels: int = 1, hidden: int = 16, num_classes: int = 2) -> None:
        super().__init__(size=size, channels=channels, hidden=hidden, num_classes=num_classes)
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, hidden), nn.ReLU(True))
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
