"""The flow family and its methods on tiny flows: invertibility, exact log-likelihood, ActNorm across
save/load, Taming (band, held-out, remember set, determinism, debias), baselines, metrics, CLI."""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch

from genredact.api import redact
from genredact.checkpoint import load_pretrained, save_pretrained
from genredact.data import ImageData
from genredact.engine.resume import resumable
from genredact.errors import GenredactError
from genredact.methods import taming as taming_mod
from genredact.methods._flow import forget_split, gaussian_kl
from genredact.metrics.flow import bpd_shift, class_mix, likelihood_quantile, membership_auc
from genredact.models import FlowModel
from genredact.models.flow import dequantize
from genredact.models.flow_nets import GlowNet
from genredact.seeding import make_generator
from genredact.targets import ClassifierTarget, DistributionTarget, IndicesTarget, SamplesTarget
from genredact.targets.base import parse_mix, resolve_labels
from genredact.zoo.flow_recipes import FlowRecipe, train_flow
from tests.conftest import two_class_data

TINY = FlowRecipe(steps=120, batch_size=32, lr=5e-3, warmup=10, levels=2, flow_steps=2, hidden=8, init_batch=128)
FAST = {"stat_images": 128, "check_images": 64, "remember_batch": 16}


def _randomise(net: torch.nn.Module, seed: int = 0) -> None:
    """Give the zero-initialised last coupling convolutions random weights, so no layer is the identity."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d) and m.weight.abs().sum() == 0:
            with torch.no_grad():
                m.weight.copy_(0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))


@pytest.fixture(scope="module")
def flow_data() -> ImageData:
    return two_class_data()


@pytest.fixture(scope="module")
def tiny_flow_trained(flow_data) -> FlowModel:
    model, _ = train_flow(flow_data, TINY, progress=False, device="cpu")
    return model


@pytest.fixture
def tiny_flow(tiny_flow_trained) -> FlowModel:
    return copy.deepcopy(tiny_flow_trained)


@pytest.fixture(scope="module")
def tamed(tiny_flow_trained, flow_data):
    """The tiny flow tamed on three class-1 images: (original copy, target, edited, log, input params before)."""
    original = copy.deepcopy(tiny_flow_trained)
    target = _indices_target(flow_data, np.flatnonzero(flow_data.y == 1)[:3])
    params = {k: v.clone() for k, v in original.state_dict().items()}
    edited, log = redact(original, target, "taming", data=flow_data, seed=0, progress=False, steps=150, lr=2e-3, alpha=0.9, **FAST)
    return original, target, edited, log, params


class _Named(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.class_names = [str(i) for i in range(k)]


def _indices_target(data: ImageData, idx) -> IndicesTarget:
    idx = tuple(int(i) for i in idx)
    return IndicesTarget(images=data.x[list(idx)], source="test", indices=idx, dataset=data.name)


def _bpd(model, x, seed=5):
    return model.bpd_of(x, generator=make_generator(seed), draws=2)


# The model ------------------------------------------------------------------------------------------


def check_forward_inverse(layer, x: torch.Tensor, atol: float = 1e-4) -> None:
    """normflows-style checker: encode then decode gives x back and the two log-dets cancel."""
    y, ld_fwd = layer.encode(x)
    x2, ld_inv = layer.decode(y)
    assert torch.allclose(x2, x, atol=atol), (x2 - x).abs().max()
    assert torch.allclose(ld_fwd + ld_inv, torch.zeros_like(ld_fwd), atol=atol), (ld_fwd + ld_inv).abs().max()


def test_invertibility_and_log_dets_cancel():
    torch.manual_seed(0)
    net = GlowNet(channels=1, height=8, width=8, levels=2, steps=2, hidden=8)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    net.encode(x)  # ActNorm initialises on this batch
    _randomise(net)
    check_forward_inverse(net, x)
    for layer in net.levels[0][0].layers:
        check_forward_inverse(layer, torch.randn(4, 4, 4, 4))
    model = FlowModel(net, image_shape=(1, 8, 8))
    z, ld = model.inverse(x)
    x2, ld2 = model(z)
    assert z.shape == (4, 64) and torch.allclose(x2, x, atol=1e-4) and torch.allclose(ld + ld2, torch.zeros(4), atol=1e-3)
    # The checker itself fails on a non-inverse (a decode that is off by a constant).
    broken = copy.deepcopy(net.levels[0][0].layers[0])
    broken.decode = lambda y: (y * torch.exp(-broken.log_scale) - broken.bias + 0.1, -broken.log_scale.sum().expand(y.shape[0]) * 16)
    with pytest.raises(AssertionError):
        check_forward_inverse(broken, torch.randn(4, 4, 4, 4))


def test_log_prob_matches_brute_force_change_of_variables():
    torch.manual_seed(1)
    net = GlowNet(channels=2, height=1, width=1, levels=1, steps=3, hidden=8, squeeze=False)
    net.encode(torch.randn(256, 2, 1, 1) * 2 + 1)
    _randomise(net, seed=1)
    model = FlowModel(net, image_shape=(2, 1, 1)).double()
    pts = torch.randn(5, 2, dtype=torch.float64)
    for p in pts:
        jac = torch.autograd.functional.jacobian(lambda v: model.inverse(v.view(1, 2, 1, 1))[0][0], p)
        z = model.inverse(p.view(1, 2, 1, 1))[0][0]
        brute = -0.5 * (z @ z) - math.log(2 * math.pi) + torch.linalg.slogdet(jac)[1]
        assert torch.allclose(model.log_prob(p.view(1, 2, 1, 1))[0], brute, atol=1e-8)
    # The density integrates to one (Riemann sum on a grid that holds almost all of the mass).
    grid = torch.linspace(-10, 10, 251, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    with torch.no_grad():
        dens = model.log_prob(torch.stack([xx.flatten(), yy.flatten()], 1).view(-1, 2, 1, 1)).exp()
    assert abs(float(dens.sum() * (grid[1] - grid[0]) ** 2) - 1) < 0.02


def test_bpd_convention_and_sampling(tiny_flow, flow_data):
    x = flow_data.x[:8]
    y = dequantize(torch.as_tensor(x), generator=make_generator(0))
    assert float(y.min()) >= -1 and float(y.max()) < 1
    bpd = tiny_flow.bpd(torch.as_tensor(x), generator=make_generator(0))
    expected = -tiny_flow.log_prob(y) / (64 * math.log(2)) + 7
    assert torch.allclose(bpd, expected, atol=1e-5)
    # uint8 input and the float [-1, 1] form of the same images give the same BPD.
    as_float = torch.as_tensor(x).float() / 127.5 - 1
    assert torch.allclose(tiny_flow.bpd(as_float, generator=make_generator(0)), bpd, atol=1e-5)
    s = tiny_flow.sample(16, temperature=0.7, generator=make_generator(3))
    assert s.shape == (16, 1, 8, 8) and float(s.abs().max()) <= 1
    assert torch.equal(s, tiny_flow.sample(16, temperature=0.7, generator=make_generator(3)))
    with pytest.raises(GenredactError, match="temperature must be positive"):
        tiny_flow.sample(2, temperature=0)


def test_save_load_keeps_actnorm_initialisation(tiny_flow, flow_data, tmp_path):
    path = save_pretrained(tiny_flow, tmp_path / "flow")
    loaded = load_pretrained(path)
    assert isinstance(loaded, FlowModel)
    actnorms = [m for m in loaded.modules() if type(m).__name__ == "ActNorm"]
    assert actnorms and all(int(m.initialized) == 1 for m in actnorms)
    odd = torch.zeros(4, 1, 8, 8)  # a batch that would give very different ActNorm statistics
    y = dequantize(torch.as_tensor(flow_data.x[:16]), generator=make_generator(0))
    before = loaded.state_dict()
    with torch.no_grad():
        loaded.log_prob(odd)
        assert torch.equal(loaded.log_prob(y), tiny_flow.log_prob(y))
    assert all(torch.equal(v, before[k]) for k, v in loaded.state_dict().items())
    # Without the flag a fresh net *does* initialise on the first batch it sees (the check can fail).
    fresh = FlowModel.from_config(tiny_flow.to_config())
    fresh.log_prob(y)
    assert int(fresh.net.levels[0][0].layers[0].initialized) == 1


# Taming ---------------------------------------------------------------------------------------------


def test_taming_moves_forget_bpd_into_band_while_heldout_moves_less(tamed, flow_data):
    tiny_flow, _, edited, log, before_params = tamed
    cls1 = np.flatnonzero(flow_data.y == 1)
    assert log["in_band_share"] == 1.0 and log["stopped_early"], log["stop_reason"]
    assert log["remember_drift"] <= 0.01 and log["forget_loss"] == "square", log  # stopped only once the remember BPD was back
    forget, held, retain = flow_data.x[cls1[:3]], flow_data.x[cls1[10:60]], flow_data.x[flow_data.y == 0][:100]
    d_forget = float((_bpd(edited, forget) - _bpd(tiny_flow, forget)).mean())
    d_held = float((_bpd(edited, held) - _bpd(tiny_flow, held)).mean())
    d_retain = float((_bpd(edited, retain) - _bpd(tiny_flow, retain)).abs().mean())
    assert d_forget > 0.15 and d_forget > 3 * abs(d_held) and d_forget > 3 * d_retain, (d_forget, d_held, d_retain)
    assert all(torch.equal(v, before_params[k]) for k, v in tiny_flow.state_dict().items()), "the input model was modified"


def test_taming_with_batch_statistics_stops_in_band_and_its_statistics_match_a_fresh_scoring(tiny_flow_trained, flow_data):
    """stats="batch": mu, sigma and the drift come from the remember batches the steps score, not from a
    re-scored pool. The run still ends with the images in the band and the drift within tolerance, and
    its final mu and sigma are those of the edited model on remember images scored afresh."""
    forget = np.flatnonzero(flow_data.y == 1)[:3]
    edited, log = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", data=flow_data, seed=0, progress=False,
                         steps=150, lr=2e-3, alpha=0.9, stats="batch", aim_gain=0.0, **FAST)
    assert log["stats"] == "batch" and log["in_band_share"] == 1.0 and log["stopped_early"], log["stop_reason"]
    assert log["remember_drift"] <= 0.01 and log["aim_bpd"] is None  # aim_gain 0: no aiming
    fresh = _bpd(edited, np.delete(flow_data.x, forget, axis=0))
    mu, sigma = float(fresh.mean()), float(fresh.std())
    # Within a fifth of a sigma (the band's half-width is 0.6 sigma; the pooled rule is off by ~0.1 sigma here too).
    assert abs(log["mu"] - mu) < 0.2 * sigma and abs(log["sigma"] / sigma - 1) < 0.15, (log["mu"], mu, log["sigma"], sigma)
    again, _ = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", data=flow_data, seed=0, progress=False,
                      steps=150, lr=2e-3, alpha=0.9, stats="batch", aim_gain=0.0, **FAST)
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in edited.state_dict().items())


def test_taming_defaults_batch_statistics_and_aiming_follow_the_size_of_the_image_set(tiny_flow_trained, flow_data):
    """stats="auto" and aim_gain=None (the defaults): batch statistics for images that fit one forget batch
    with the remember term, aim_gain 0.1 there from two images up; the pool and no aiming for a larger set
    and for the no-remember ablation. The default run is the explicit one."""
    ones = np.flatnonzero(flow_data.y == 1)
    kw = dict(data=flow_data, seed=0, progress=False, steps=150, lr=2e-3, alpha=0.9, **FAST)
    edited, log = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, ones[:3]), "taming", **kw)
    assert log["stats"] == "batch" and log["aim_gain"] == 0.1 and len(log["aim_bpd"]) == 3, log
    explicit, _ = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, ones[:3]), "taming", stats="batch", aim_gain=0.1, **kw)
    assert all(torch.equal(v, explicit.state_dict()[k]) for k, v in edited.state_dict().items())
    _, big = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, ones[:9]), "taming", **{**kw, "steps": 3})
    assert big["n_forget"] == 9 and big["stats"] == "pool" and big["aim_gain"] == 0.0 and big["aim_bpd"] is None
    _, bare = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, ones[:3]), "taming", remember=False, **{**kw, "steps": 3})
    assert bare["stats"] == "pool" and bare["aim_gain"] == 0.0 and bare["aim_bpd"] is None
    _, single = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, ones[:1]), "taming", **{**kw, "steps": 3})
    assert single["stats"] == "batch" and single["aim_gain"] == 0.0 and single["aim_bpd"] is None  # one image is not aimed


def test_taming_aim_gain_moves_each_target_and_still_stops_in_band(tiny_flow_trained, flow_data):
    """aim_gain: each forget image's own target level follows its distance from the band's centre; the run
    still ends with every image in the band and the drift within tolerance (on by default for such a set: the defaults test)."""
    forget = np.flatnonzero(flow_data.y == 1)[:3]
    kw = dict(data=flow_data, seed=0, progress=False, steps=150, lr=2e-3, alpha=0.9, stats="batch", **FAST)
    edited, log = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", aim_gain=0.1, **kw)
    assert log["in_band_share"] == 1.0 and log["stopped_early"] and log["remember_drift"] <= 0.01, log["stop_reason"]
    aim = np.array(log["aim_bpd"])
    assert aim.shape == (3,) and np.all(np.abs(aim) <= 0.5 * 4.0 * log["sigma"] + 1e-9) and np.abs(aim).max() > 0, aim
    with pytest.raises(GenredactError, match="aim_gain"):
        redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", aim_gain=-1.0, **kw)


class _Interrupted(Exception):
    pass


def test_taming_on_images_interrupted_resumes_to_the_same_weights(tiny_flow_trained, flow_data, tmp_path, monkeypatch):
    """Images mode keeps state between steps (each image's aim, the batch statistics' window): a run
    interrupted part-way and resumed from its checkpoint ends on the same weights as the uninterrupted run."""
    forget = np.flatnonzero(flow_data.y == 1)[:3]
    kw = dict(data=flow_data, seed=0, progress=False, steps=150, lr=2e-3, alpha=0.9, stats="batch", aim_gain=0.1, **FAST)
    seen: list[str] = []

    def run(resume: bool):
        return resumable(tmp_path / "tamed", resume=resume, fingerprint={"t": 1}, every_s=0, echo=seen.append)

    with run(False):
        whole, log = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", **kw)
    assert log["stopped_early"] and log["steps"] > 30, log["stop_reason"]
    kl, calls = taming_mod.gaussian_kl, {"n": 0}

    def flaky(*a):
        calls["n"] += 1
        if calls["n"] == 2 * 25:  # two KL terms a step: the 25th step never ends
            raise _Interrupted
        return kl(*a)

    monkeypatch.setattr(taming_mod, "gaussian_kl", flaky)
    with pytest.raises(_Interrupted), run(False):
        redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", **kw)
    monkeypatch.setattr(taming_mod, "gaussian_kl", kl)
    seen.clear()
    with run(True):
        resumed, rlog = redact(copy.deepcopy(tiny_flow_trained), _indices_target(flow_data, forget), "taming", **kw)
    assert any("resuming" in s for s in seen), seen  # from the interrupted run's checkpoint, not afresh
    assert rlog["steps"] == log["steps"] and rlog["aim_bpd"] == log["aim_bpd"]
    assert all(torch.equal(v, resumed.state_dict()[k]) for k, v in whole.state_dict().items())


def test_remember_set_never_holds_a_forget_image(flow_data, tiny_classifier):
    x = flow_data.x.copy()
    x[7] = x[3]  # a duplicate of a forget image elsewhere in the training data
    data = ImageData(flow_data.name, x, flow_data.y, flow_data.class_names)
    split = forget_split(data, SamplesTarget(images=x[[3]], source="one image"))
    assert sorted(split.forget_idx.tolist()) == [3, 7] and len(split.remember) == len(data) - 2
    rem = {a.tobytes() for a in split.remember.x}
    assert x[3].tobytes() not in rem
    split = forget_split(data, _indices_target(data, [3, 10]))
    rem = {a.tobytes() for a in split.remember.x}
    assert {3, 7, 10} == set(split.forget_idx.tolist()) and not any(a.tobytes() in rem for a in data.x[[3, 10]])
    split = forget_split(data, ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny"))
    assert len(split.forget) == int((data.y == 1).sum()) and (split.remember.y == 0).all()


def test_taming_and_baselines_are_deterministic(tiny_flow, flow_data):
    target = _indices_target(flow_data, np.flatnonzero(flow_data.y == 1)[:2])
    kw = dict(data=flow_data, progress=False, steps=4, lr=2e-3, **FAST)
    a, _ = redact(tiny_flow, target, "taming", seed=1, **kw)
    b, _ = redact(tiny_flow, target, "taming", seed=1, **kw)
    c, _ = redact(tiny_flow, target, "taming", seed=2, **kw)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    asc, log = redact(tiny_flow, target, "likelihood-ascent", data=flow_data, seed=0, progress=False, steps=5, stat_images=128)
    assert log["n_forget"] == 2 and any(not torch.equal(v, tiny_flow.state_dict()[k]) for k, v in asc.state_dict().items())
    nr, log = redact(tiny_flow, target, "taming", seed=0, remember=False, **kw)
    assert "kl" not in log["history"][0]
    re, log = redact(tiny_flow, target, "retrain", data=flow_data, seed=0, progress=False, steps=3, batch_size=16)
    assert log["train_images"] == len(flow_data) - 2 and isinstance(re, FlowModel) and re.net is not tiny_flow.net


@pytest.mark.parametrize("stats", ["pool", "batch"])
def test_taming_a_class_stops_when_it_no_longer_comes_out(stats, tiny_flow, flow_data, tiny_classifier):
    from genredact.methods._flow import sample_mix

    target = ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny")
    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[1]
    edited, log = redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, steps=300, lr=2e-3, alpha=0.9,
                         share_goal=before / 3, refresh_every=10, mix_samples=500, stats=stats, **FAST)
    after = sample_mix(edited, tiny_classifier, z)[1]  # other latents than the stopping rule's
    assert log["stats"] == stats and log["stopped_early"] and "the class makes" in log["stop_reason"], log["stop_reason"]
    assert log["remember_drift"] <= 0.01  # the stop waits for the remember BPD, whichever statistics measure it
    assert log["class_share_classifier"] <= before / 3 and log["forget_loss"] == "sigmoid" and log["share_samples"] == 500
    assert after < before / 2, (before, after)


def test_finetune_valid_on_a_flow_trains_on_the_remember_set_only(tiny_flow, flow_data, tiny_classifier):
    from genredact.methods._flow import sample_mix

    target = ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny")
    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[1]
    edited, log = redact(tiny_flow, target, "finetune-valid", data=flow_data, seed=0, progress=False, steps=150, lr=2e-3, share_goal=None)
    after = sample_mix(edited, tiny_classifier, z)[1]
    assert log["n_remember"] == int((flow_data.y == 0).sum()) and log["n_forget"] == int((flow_data.y == 1).sum())
    assert after < before - 0.05, (before, after)  # likelihood on the other class alone pushes the class out
    with pytest.raises(GenredactError, match="a set of images works only for flows"):
        redact("mnist-dcgan", SamplesTarget(images=np.zeros((2, 1, 28, 28), np.uint8), source="two"), "finetune-valid", progress=False)


def test_debias_moves_the_mix_toward_the_target(tiny_flow, flow_data, tiny_classifier):
    from genredact.methods._flow import sample_mix

    target = DistributionTarget(classifier=tiny_classifier, shares=(0.5, 0.5), source="tiny")
    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[1]
    edited, log = redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, debias="resample", steps=60, lr=2e-3, mix_every=20, mix_samples=500, mix_tol=0.05)
    after = sample_mix(edited, tiny_classifier, z)[1]
    assert abs(after - 0.5) < abs(before - 0.5) - 0.05, (before, after, log["offsets_nats"])
    # The run ends on the measured state nearest the target: no measurement of the run was nearer.
    measured = [h["max_err"] for h in log["history"]]
    assert log["max_mix_error_classifier"] <= min(measured) + 1e-12, (log["max_mix_error_classifier"], measured)


def test_mixture_prior_density_matches_torch_distributions_and_survives_save_load(tiny_flow, flow_data, tmp_path):
    from genredact.models.flow import MixturePrior

    prior = MixturePrior(3, 5)
    g = make_generator(1)
    means, stds = torch.randn(3, 5, generator=g), torch.rand(3, 5, generator=g) + 0.2
    prior.set(torch.tensor([0.2, 0.1, 0.7]), means, stds)
    z = torch.randn(7, 5, generator=g)
    ref = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=torch.tensor([0.2, 0.1, 0.7])),
        torch.distributions.Independent(torch.distributions.Normal(means, stds), 1))
    assert torch.allclose(prior.log_prob(z), ref.log_prob(z), atol=1e-4)
    prior.set(torch.tensor([0.2, 0.0, 0.8]), means, stds)
    _, comp = prior.sample(2000, generator=make_generator(2))
    assert (comp != 1).all() and abs(float((comp == 2).double().mean()) - 0.8) < 0.04  # a zero weight is never drawn
    # A flow with the prior: log_prob uses it, and save/load keeps it bit for bit, a zero weight included (a
    # debias run's fit leaves many; stored as -inf, the saved model did not load).
    tiny_flow.use_mixture_prior(3).set(torch.tensor([0.3, 0.7, 0.0]), torch.zeros(3, tiny_flow.dim), torch.full((3, tiny_flow.dim), 0.5))
    assert torch.isfinite(tiny_flow.prior.log_weights).all() and tiny_flow.prior.weights[2] == 0
    y = dequantize(torch.as_tensor(flow_data.x[:8]), generator=make_generator(0))
    with torch.no_grad():
        z, log_det = tiny_flow.inverse(y)
        assert torch.allclose(tiny_flow.log_prob(y), tiny_flow.prior.log_prob(z) + log_det)
    loaded = load_pretrained(save_pretrained(tiny_flow, tmp_path / "mixed"))
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(y), tiny_flow.log_prob(y))
    assert torch.equal(loaded.sample(4, generator=make_generator(3), temperature=0.7), tiny_flow.sample(4, generator=make_generator(3), temperature=0.7))
    # A sampling spread narrows the draws alone (the density is the same), survives save/load, and a folder
    # written before the spread loads at spread 1; a spread outside (0, 1] is refused.
    narrow = MixturePrior(3, 5, spread=0.5)
    narrow.set(torch.tensor([0.2, 0.1, 0.7]), means, stds)
    prior.set(torch.tensor([0.2, 0.1, 0.7]), means, stds)
    z5 = torch.randn(7, 5, generator=g)
    assert torch.allclose(narrow.log_prob(z5), prior.log_prob(z5))
    (zn, cn), (zw, cw) = narrow.sample(3000, generator=make_generator(4)), prior.sample(3000, generator=make_generator(4))
    assert torch.equal(cn, cw) and torch.allclose(zn - means[cn], 0.5 * (zw - means[cw]), atol=1e-5)
    tiny_flow.use_mixture_prior(3, spread=0.6).set(torch.tensor([0.3, 0.7, 0.0]), torch.zeros(3, tiny_flow.dim), torch.full((3, tiny_flow.dim), 0.5))
    folder = save_pretrained(tiny_flow, tmp_path / "narrow")
    assert load_pretrained(folder).prior.spread == 0.6
    cfg_path = next(p for p in folder.iterdir() if p.suffix == ".json" and "prior" in p.read_text())
    cfg = json.loads(cfg_path.read_text())
    holder = cfg if "prior" in cfg else next(v for v in cfg.values() if isinstance(v, dict) and "prior" in v)
    del holder["prior"]["spread"]
    cfg_path.write_text(json.dumps(cfg))
    assert load_pretrained(folder).prior.spread == 1.0
    with pytest.raises(GenredactError, match="spread"):
        MixturePrior(3, 5, spread=1.5)


def test_debias_by_prior_reaches_the_mix_and_keeps_the_network(tiny_flow, flow_data, tiny_classifier):
    from genredact.methods._flow import sample_mix

    target = DistributionTarget(classifier=tiny_classifier, shares=(0.4, 0.6), source="tiny")
    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)
    weights = {k: v.clone() for k, v in tiny_flow.state_dict().items()}
    edited, log = redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, debias="prior", mix_samples=1000, prior_images=200, prior_components=2, mix_tol=0.03)
    after = sample_mix(edited, tiny_classifier, edited.latents(2000, generator=make_generator(9), temperature=0.7))
    assert abs(after[0] - 0.4) < 0.05 and abs(before[0] - 0.4) > 0.3, (before, after, log["history"])
    assert all(torch.equal(v, weights[k]) for k, v in tiny_flow.state_dict().items())  # the input model is untouched
    assert tiny_flow.prior is None and edited.prior is not None
    assert edited.prior.means.shape[0] == 4 and log["prior_classes"] == [0, 0, 1, 1]  # two k-means clusters per class
    assert all(torch.equal(edited.state_dict()[k], v) for k, v in weights.items())  # the network itself is not retrained
    assert log["max_mix_error_classifier"] == min(h["max_err"] for h in log["history"])
    with pytest.raises(GenredactError, match="prior_images"):
        redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, debias="prior", prior_images=0)
    assert (log["mix_samples"], log["mix_tol"]) == (1000, 0.03)  # what the run measured with, as given


def test_debias_by_prior_makes_open_classes_from_the_original_prior(tiny_flow, flow_data, tiny_classifier):
    """prior_open="original": the original N(0, I) prior is one more component of the mixture; each fit starts
    from that component and the named classes' ones, so an open class comes from the original prior, and its
    own components come in for what that cannot reach (a named class cut below its share before)."""
    from genredact.methods._flow import sample_mix

    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[0]
    opts = dict(data=flow_data, seed=0, progress=False, debias="prior", mix_samples=1000, prior_images=200, prior_components=2, mix_tol=0.03, prior_open="original")
    raised = DistributionTarget(classifier=tiny_classifier, shares=((1 + before) / 2, None), source="tiny")
    edited, log = redact(tiny_flow, raised, "taming", **opts)
    assert log["prior_open"] == "original" and log["prior_classes"] == [0, 0, 1, 1, -1]
    w = np.asarray(log["prior_weights"])
    assert w[4] > 0.2 and w[2:4].sum() < 0.1 * w[4], w  # class 1 (open) comes from the original prior
    assert torch.equal(edited.prior.means[4], torch.zeros(tiny_flow.dim)) and torch.equal(edited.prior.log_stds[4], torch.zeros(tiny_flow.dim))
    after = sample_mix(edited, tiny_classifier, edited.latents(2000, generator=make_generator(9), temperature=0.7))[0]
    assert abs(after - raised.shares[0]) < 0.05, (before, after, log["history"])
    cut = DistributionTarget(classifier=tiny_classifier, shares=(before / 4, None), source="tiny")
    _, log = redact(tiny_flow, cut, "taming", **opts)
    assert np.asarray(log["prior_weights"])[2:4].sum() > 0.2, log["prior_weights"]  # the open class's components help the cut
    every = DistributionTarget(classifier=tiny_classifier, shares=(0.4, 0.6), source="tiny")  # nothing open: as before
    _, log = redact(tiny_flow, every, "taming", **opts)
    assert log["prior_open"] == "components" and log["prior_classes"] == [0, 0, 1, 1]
    with pytest.raises(GenredactError, match="prior_open"):
        redact(tiny_flow, raised, "taming", **{**opts, "prior_open": "both"})


def test_debias_by_prior_forgets_a_class_asked_at_zero(tiny_flow, flow_data, tiny_classifier, monkeypatch):
    """A mix that asks for a class at 0 forgets it without training: the class gets no component, and the
    original prior (which makes every class) does not join, whatever prior_open says; the network is kept."""
    from genredact.methods._flow import sample_mix

    z = tiny_flow.latents(2000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[1]
    target = DistributionTarget(classifier=tiny_classifier, shares=(None, 0.0), source="tiny")
    edited, log = redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, mix_samples=1000, prior_images=200, prior_components=2, mix_tol=0.03)
    assert log["debias"] == "prior" and log["prior_open"] == "components" and log["prior_classes"] == [0, 0]
    after = sample_mix(edited, tiny_classifier, edited.latents(2000, generator=make_generator(9), temperature=0.7))[1]
    assert before > 0.1 and after < 0.25 * before, (before, after)
    assert all(torch.equal(a, b) for a, b in zip(edited.net.state_dict().values(), tiny_flow.net.state_dict().values()))
    # prior_spread narrows the components for sampling (the prior keeps it); outside (0, 1] it is refused.
    opts = dict(data=flow_data, seed=0, progress=False, mix_samples=1000, prior_images=200, prior_components=2, mix_tol=0.03)
    narrow, _ = redact(tiny_flow, target, "taming", prior_spread=0.5, **opts)
    assert narrow.prior.spread == 0.5 and torch.equal(narrow.prior.means, edited.prior.means)
    with pytest.raises(GenredactError, match="prior_spread"):
        redact(tiny_flow, target, "taming", prior_spread=0.0, **opts)
    # Left to taming, a mix with a class at 0 tries the spreads widest first and keeps the first whose fitted mix
    # is within mix_tol; when none is, the nearest (the widest of equals). An explicit spread is tried alone.
    from genredact.methods import taming as taming_module

    ladder = taming_module.SPREAD_LADDER
    assert ladder[0] == 1.0 and list(ladder) == sorted(ladder, reverse=True)
    for tol in (0.03, 1e-4):
        fitted, flog = redact(tiny_flow, target, "taming", **{**opts, "mix_tol": tol})
        trials = flog["spread_trials"]
        assert [t["spread"] for t in trials] == list(ladder[: len(trials)]), trials
        assert all(t["fit_error"] > tol for t in trials[:-1]) and trials[-1]["fit_error"] <= tol, trials
        assert flog["prior_spread"] == trials[-1]["spread"] == fitted.prior.spread
    assert len(trials) > 1, trials  # at 1e-4 the full spread does not fit: the tiny flow's class-0 components make class 1
    monkeypatch.setattr(taming_module, "SPREAD_LADDER", (1.0, 0.99))
    nearest, nlog = redact(tiny_flow, target, "taming", **{**opts, "mix_tol": 1e-6})
    errs = [t["fit_error"] for t in nlog["spread_trials"]]
    assert len(errs) == 2 and min(errs) > 1e-6 and nearest.prior.spread == nlog["prior_spread"] == (1.0, 0.99)[int(np.argmin(errs))], errs
    _, one = redact(tiny_flow, target, "taming", prior_spread=0.5, **{**opts, "mix_tol": 1e-6})
    assert [t["spread"] for t in one["spread_trials"]] == [0.5] and one["prior_spread"] == 0.5


def test_debias_measurement_defaults_follow_the_mode():
    """debias="prior" (the default) measures on 10,000 samples and stops within half a point (a measurement is all
    it costs); the fine-tuning modes and a class's share keep 2000 samples and one point; given values win, bad ones fail."""
    config = taming_mod.TamingMethod.Config
    assert config().debias == "prior" and (config().samples(), config().tol()) == (10000, 0.005)
    assert (config(debias="resample").samples(), config(debias="resample").tol(), config(debias="offset").samples()) == (2000, 0.01, 2000)
    assert (config(debias="prior", mix_samples=300, mix_tol=0.02).samples(), config(debias="prior", mix_samples=300, mix_tol=0.02).tol()) == (300, 0.02)
    for bad, match in (({"mix_samples": 0}, "mix_samples"), ({"mix_tol": 0.0}, "mix_tol"), ({"mix_tol": -0.1, "debias": "prior"}, "mix_tol")):
        with pytest.raises(GenredactError, match=match):
            config(**bad).check()


def test_sample_mix_counts_an_overflowed_sample_as_background():
    from genredact.methods._flow import sample_mix
    from genredact.models.flow import finite_images

    class Overflowing(torch.nn.Module):
        def generate(self, z):
            x = torch.full((len(z), 1, 2, 2), 0.5)
            x[0] = float("nan")  # the first latent's inverse overflowed
            return x

    class Bright(torch.nn.Module):  # class 0 when the mean pixel is above 0, else 1
        class_names = ("bright", "dark")

        def forward(self, x):
            m = x.flatten(1).mean(1)
            return torch.stack([m, -m], 1)

    mix = sample_mix(Overflowing(), Bright(), torch.zeros(4, 3))
    assert mix.tolist() == [0.75, 0.25]  # the NaN sample is background (-1): dark, not the argmax of NaN logits (0)
    x, n_bad = finite_images(Overflowing().generate(torch.zeros(4, 3)))
    assert n_bad == 1 and torch.isfinite(x).all() and (x[0] == -1).all() and (x[1:] == 0.5).all()
    # Asked apart: the overflowed sample has a slot of its own and is not classified.
    assert sample_mix(Overflowing(), Bright(), torch.zeros(4, 3), overflow=True).tolist() == [0.75, 0.0, 0.25]


def test_prior_weights_avoid_a_component_whose_samples_overflow():
    """Two components of class 0, one of which overflows on half its samples (blank images a classifier would call
    class 0 too): with overflow as a column of its own, aimed at 0, the fit puts the class's weight on the other."""
    from genredact.methods.taming import _mix_weights

    confusion = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    w = _mix_weights(confusion, np.array([0.5, 0.5, 0.0]))
    assert w[0] < 1e-3 and w[1:] == pytest.approx([0.5, 0.5], abs=1e-3), w


def test_debias_stream_stays_within_its_bounds():
    from genredact.methods.taming import _clamp_shares

    data = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    wound = torch.tensor([0.97, 0.03, 0.0, 0.0], dtype=torch.float64)  # a stream wound up onto one class
    out = _clamp_shares(wound, data / 4, data * 4)
    assert out.sum() == pytest.approx(1.0)
    assert (out >= data / 4 - 1e-12).all() and (out <= data * 4 + 1e-12).all(), out
    assert out[0] > out[1] > out[2] >= out[3]  # the correction's order is kept
    inside = torch.tensor([0.4, 0.35, 0.2, 0.05], dtype=torch.float64)
    assert torch.allclose(_clamp_shares(inside, data / 4, data * 4), inside)  # nothing to clamp: unchanged


def test_self_forget_lowers_the_class_share(tiny_flow, flow_data, tiny_classifier):
    """Class mode with self_forget: the model's own samples of the class join the forget batches."""
    from genredact.methods._flow import sample_mix

    target = ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny")
    z = tiny_flow.latents(1000, generator=make_generator(9), temperature=0.7)
    before = sample_mix(tiny_flow, tiny_classifier, z)[1]
    opts = dict(steps=60, lr=2e-3, share_every=10, mix_samples=400, share_goal=0.01, remember_tol=None, **FAST)
    edited, log = redact(tiny_flow, target, "taming", data=flow_data, seed=0, progress=False, self_forget=0.5, **opts)
    assert sample_mix(edited, tiny_classifier, z)[1] < before - 0.05, (before, log["class_share_classifier"])
    assert log["self_forget_pool"] == round(log["class_share_classifier"] * 400)  # the class's samples among the 400
    with pytest.raises(GenredactError, match="self_forget must lie in"):
        redact(tiny_flow, target, "taming", data=flow_data, progress=False, self_forget=1.0)
    with pytest.raises(GenredactError, match="self_forget works on a class target"):
        redact(tiny_flow, _indices_target(flow_data, [1, 2]), "taming", data=flow_data, progress=False, self_forget=0.5)


def test_bad_input_gets_one_sentence(tiny_flow, flow_data, tiny_classifier, tiny_gan):
    only_top = flow_data.without([1])
    with pytest.raises(GenredactError, match="forget set is empty"):
        redact(tiny_flow, ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny"), "taming", data=only_top, progress=False)
    with pytest.raises(GenredactError, match="empty"):
        SamplesTarget(images=np.zeros((0, 1, 8, 8), np.uint8), source="none")
    with pytest.raises(GenredactError, match="label 'Sandle' does not exist"):
        resolve_labels("Sandle", ["Sandal", "Bag"])
    with pytest.raises(GenredactError, match="must lie in"):
        parse_mix("Sandal:1.5", ["Sandal", "Bag"])
    with pytest.raises(GenredactError, match="sum to"):
        parse_mix("Sandal:0.5,Bag:0.6", ["Sandal", "Bag"])
    shares = parse_mix('{"Sandal": 0.3}', ["Sandal", "Bag", "Coat"])
    assert shares == (0.3, None, None)
    assert DistributionTarget(classifier=_Named(3), shares=shares).resolve([0.2, 0.6, 0.2]) == pytest.approx([0.3, 0.525, 0.175])
    with pytest.raises(GenredactError, match="one share per class"):
        DistributionTarget(classifier=_Named(3), shares=(0.5, 0.6, None))
    with pytest.raises(GenredactError, match="works on flow models"):
        redact(tiny_gan, _indices_target(flow_data, [1]), "taming", data=flow_data)
    with pytest.raises(GenredactError, match="needs the model's training data"):
        redact(tiny_flow, _indices_target(flow_data, [1]), "taming", data=None)
    with pytest.raises(GenredactError, match="alpha must lie"):
        redact(tiny_flow, _indices_target(flow_data, [1]), "taming", data=flow_data, alpha=2)
    from genredact.targets import parse_target

    with pytest.raises(GenredactError, match="indices= names images of a built-in data set"):
        parse_target("indices=1,2", tiny_flow)


# Metrics --------------------------------------------------------------------------------------------


def test_flow_metric_functions_against_references():
    from scipy.stats import norm, wasserstein_distance

    rng = np.random.default_rng(0)
    b = rng.normal(2, 0.3, 400)
    assert np.allclose(likelihood_quantile(b, 2.0, 0.3), 1 - norm.cdf((b - 2) / 0.3))
    assert membership_auc([1.0, 1.1], [2.0, 3.0]) == 1.0 and membership_auc([3.0], [1.0, 2.0]) == 0.0
    assert membership_auc([1.0, 2.0], [1.0, 2.0]) == 0.5
    other = b + 0.1
    s = bpd_shift(b, other)
    assert s["wasserstein"] == pytest.approx(wasserstein_distance(b, other)) and s["change_pct"] == pytest.approx(100 * 0.1 / b.mean())
    probs = torch.tensor([[0.9, 0.1]] * 30 + [[0.2, 0.8]] * 10)
    mix = class_mix(probs, ["a", "b"])
    assert mix["shares"] == [0.75, 0.25] and mix["low95"][1] < 0.25 < mix["high95"][1]
    # KL with torch.log keeps the gradient of the log-sigma term (math.log would drop it).
    sd = torch.tensor(2.0, requires_grad=True)
    gaussian_kl(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(0.0), sd).backward()
    assert sd.grad == pytest.approx(1 / 2 - 1 / 8)


def test_evaluate_flow_groups_and_mix(tamed, flow_data, tiny_classifier):
    from genredact.flow_evaluation import evaluate_flow

    tiny_flow, target, edited, _, _ = tamed
    ev = evaluate_flow(tiny_flow, edited, target, train=flow_data, test=two_class_data(200, seed=1), judge=tiny_classifier, n=400, mix=True)
    assert set(ev["before"]) >= {"forget", "heldout_same_class", "random_retain", "nearest_neighbour", "forget_in_band"}
    assert ev["after"]["forget"]["quantile"] < ev["before"]["forget"]["quantile"]
    assert ev["after"]["forget_past_band_edge"] == 1.0 and ev["membership_auc"] < ev["membership_auc_before"]
    assert abs(sum(ev["mix_after"]["shares"]) - 1) < 1e-9
    json.dumps({k: v for k, v in ev.items() if k != "arrays"})


# CLI ------------------------------------------------------------------------------------------------


def test_cli_redact_and_sample_a_flow(tiny_flow, flow_data, tiny_classifier, tmp_path, capsys, monkeypatch):
    from PIL import Image

    import genredact.zoo
    from genredact.cli import main

    # Pose as an MNIST model whose judge is the tiny classifier, so the run folder's evaluation runs too.
    tiny_flow.dataset = "mnist"
    monkeypatch.setattr(genredact.zoo, "load_classifier", lambda dataset, role="redaction", device="cpu": tiny_classifier)
    model_dir = save_pretrained(tiny_flow, tmp_path / "flow")
    for c, name in enumerate(flow_data.class_names):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in np.flatnonzero(flow_data.y == c)[:60]:
            Image.fromarray(flow_data.x[i, 0]).save(tmp_path / "data" / name / f"{i}.png")
    (tmp_path / "forget").mkdir()
    Image.fromarray(flow_data.x[np.flatnonzero(flow_data.y == 1)[0], 0]).save(tmp_path / "forget" / "a.png")
    out = tmp_path / "run"
    rc = main(["redact", str(model_dir), "--target", f"samples={tmp_path / 'forget'}", "--method", "taming", "--out", str(out), "--n-eval", "200",
               "--data", str(tmp_path / "data"), "--set", "steps=3", "--set", "stat_images=64", "--quiet"])
    assert rc == 0
    for name in ("config.json", "model/config.json", "model/redaction.json", "metrics.jsonl", "log.json", "evaluation.json", "samples/before.png",
                 "samples/after.png", "plots/bpd_before.png", "plots/bpd_after.png", "report.md"):
        assert (out / name).is_file(), name
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev["n_forget"] == 1 and "forget" in ev["after"] and "retain BPD" in (out / "report.md").read_text()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["checkpoints"]["parent"]["sha256"] == json.loads((out / "model" / "redaction.json").read_text())["parent_sha256"]
    assert main(["report", str(out)]) == 0  # the HTML report from the folder alone, histograms included
    page = (out / "report.html").read_text()
    assert page.count("<img") >= 4 and "plots/bpd_after.png" in page and (out / "report.html").stat().st_size < 5 * 2**20
    # A folder data set lists its classes alphabetically (bottom, top): a mix steered by a classifier of
    # (top, bottom) is refused with one sentence rather than silently mislabelled.
    rc = main(["redact", str(model_dir), "--target", "mix=bottom:0.5", "--method", "taming", "--out", str(tmp_path / "mix"), "--n-eval", "200",
               "--data", str(tmp_path / "data"), "--set", "steps=2", "--quiet"])
    assert rc == 2 and "give a classifier of the same classes" in capsys.readouterr().err and not (tmp_path / "mix").exists()
    assert json.loads((out / "model" / "redaction.json").read_text())["method"] == "taming"
    rc = main(["sample", str(model_dir), "--n", "4", "--temperature", "0.7", "--out", str(tmp_path / "s.npz")])
    assert rc == 0 and np.load(tmp_path / "s.npz")["x"].shape == (4, 8, 8)
    capsys.readouterr()


def test_run_grids_show_a_debiased_prior(tiny_flow, tmp_path):
    """The run folder's after grid samples the edited flow through its own prior: a debias="prior" edit keeps
    the network, so latents of the original's prior would draw the original's samples again."""
    from PIL import Image

    from genredact.run_flow import save_sample_grids

    def grids(edited, name):
        save_sample_grids(tiny_flow, edited, tmp_path / name, seed=3)
        return [np.asarray(Image.open(tmp_path / name / f"{w}.png")) for w in ("before", "after")]

    before, after = grids(copy.deepcopy(tiny_flow), "same")
    assert np.array_equal(before, after)  # a standard normal prior: the same latents before and after
    edited = copy.deepcopy(tiny_flow)
    edited.use_mixture_prior(1).set(torch.ones(1), torch.full((1, edited.dim), 1.5), torch.full((1, edited.dim), 0.2))
    before, after = grids(edited, "prior")
    assert not np.array_equal(before, after)  # the mixture prior's own latents


def test_likelihood_membership_sees_the_forget_images_pushed_out(tamed, flow_data, tiny_classifier):
    """Tamed on three class-1 training images: after, those images are less likely than unseen class-1
    images (AUC falls); the pre-trained flow's AUC for them stays where memorisation puts it."""
    from genredact.audit import audit, summary_record

    original, target, edited, log, _ = tamed
    unseen = two_class_data(n=256, seed=7)
    res = audit(edited, labels=(1,), attacks=["likelihood-membership"], reference={"pretrained": original}, judge=tiny_classifier,
                heldout=unseen, train=flow_data, forget=target.images, progress=False)["likelihood-membership"]
    before, after = res["models"]["pretrained"], res["models"]["redacted"]
    assert after["n_forget"] == 3 and after["forget_bpd"] > before["forget_bpd"] + 0.1
    assert after["auc"] < before["auc"] and after["auc"] <= 0.2
    assert abs(after["retain_auc"] - before["retain_auc"]) < 0.15  # the other classes' membership signal barely moves
    rec = summary_record("likelihood-membership", res)
    assert rec["auc"] == after["auc"] and rec["base_auc"] == before["auc"]


@pytest.fixture(scope="module")
def flow_never_saw_1(flow_data) -> FlowModel:
    model, _ = train_flow(flow_data.without([1]), TINY, progress=False, device="cpu")
    return model


def test_latent_search_on_flows_finds_the_class_only_where_it_exists(tiny_flow_trained, flow_never_saw_1, flow_data, tiny_classifier):
    from genredact.audit import audit

    clean = flow_never_saw_1
    cfg = {"latent-search": {"restarts": 32, "steps": 30, "lr": 0.05, "shift": 0, "manifold_k": 0}}
    res = audit(clean, labels=(1,), attacks=["latent-search"], reference={"pretrained": tiny_flow_trained}, judge=tiny_classifier,
                heldout=flow_data, configs=cfg, progress=False)["latent-search"]
    base, never = res["models"]["pretrained"], res["models"]["redacted"]
    assert base["success_rate"] >= 0.5 and never["success_rate"] < base["success_rate"] - 0.3


def test_relearn_on_flows_brings_the_class_back_to_a_flow_that_never_had_it(tiny_flow_trained, flow_never_saw_1, flow_data, tiny_classifier):
    from genredact.audit import audit

    clean = copy.deepcopy(flow_never_saw_1)
    cfg = {"relearn": {"n_images": 10, "max_steps": 60, "eval_every": 10, "eval_n": 300, "batch_size": 10, "lr": 5e-3}}
    res = audit(clean, labels=(1,), attacks=["relearn"], reference={"pretrained": tiny_flow_trained}, judge=tiny_classifier,
                heldout=flow_data, configs=cfg, progress=False)["relearn"]
    base, never = res["models"]["pretrained"], res["models"]["redacted"]
    assert base["relearn_steps"] == 0 and never["start_rate"] < res["config"]["threshold"]
    assert never["final_rate"] > never["start_rate"]  # the flow's own loss on ten images moves it toward the class


def test_sample_turns_overflowed_pixels_into_background_with_a_warning(tiny_flow):
    broken = copy.deepcopy(tiny_flow)
    plain = broken.generate
    broken.generate = lambda z: torch.where((z[:, :1] > 1.0).view(-1, 1, 1, 1), torch.nan, plain(z))
    with pytest.warns(RuntimeWarning, match="non-finite pixels"):
        x = broken.sample(200, generator=make_generator(0), temperature=1.0)
    assert torch.isfinite(x).all() and (x >= -1).all() and (x <= 1).all()
    hit = (x == -1).flatten(1).all(1)  # the overflowed samples are background through and through
    assert 10 <= int(hit.sum()) <= 60


@pytest.mark.parametrize("method,spec", [("taming", "images"), ("taming", "class"), ("taming", "mix"), ("likelihood-ascent", "images"), ("finetune-valid", "class")])
def test_flow_methods_run_under_bf16(method, spec, tiny_flow, flow_data, tiny_classifier):
    """`--precision bf16` on flows: the steps run under autocast; weights stay float32 and finite."""
    if spec == "images":
        target = _indices_target(flow_data, np.flatnonzero(flow_data.y == 1)[:3])
    elif spec == "class":
        target = ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny")
    else:
        target = DistributionTarget(classifier=tiny_classifier, shares=(0.7, 0.3), source="tiny")
    opts = {"steps": 4, **(FAST if method == "taming" else {}), **({"debias": "resample"} if spec == "mix" else {})}  # a mode that trains
    edited, log = redact(tiny_flow, target, method, data=flow_data, seed=0, progress=False, precision="bf16", **opts)
    assert log["precision"] == "bf16" and log["steps"] >= 1
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in edited.state_dict().values() if v.is_floating_point())


def test_debias_correction_steers_open_classes_as_one_group():
    from genredact.methods.taming import _mix_correction

    p = np.array([0.10, 0.50, 0.40])  # measured: class 0 named (wanted 0.3), classes 1 and 2 left open
    q = np.array([0.30, 0.35, 0.35])
    err, corr = _mix_correction(p, q)
    assert err == pytest.approx(0.20) and corr == pytest.approx(np.log(p / q))  # each class toward its own share
    err, corr = _mix_correction(p, q, np.array([False, True, True]))
    # The open pair is 0.9 against 0.7 wanted: both get the group's correction, whatever their split.
    assert err == pytest.approx(0.20) and corr == pytest.approx([np.log(0.1 / 0.3), np.log(0.9 / 0.7), np.log(0.9 / 0.7)])
    _, corr = _mix_correction(np.array([0.0005, 0.9995, 0.0]), q, np.array([False, True, True]))
    assert corr[0] == -3.0  # a (nearly) empty class gets the bounded correction, not -inf


def test_evaluate_sets_overflowed_flow_pixels_to_background_with_a_warning(tiny_flow, flow_data, tiny_classifier):
    """A flow's inverse can overflow far out in latent space (the zoo's MNIST flow at temperature 1 does, about
    one sample in 200); `evaluate` used to pass those pixels to the judge, whose NaN probabilities then stopped the
    evaluation with a traceback (`genredact eval mnist-flow`)."""
    from genredact.evaluation import evaluate

    clean = tiny_flow.generate

    def overflowing(z):
        x = clean(z).clone()
        x[::7, :, :2] = float("inf")
        x[1::7, :, 3] = float("nan")
        return x

    kw = dict(labels=[1], judge=tiny_classifier, real=flow_data, n=300, kid_subsets=2)
    tiny_flow.generate = overflowing
    with pytest.warns(RuntimeWarning, match=r"^86 of the judged samples had non-finite pixels"):
        res = evaluate(tiny_flow, **kw)
    assert all(math.isfinite(res[k]) for k in ("residual_rate", "fid", "kid", "precision", "recall"))
    # the same samples with those pixels set to background by hand give the same figures
    tiny_flow.generate = lambda z: torch.nan_to_num(overflowing(z), nan=-1.0, posinf=-1.0)
    assert evaluate(tiny_flow, **kw)["fid"] == res["fid"]


def test_a_class_share_is_measured_on_2000_samples_whatever_the_debias_default():
    # debias="prior" (the default since 2026-11-25) measures a mix on 10,000 samples; a class's share, measured every
    # share_every steps of a fine-tuning run, stayed at 2000 (it took 10,000 from that default until 2026-12-07).
    from genredact.methods.taming import TamingMethod

    cfg = TamingMethod.Config()
    assert cfg.debias == "prior" and cfg.samples() == 10000 and cfg.samples(share=True) == 2000
    assert TamingMethod.Config(debias="resample").samples() == 2000
    assert TamingMethod.Config(mix_samples=300).samples(share=True) == 300 == TamingMethod.Config(mix_samples=300).samples()
