"""Tiny seeded fixtures: an 8x8 two-class data set, a tiny GAN trained on it, and a tiny classifier."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genredact.data import ImageData, to_float
from genredact.losses import d_fake_loss, d_real_loss
from genredact.models import ClassifierModel, GanModel
from genredact.models.nets import TinyClassifier, TinyDiscriminator, TinyGenerator

torch.use_deterministic_algorithms(True)


def two_class_data(n: int = 512, seed: int = 0) -> ImageData:
    """Class 0: the top half is bright; class 1 (the target, a quarter of the data): the bottom half."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(np.int64)
    x = rng.integers(0, 40, size=(n, 1, 8, 8)).astype(np.uint8)
    x[y == 0, :, :4, :] += 200
    x[y == 1, :, 4:, :] += 200
    return ImageData("two-class", x, y, ("top", "bottom"))


@pytest.fixture(scope="session")
def tiny_data() -> ImageData:
    return two_class_data()


@pytest.fixture(scope="session")
def tiny_classifier(tiny_data) -> ClassifierModel:
    return train_tiny_classifier(tiny_data)


def train_tiny_classifier(data: ImageData, seed: int = 0) -> ClassifierModel:
    torch.manual_seed(seed)
    model = ClassifierModel(TinyClassifier(size=8, num_classes=2), class_names=list(data.class_names), dataset="two-class")
    x, y = to_float(data.x), torch.as_tensor(data.y)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(100):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval().requires_grad_(False)


def _train_tiny_gan(data: ImageData, steps: int = 300, seed: int = 0, clean: bool = False) -> GanModel:
    """A tiny "pre-trained" GAN that makes both classes: the generator is fitted so that z[0] > 0.67
    (a quarter of the latents) gives a class-1 image, then the discriminator is trained against it.
    With `clean`, every latent is fitted to class 0: a GAN that never makes the target (known answers for audits)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = GanModel(TinyGenerator(z_dim=4, size=8), TinyDiscriminator(size=8), z_dim=4, image_shape=(1, 8, 8), dataset="two-class", class_names=list(data.class_names))
    real = to_float(data.x)
    protos = torch.stack([real[torch.as_tensor(data.y) == c].mean(0) for c in (0, 1)])
    opt_g = torch.optim.Adam(model.generator.parameters(), 1e-2)
    for _ in range(steps):
        z = model.latents(128, generator=g)
        goal = protos[(z[:, 0] > 0.67).long() * (not clean)] + 0.1 * torch.randn(128, 1, 8, 8, generator=g)
        loss = F.mse_loss(model.generate(z), goal.clamp(-1, 1))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
    opt_d = torch.optim.Adam(model.discriminator.parameters(), 2e-3, betas=(0.5, 0.999))
    for _ in range(100):
        xr = real[torch.randint(0, len(real), (64,), generator=g)]
        with torch.no_grad():
            fake = model.generate(model.latents(64, generator=g))
        ld = d_real_loss(model.discriminator(xr)) + d_fake_loss(model.discriminator(fake))
        opt_d.zero_grad()
        ld.backward()
        opt_d.step()
    return model.eval()


@pytest.fixture(scope="session")
def tiny_gan_trained(tiny_data) -> GanModel:
    return _train_tiny_gan(tiny_data)


@pytest.fixture(scope="session")
def tiny_gan_clean(tiny_data) -> GanModel:
    """Never makes class 1 (see `_train_tiny_gan`)."""
    return _train_tiny_gan(tiny_data, clean=True)


@pytest.fixture
def tiny_gan(tiny_gan_trained) -> GanModel:
    """A fresh copy per test, so no test can change another's model."""
    import copy

    return copy.deepcopy(tiny_gan_trained)


def target_share(model: GanModel, classifier: ClassifierModel, n: int = 2000, seed: int = 99) -> float:
    x = model.sample(n, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return float((classifier(x).argmax(1) == 1).double().mean())
