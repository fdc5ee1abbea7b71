"""Each GAN method on the tiny two-class GAN with a synthetic target (class 1, 'bottom')."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genredact.api import redact
from genredact.errors import GenredactError
from genredact.methods import METHODS
from genredact.targets import ClassifierTarget, SamplesTarget, ValidityTarget
from tests.conftest import target_share

FAST = {"steps": 150, "batch_size": 32, "lr": 2e-3}


def _params(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _top_brighter() -> ValidityTarget:
    """A validity function on the tiny 8x8 data: an image is valid when its top half is the brighter."""
    return ValidityTarget(fn=lambda x: (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).numpy(), spec="top-brighter")


def _target(clf):
    return ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny")


def test_base_gan_makes_both_classes(tiny_gan, tiny_classifier):
    share = target_share(tiny_gan, tiny_classifier)
    assert 0.08 < share < 0.6, share


@pytest.mark.parametrize(
    "method,extra",
    [
        ("redact-classifier", {}),
        ("redact-classifier", {"real": "generator", "n_generated": 500}),
        ("redact-classifier", {"negative_threshold": 0.2, "guide_shift": 1}),
        ("redact-classifier", {"harden": 16}),
        ("redact-validity", {}),
        ("redact-validity", {"real": "generator", "n_generated": 500}),
        ("redact-samples", {"lam": 0.7}),
        ("finetune-valid", {}),
    ],
)
def test_method_lowers_target_share_and_leaves_input_alone(method, extra, tiny_gan, tiny_classifier, tiny_data):
    before = _params(tiny_gan)
    base_share = target_share(tiny_gan, tiny_classifier)
    edited, log = redact(tiny_gan, _target(tiny_classifier), method, data=tiny_data, seed=0, progress=False, **{**FAST, **extra})
    after = target_share(edited, tiny_classifier)
    assert after < 0.5 * base_share, (method, base_share, after)
    for k, v in tiny_gan.state_dict().items():
        assert torch.equal(v, before[k]), f"{method} changed the input model's {k}"
    assert any(not torch.equal(v, before[k]) for k, v in edited.state_dict().items())
    assert log["steps"] == FAST["steps"] and log["wall_s"] > 0


def test_validity_function_target(tiny_gan, tiny_classifier, tiny_data):
    valid = _top_brighter()
    base = target_share(tiny_gan, tiny_classifier)
    edited, _ = redact(tiny_gan, valid, "redact-validity", data=tiny_data, seed=0, progress=False, **FAST)
    assert target_share(edited, tiny_classifier) < 0.5 * base


def test_samples_target_from_images(tiny_gan, tiny_classifier, tiny_data):
    target = SamplesTarget(images=tiny_data.only([1]).x[:50], source="bottoms")
    base = target_share(tiny_gan, tiny_classifier)
    edited, log = redact(tiny_gan, target, "redact-samples", data=tiny_data, seed=0, progress=False, lam=0.7, **FAST)
    assert log["n_samples"] == 50
    assert target_share(edited, tiny_classifier) < 0.5 * base


def test_retrain_and_reject(tiny_gan, tiny_classifier, tiny_data):
    retrained, log = redact(tiny_gan, _target(tiny_classifier), "retrain", data=tiny_data, seed=0, progress=False, steps=5, batch_size=16)
    assert log["train_images"] == int((tiny_data.y == 0).sum())
    assert retrained.generator is not tiny_gan.generator
    rejecting, log = redact(tiny_gan, _target(tiny_classifier), "reject", data=None, seed=0, progress=False, overhead_samples=200)
    assert target_share(rejecting, tiny_classifier) == 0.0
    assert 0.4 < log["acceptance_rate"] < 0.95
    for (k, v), w in zip(tiny_gan.generator.state_dict().items(), rejecting.generator.state_dict().values()):
        assert torch.equal(v, w), k


def test_same_seed_gives_identical_weights(tiny_gan, tiny_classifier, tiny_data):
    a, _ = redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, seed=3, progress=False, **FAST)
    b, _ = redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, seed=3, progress=False, **FAST)
    c, _ = redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, seed=4, progress=False, **FAST)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_bad_config_and_pairs(tiny_gan, tiny_classifier, tiny_data):
    with pytest.raises(GenredactError, match="has no option 'stepz'"):
        redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, stepz=3)
    with pytest.raises(GenredactError, match="must be int"):
        redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, steps="many")
    with pytest.raises(GenredactError, match="lam must lie"):
        redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, lam=0)
    with pytest.raises(GenredactError, match="unknown method"):
        redact(tiny_gan, _target(tiny_classifier), "no-such-method", data=tiny_data)
    with pytest.raises(GenredactError, match="takes a target given as"):
        redact(tiny_gan, SamplesTarget(images=tiny_data.x[:3], source="x"), "redact-classifier", data=tiny_data)
    with pytest.raises(GenredactError, match="empty"):
        SamplesTarget(images=np.zeros((0, 1, 8, 8), np.uint8), source="empty")
    with pytest.raises(GenredactError, match="label 5 does not exist"):
        ClassifierTarget(classifier=tiny_classifier, target_labels=(5,))


def test_every_registered_method_is_covered():
    gan = {"redact-classifier", "redact-validity", "redact-samples", "finetune-valid", "retrain", "reject", "adapt-then-unlearn", "extrapolate"}
    flow = {"taming", "likelihood-ascent"}  # tests/test_flow.py
    i2i = {"encoder-unlearn", "max-loss", "noisy-label", "retain-label", "random-encoder"}  # tests/methods/test_encoder_unlearn.py
    assert set(METHODS.names()) == gan | flow | i2i


@pytest.mark.parametrize("method", ["redact-classifier", "redact-classifier+harden", "redact-validity", "redact-samples", "finetune-valid", "adapt-then-unlearn",
                                    "extrapolate", "retrain", "reject"])
def test_every_gan_method_runs_under_bf16(method, tiny_gan, tiny_classifier, tiny_data):
    """`--precision bf16`: samples made under autocast are bfloat16; pools, buffers and weights must stay float32."""
    method, _, harden = method.partition("+")
    if method == "redact-validity":
        target = _top_brighter()
    elif method == "redact-samples":
        target = SamplesTarget(images=tiny_data.only([1]).x[:20], source="tiny")
    else:
        target = _target(tiny_classifier)
    short = {"reject": {}, "adapt-then-unlearn": {"adapt_steps": 3, "unlearn_steps": 3, "n_negatives": 8, "k_adapted": 2, "n_positives": 64},
             "extrapolate": {"adapt_steps": 3, "n_negatives": 8, "k_adapted": 2}}.get(method, {"steps": 4})
    if harden:
        short = {**short, "harden": 8}
    edited, log = redact(tiny_gan, target, method, data=tiny_data, seed=0, progress=False, precision="bf16", **short)
    assert log["precision"] == "bf16"
    assert all(v.dtype == torch.float32 for v in edited.state_dict().values() if v.is_floating_point())
    x = edited.sample(16, generator=torch.Generator().manual_seed(0))
    assert x.dtype == torch.float32 and torch.isfinite(x).all()


def test_a_float64_run_stays_float64(tiny_gan, tiny_classifier, tiny_data):
    """With torch's default dtype at float64 (benchmarks/ddp_check.py --dtype float64), data, samples,
    guidance, hardening chains and evaluation all stay double precision: no float32 step in between."""
    import copy

    from genredact.evaluation import evaluate

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        gan, clf = copy.deepcopy(tiny_gan).double(), copy.deepcopy(tiny_classifier).double()
        edited, log = redact(gan, _target(clf), "redact-classifier", data=tiny_data, seed=0, progress=False, steps=4, harden=8)
        assert all(v.dtype == torch.float64 for v in edited.state_dict().values() if v.is_floating_point())
        assert edited.sample(4, generator=torch.Generator().manual_seed(0)).dtype == torch.float64
        res = evaluate(edited, labels=(1,), judge=clf, real=tiny_data, n=256, kid_subsets=2, keep_features=True)
        assert res["features"].dtype == torch.float64 and 0 <= res["residual_rate"] <= 1
    finally:
        torch.set_default_dtype(before)


HARDEN_RUN = {"steps": 80, "batch_size": 32, "lr": 2e-3, "beta": 0.5}  # a redaction short enough to leave latents an attacker finds


def test_hard_chains_climb_to_the_target(tiny_gan, tiny_classifier):
    """The hardening chains are the latent-search attack run alongside training: on the unredacted GAN
    (which makes class 1 for about a quarter of its latents) they end on the class."""
    from genredact.methods.redact_classifier import HardChains, RedactClassifierMethod
    from genredact.models.classifier import target_probability

    cfg = RedactClassifierMethod.Config(harden=32, harden_restart=0.0, harden_lr=0.1)
    chains = HardChains(tiny_gan, cfg, torch.Generator().manual_seed(0), torch.device("cpu"))
    start = float((target_probability(tiny_classifier, tiny_gan.generate(chains.z.detach()), [1]) >= 0.5).float().mean())
    before = {k: v.clone() for k, v in tiny_gan.state_dict().items()}
    for _ in range(30):
        images = chains.advance(tiny_gan, lambda x: target_probability(tiny_classifier, x, [1]))
    assert start < 0.5 and chains.on_target >= 0.8, (start, chains.on_target)
    assert torch.allclose(chains.z.norm(dim=1), torch.full((32,), tiny_gan.z_dim ** 0.5))  # on the sphere the attack searches
    assert all(torch.equal(v, before[k]) for k, v in tiny_gan.state_dict().items())  # the attack steps touch no weight
    assert images(lambda z: z[:8]).shape[0] == 8


def test_hardening_leaves_latent_search_less_to_find(tiny_gan, tiny_classifier, tiny_data):
    from genredact.audit import audit

    found = {}
    for harden in (0, 32):
        edited, log = redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, seed=0, progress=False, harden=harden, **HARDEN_RUN)
        res = audit(edited, labels=(1,), attacks=["latent-search"], judge=tiny_classifier, heldout=tiny_data, progress=False,
                    configs={"latent-search": {"restarts": 128, "steps": 40, "lr": 0.1, "shift": 0, "manifold_k": 0}})
        found[harden] = res["latent-search"]["models"]["redacted"]["success_rate"]
        assert ("hard_chains_on_target" in log) == bool(harden)
    assert found[32] < 0.75 * found[0] and found[0] > 0.1, found


def test_hardened_redaction_resumes_bit_identical(tmp_path, tiny_gan, tiny_classifier, tiny_data, monkeypatch):
    """The chains and their optimiser are checkpointed with the loop: a run stopped mid-way and resumed
    ends with the uninterrupted run's weights."""
    from genredact.engine.resume import resumable
    from genredact.methods.redact_classifier import HardChains

    seen = []

    def run(resume=False):
        with resumable(tmp_path / "out", resume=resume, fingerprint={"harden": 1}, every_s=0, echo=seen.append):
            edited, _ = redact(tiny_gan, _target(tiny_classifier), "redact-classifier", data=tiny_data, seed=0, progress=False, harden=8,
                               steps=20, batch_size=16, lr=2e-3)
        return edited.state_dict()

    whole = run()
    advance, calls = HardChains.advance, {"n": 0}

    def killed(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 13:
            raise KeyboardInterrupt
        return advance(self, *a, **k)

    monkeypatch.setattr(HardChains, "advance", killed)
    with pytest.raises(KeyboardInterrupt):
        run()
    monkeypatch.setattr(HardChains, "advance", advance)
    resumed = run(resume=True)
    assert any("resuming" in s for s in seen)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
