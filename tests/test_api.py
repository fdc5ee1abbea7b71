"""The public Python API: a user's own modules wrapped in GanModel, redacted and evaluated."""
from __future__ import annotations

from torch import nn

import genredact
from tests.conftest import target_share


def test_user_gan_through_public_api(tiny_gan, tiny_classifier, tiny_data):
    class MyGenerator(nn.Module):  # a user's own module, not registered anywhere
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, z):
            return self.inner(z)

    model = genredact.GanModel(MyGenerator(tiny_gan.generator), tiny_gan.discriminator, z_dim=4, image_shape=(1, 8, 8))
    target = genredact.ClassifierTarget(classifier=tiny_classifier, target_labels=(1,))
    edited, log = genredact.redact(model, target, method="redact-classifier", data=tiny_data, progress=False, steps=150, batch_size=32, lr=2e-3)
    assert log["method"] == "redact-classifier" and log["config"]["steps"] == 150
    assert target_share(edited, tiny_classifier) < 0.5 * target_share(model, tiny_classifier)
    for _ in range(2):  # the name must stay the function after the first call
        m = genredact.evaluate(edited, labels=[1], judge=tiny_classifier, real=tiny_data, n=300, kid_subsets=2)
        assert 0.0 <= m["residual_rate"] <= m["residual_upper95"] <= 1.0 and m["n"] == 300
    base = genredact.evaluate(model, labels=[1], judge=tiny_classifier, real=tiny_data, n=300, kid_subsets=2)
    assert m["residual_rate"] < base["residual_rate"]
    assert callable(genredact.evaluate) and isinstance(genredact.__version__, str)
