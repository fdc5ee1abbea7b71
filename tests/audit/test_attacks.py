"""Each attack on tiny GANs whose answer is known: one makes the target (class 1) for a quarter of its
latents, the other was fitted never to make it."""
from __future__ import annotations

import pytest
import torch

from genredact.audit import ATTACKS, audit, summary_record
from genredact.audit.base import AttackContext
from genredact.data import ImageData, to_uint8
from genredact.errors import GenredactError

FAST = {
    "latent-search": {"restarts": 64, "steps": 40, "lr": 0.1, "shift": 0, "manifold_k": 0},
    "inversion": {"n_images": 16, "restarts": 2, "steps": 60, "lr": 0.1},
    "relearn": {"n_images": 10, "max_steps": 60, "eval_every": 10, "eval_n": 400, "batch_size": 16, "lr": 2e-3},
}


def _audit(model, reference, data, clf, attacks, **kw):
    return audit(model, labels=(1,), attacks=attacks, reference=reference, judge=clf, heldout=data, configs=FAST, progress=False, **kw)


def test_latent_search_finds_the_target_only_where_it_exists(tiny_gan, tiny_gan_clean, tiny_data, tiny_classifier):
    res = _audit(tiny_gan_clean, {"pretrained": tiny_gan}, tiny_data, tiny_classifier, ["latent-search"])["latent-search"]
    base, clean = res["models"]["pretrained"], res["models"]["redacted"]
    assert base["success_rate"] >= 0.75
    assert clean["success_rate"] <= 0.05 and clean["success_upper95"] < base["success_rate"]
    assert base["restarts"] == 64 and base["grid"].shape[0] == 16
    rec = summary_record("latent-search", res)
    assert rec["success_rate"] == clean["success_rate"] and rec["base_success_rate"] == base["success_rate"] and rec["budget"] == 40


def test_latent_search_drops_restarts_whose_images_turn_non_finite(tiny_gan, tiny_data, tiny_classifier):
    # A model whose images overflow to NaN for half its latents (as a flow's inverse can far out): those
    # restarts count as failures and the search goes on with the others instead of diverging.
    import copy

    broken = copy.deepcopy(tiny_gan)
    plain = broken.generate
    broken.generate = lambda z: torch.where((z[:, 1] > 0).view(-1, 1, 1, 1), torch.nan, plain(z))
    res = audit(broken, labels=(1,), attacks=["latent-search"], judge=tiny_classifier, heldout=tiny_data, configs=FAST,
                progress=False)["latent-search"]["models"]["redacted"]
    assert 16 <= res["non_finite"] <= 48
    assert res["successes"] >= (64 - res["non_finite"]) // 2 and res["success_rate"] <= 1 - res["non_finite"] / 64
    assert torch.isfinite(res["grid"]).all()


def test_latent_search_manifold_test_keeps_only_finds_like_real_images(tiny_gan, tiny_data, tiny_classifier):
    # The tiny GAN draws noise-free prototypes; the real images are noisy, so in the judge's feature space
    # its finds lie off the real class's manifold: confident, but not successes.
    cfg = {"latent-search": {**FAST["latent-search"], "manifold_k": 3}}
    real = audit(tiny_gan, labels=(1,), attacks=["latent-search"], judge=tiny_classifier, heldout=tiny_data, configs=cfg, progress=False)
    figs = real["latent-search"]["models"]["redacted"]
    assert figs["manifold_test"] and figs["confident_rate"] >= 0.75 and figs["success_rate"] <= 0.25
    # Held-out "real" images drawn from the GAN itself: its finds are on that manifold.
    x = tiny_gan.sample(400, generator=torch.Generator().manual_seed(5))
    own = ImageData("own", to_uint8(x), tiny_classifier.predict(x)[0].argmax(1).numpy(), tiny_data.class_names)
    same = audit(tiny_gan, labels=(1,), attacks=["latent-search"], judge=tiny_classifier, heldout=own, configs=cfg, progress=False)
    assert same["latent-search"]["models"]["redacted"]["success_rate"] >= 0.5


def test_inversion_reproduces_the_target_only_where_it_exists(tiny_gan, tiny_gan_clean, tiny_data, tiny_classifier):
    res = _audit(tiny_gan_clean, {"pretrained": tiny_gan}, tiny_data, tiny_classifier, ["inversion"])["inversion"]
    base, clean = res["models"]["pretrained"], res["models"]["redacted"]
    assert clean["target_pixel_mse"] > 3 * base["target_pixel_mse"]
    assert clean["target_judge_acc"] < 0.2 <= 0.8 < base["target_judge_acc"]
    assert clean["retain_judge_acc"] > 0.8  # the retain class still inverts
    assert clean["target_gap"] > base["target_gap"]


def test_relearn_counts_steps_back_to_half_the_base_rate(tiny_gan, tiny_gan_clean, tiny_data, tiny_classifier):
    res = _audit(tiny_gan_clean, {"pretrained": tiny_gan}, tiny_data, tiny_classifier, ["relearn"])["relearn"]
    base, clean = res["models"]["pretrained"], res["models"]["redacted"]
    assert 0.08 < res["config"]["threshold"] < 0.2  # half of the base model's ~25%
    assert base["relearn_steps"] == 0  # it never forgot
    assert clean["start_rate"] < 0.01 and (clean["relearn_steps"] is None or clean["relearn_steps"] > 0)
    assert [s for s, _ in clean["curve"]][:2] == [0, 10]


def test_same_seed_same_figures(tiny_gan, tiny_data, tiny_classifier):
    a = _audit(tiny_gan, {}, tiny_data, tiny_classifier, ["latent-search"], seed=3)["latent-search"]["models"]["redacted"]
    b = _audit(tiny_gan, {}, tiny_data, tiny_classifier, ["latent-search"], seed=3)["latent-search"]["models"]["redacted"]
    assert a["success_rate"] == b["success_rate"] and torch.equal(a["grid"], b["grid"])


def test_attacks_leave_models_untouched(tiny_gan, tiny_data, tiny_classifier):
    before = {k: v.clone() for k, v in tiny_gan.state_dict().items()}
    flags = [p.requires_grad for p in tiny_gan.parameters()]
    _audit(tiny_gan, {"pretrained": tiny_gan}, tiny_data, tiny_classifier, ["latent-search", "relearn"])
    assert all(torch.equal(v, before[k]) for k, v in tiny_gan.state_dict().items())
    assert [p.requires_grad for p in tiny_gan.parameters()] == flags


def test_bad_input(tiny_gan, tiny_data, tiny_classifier):
    with pytest.raises(GenredactError, match="unknown attack"):
        _audit(tiny_gan, {}, tiny_data, tiny_classifier, ["nope"])
    with pytest.raises(GenredactError, match="not classes of the judge"):
        audit(tiny_gan, labels=(5,), attacks=["latent-search"], judge=tiny_classifier, heldout=tiny_data, progress=False)
    with pytest.raises(GenredactError, match="pre-trained model's residual rate"):
        _audit(tiny_gan, {}, tiny_data, tiny_classifier, ["relearn"])
    with pytest.raises(GenredactError, match="has no option"):
        ATTACKS.get("latent-search").make_config({"steps": 3, "bogus": 1})
    with pytest.raises(GenredactError, match="works on gan, flow models, not on a classifier"):
        ATTACKS.get("latent-search")().run(tiny_classifier, ATTACKS.get("latent-search").make_config(), AttackContext(labels=(1,), judge=tiny_classifier))
    with pytest.raises(GenredactError, match="works on inpainter models"):
        ATTACKS.get("i2i-leak")().run(tiny_gan, ATTACKS.get("i2i-leak").make_config(), AttackContext(labels=(1,), judge=tiny_classifier))
    with pytest.raises(GenredactError, match="works on flow models"):
        ATTACKS.get("likelihood-membership")().run(tiny_gan, ATTACKS.get("likelihood-membership").make_config(), AttackContext(labels=(1,), judge=tiny_classifier))


def test_latent_search_success_is_decided_by_the_judge_not_the_guide(tiny_gan, tiny_data, tiny_classifier):
    """Steered by a guide that calls class 0 "1", the search finds class-0 images: the judge says no."""
    from genredact.models import ClassifierModel

    class Swapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x).flip(1)

    guide = ClassifierModel(Swapped(tiny_classifier.net), class_names=list(tiny_data.class_names), dataset="two-class")
    own = _audit(tiny_gan, None, tiny_data, tiny_classifier, ["latent-search"])["latent-search"]["models"]["redacted"]
    steered = _audit(tiny_gan, None, tiny_data, tiny_classifier, ["latent-search"], guide=guide)["latent-search"]["models"]["redacted"]
    assert own["guide"] == "judge" and own["success_rate"] >= 0.75
    assert steered["success_rate"] <= 0.05
