"""adapt-then-unlearn and its extrapolate baseline on the tiny two-class GAN (target: class 1, 'bottom')."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from genredact.api import redact
from genredact.errors import GenredactError
from genredact.methods import METHODS, Context
from genredact.methods.adapt_then_unlearn import adapt_negatives, fisher_diagonal, generator_params, param_distance, repulsion_loss
from genredact.targets import ClassifierTarget, SamplesTarget
from tests.conftest import target_share

STAGE1 = {"n_negatives": 50, "tot_samples": 1000, "k_adapted": 2, "adapt_steps": 60, "batch_size": 32, "lr": 2e-3, "lambda_ewc": 1e-2, "eval_samples": 500}
SMALL = {**STAGE1, "unlearn_steps": 60, "n_positives": 300}


def _target(clf):
    return ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny")


def _run(model, target, seed=0, method="adapt-then-unlearn", **extra):
    config = {**(SMALL if method == "adapt-then-unlearn" else STAGE1), **extra}
    return redact(model, target, method, data=None, seed=seed, progress=False, **config)


def test_both_stages_lower_target_share_and_log(tiny_gan, tiny_classifier):
    base = target_share(tiny_gan, tiny_classifier)
    edited, log = _run(tiny_gan, _target(tiny_classifier))
    assert target_share(edited, tiny_classifier) < 0.75 * base
    assert log["steps"] == 2 * SMALL["adapt_steps"] + SMALL["unlearn_steps"]
    assert log["stage1"]["steps"] == 2 * SMALL["adapt_steps"] and log["stage2"]["steps"] == SMALL["unlearn_steps"]
    assert log["stage1"]["k_adapted"] == 2 and log["stage1"]["n_negatives"] == 50
    assert log["stage1"]["wall_s"] > 0 and log["stage2"]["wall_s"] > 0 and log["peak_mem_mb"] > 0
    assert log["repulsion"] == "el2" and log["gamma"] == 1.0
    assert [h["stage"] for h in log["history"]].count(2.0) == 7  # every 10th of 60 steps, plus the last


def test_adapted_models_move_toward_negatives(tiny_gan, tiny_classifier):
    _, log = _run(tiny_gan, _target(tiny_classifier))
    base = log["stage1"]["base_target_share"]
    shares = log["stage1"]["adapted_target_share"]
    assert 0.05 < base < 0.5
    assert len(shares) == 2 and all(s > base + 0.3 for s in shares), (base, shares)


def test_ewc_keeps_adapted_generators_closer(tiny_gan, tiny_classifier):
    config = METHODS.get("adapt-then-unlearn").make_config({**STAGE1, "k_adapted": 1})

    def distance(lam):
        ctx = Context(generator=torch.Generator().manual_seed(0), progress=False)
        adapted, _, _ = adapt_negatives(tiny_gan, _target(tiny_classifier), dataclasses.replace(config, lambda_ewc=lam), ctx)
        return float(param_distance(generator_params(tiny_gan), adapted))

    assert distance(30.0) < 0.5 * distance(0.0)


def test_fisher_is_normalised_per_sample_squared_gradient(tiny_gan):
    fisher = fisher_diagonal(tiny_gan, n=4, generator=torch.Generator().manual_seed(0))
    flat = torch.cat([f.flatten() for f in fisher.values()])
    assert set(fisher) == {k for k, _ in tiny_gan.generator.named_parameters()}
    assert (flat >= 0).all() and math.isclose(float(flat.mean()), 1.0, rel_tol=1e-5)
    # Reference: the same four latents, one squared gradient each, averaged, then scaled to mean 1.
    z = tiny_gan.latents(4, generator=torch.Generator().manual_seed(0))
    params = list(tiny_gan.generator.parameters())
    ref = [torch.zeros_like(p) for p in params]
    for j in range(4):
        for r, g in zip(ref, torch.autograd.grad(tiny_gan.discriminator(tiny_gan.generator(z[j : j + 1])).sum(), params)):
            r += g**2
    ref_flat = torch.cat([r.flatten() for r in ref])
    assert torch.allclose(flat, ref_flat / ref_flat.mean(), rtol=1e-4, atol=1e-6)


def _tiny_params():
    g = torch.Generator().manual_seed(0)
    theta = {"w": torch.randn(3, 4, generator=g), "b": torch.randn(4, generator=g)}
    adapted = [{k: v + 0.1 * torch.randn(v.shape, generator=g) for k, v in theta.items()} for _ in range(2)]
    return theta, adapted


def test_param_distance_matches_formula():
    theta, adapted = _tiny_params()
    expected = sum(((a[k] - theta[k]) ** 2).mean() for a in adapted for k in theta) / 2  # P = 2 tensors
    assert torch.allclose(param_distance(theta, adapted), expected)


@pytest.mark.parametrize("kind", ["el2", "nl2", "il2"])
def test_repulsion_is_finite_and_pushes_away(kind):
    theta, adapted = _tiny_params()
    params = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    loss, r = repulsion_loss(params, adapted, kind, 1.0)
    loss.backward()
    grads = [p.grad for p in params.values()]
    assert math.isfinite(loss.item()) and all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    with torch.no_grad():  # one gradient-descent step on the repulsion increases the distance
        stepped = {k: p - 1e-2 * p.grad for k, p in params.items()}
        assert param_distance(stepped, adapted) > r
    # Sitting exactly on the adapted models (R = 0) must stay finite, il2 included.
    on_top = {k: adapted[0][k].clone().requires_grad_(True) for k in theta}
    loss0, _ = repulsion_loss(on_top, adapted[:1], kind, 1.0)
    loss0.backward()
    assert math.isfinite(loss0.item()) and all(torch.isfinite(p.grad).all() for p in on_top.values())


def test_unknown_repulsion_raises():
    theta, adapted = _tiny_params()
    with pytest.raises(GenredactError, match="repulsion must be one of"):
        repulsion_loss(theta, adapted, "xx", 1.0)


@pytest.mark.parametrize("kind,gamma", [("el2", 1.0), ("nl2", 100.0), ("il2", 1.0)])
def test_each_repulsion_trains_finite(kind, gamma, tiny_gan, tiny_classifier):
    edited, log = _run(tiny_gan, _target(tiny_classifier), repulsion=kind, gamma=gamma, adapt_steps=20, unlearn_steps=20, k_adapted=1)
    assert log["repulsion"] == kind
    assert all(math.isfinite(v) for h in log["history"] for v in h.values())
    assert all(torch.isfinite(p).all() for p in edited.generator.parameters())


def test_repulsion_moves_generator_away_from_adapted_models(tiny_gan, tiny_classifier):
    def final_distance(gamma):
        _, log = _run(tiny_gan, _target(tiny_classifier), gamma=gamma, repulsion="nl2")
        return log["history"][-1]["dist"]

    # dist is R / R_0 (distance_norm='initial'): 1 at the pre-trained weights.
    assert final_distance(1.0) > 1.5 * final_distance(0.0)


def test_same_seed_gives_identical_weights(tiny_gan, tiny_classifier):
    quick = {"adapt_steps": 20, "unlearn_steps": 20}
    a, _ = _run(tiny_gan, _target(tiny_classifier), seed=3, **quick)
    b, _ = _run(tiny_gan, _target(tiny_classifier), seed=3, **quick)
    c, _ = _run(tiny_gan, _target(tiny_classifier), seed=4, **quick)
    sa, sb, sc = a.generator.state_dict(), b.generator.state_dict(), c.generator.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_input_model_unchanged(tiny_gan, tiny_classifier):
    before = {k: v.clone() for k, v in tiny_gan.state_dict().items()}
    modes = [m.training for m in tiny_gan.modules()]
    edited, _ = _run(tiny_gan, _target(tiny_classifier), adapt_steps=20, unlearn_steps=20)
    assert all(torch.equal(v, before[k]) for k, v in tiny_gan.state_dict().items())
    assert [m.training for m in tiny_gan.modules()] == modes
    assert edited.generator is not tiny_gan.generator
    assert any(not torch.equal(v, before[k]) for k, v in edited.state_dict().items())


def test_samples_target_negatives(tiny_gan, tiny_classifier, tiny_data):
    target = SamplesTarget(images=tiny_data.only([1]).x[:30], source="bottoms")
    base = target_share(tiny_gan, tiny_classifier)
    edited, log = _run(tiny_gan, target)
    assert log["stage1"]["n_negatives"] == 30
    assert "adapted_target_share" not in log["stage1"]
    assert log["stage2"]["positives"] == "far" and log["stage2"]["real_images"] == SMALL["n_positives"]
    assert target_share(edited, tiny_classifier) < 0.75 * base
    with pytest.raises(GenredactError, match="but the model makes"):
        _run(tiny_gan, SamplesTarget(images=tiny_data.x[:5, :, :4], source="wrong shape"))


def test_extrapolate_lowers_target_share(tiny_gan, tiny_classifier):
    base = target_share(tiny_gan, tiny_classifier)
    edited, log = _run(tiny_gan, _target(tiny_classifier), method="extrapolate", gamma=1.0)
    assert target_share(edited, tiny_classifier) < 0.8 * base
    assert log["gamma"] == 1.0 and log["stage1"]["k_adapted"] == 2 and log["steps"] == 2 * STAGE1["adapt_steps"]


def test_extrapolate_gamma_zero_is_the_pretrained_generator(tiny_gan, tiny_classifier):
    edited, _ = _run(tiny_gan, _target(tiny_classifier), method="extrapolate", gamma=0.0, adapt_steps=20)
    base = tiny_gan.state_dict()
    assert all(torch.equal(v, base[k]) for k, v in edited.state_dict().items())
    moved, _ = _run(tiny_gan, _target(tiny_classifier), method="extrapolate", gamma=0.5, adapt_steps=20)
    assert any(not torch.equal(v, base[k]) for k, v in moved.state_dict().items())


@pytest.mark.parametrize(
    "method,bad,match",
    [
        ("adapt-then-unlearn", {"repulsion": "xx"}, "must be one of el2, nl2, il2"),
        ("adapt-then-unlearn", {"k_adapted": 0}, "k_adapted must be at least 1"),
        ("adapt-then-unlearn", {"gamma": -1.0}, "gamma must be"),
        ("adapt-then-unlearn", {"lambda_ewc": -1.0}, "lambda_ewc must be"),
        ("adapt-then-unlearn", {"positives": "near"}, "must be one of far, all"),
        ("extrapolate", {"k_adapted": 0}, "k_adapted must be at least 1"),
        ("extrapolate", {"gamma": float("inf")}, "gamma must be a finite"),
    ],
)
def test_bad_config_raises(method, bad, match):
    with pytest.raises(GenredactError, match=match):
        METHODS.get(method).make_config(bad)


def test_config_check_catches_direct_construction():
    config = METHODS.get("adapt-then-unlearn").Config(repulsion="xx")  # bypasses make_config's parsing
    with pytest.raises(GenredactError, match="repulsion must be one of"):
        config.check()
