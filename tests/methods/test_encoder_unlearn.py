"""The image-to-image family and encoder unlearning on tiny inpainters (8x8 two-class data)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from genredact.api import redact
from genredact.checkpoint import load_pretrained, save_pretrained
from genredact.data import ImageData, to_float
from genredact.errors import GenredactError
from genredact.methods.encoder_unlearn import EncoderUnlearnMethod
from genredact.metrics.i2i import evaluate_i2i, psnr_in_hole
from genredact.models import build_inpainter
from genredact.models.inpainter import make_mask
from genredact.targets import ClassifierTarget
from genredact.zoo.inpainter_recipes import InpainterRecipe, train_inpainter
from tests.conftest import two_class_data

FAST = {"steps": 30, "batch_size": 16, "lr": 3e-3}
BASELINES = ("max-loss", "noisy-label", "retain-label", "random-encoder")


@pytest.fixture(scope="module", params=["tiny-conv", "tiny-mae"])
def tiny_inpainter_trained(request, tiny_data):
    model, _ = train_inpainter(tiny_data, InpainterRecipe(arch=request.param, steps=60, batch_size=32, lr=1e-2), progress=False)
    return model


@pytest.fixture
def inpainter(tiny_inpainter_trained):
    return copy.deepcopy(tiny_inpainter_trained)


def _target(clf):
    return ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny")


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_masks_centre_outpaint_random():
    c = make_mask(2, 8, 8, kind="center", size=0.5)
    assert c.shape == (2, 1, 8, 8) and c.sum().item() == 2 * 16 and c[0, 0, 2:6, 2:6].all()
    o = make_mask(1, 8, 8, kind="outpaint", size=0.25)
    assert o.sum().item() == 64 - 16 and o[0, 0, 2:6, 2:6].sum().item() == 0
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    r1, r2 = make_mask(32, 8, 8, kind="random", size=0.5, generator=g1), make_mask(32, 8, 8, kind="random", size=0.5, generator=g2)
    assert torch.equal(r1, r2) and len({tuple(m.flatten().tolist()) for m in r1}) > 2
    for kind, size, msg in (("circle", 0.5, "unknown mask kind"), ("center", 1.5, "must lie in"), ("outpaint", 0.5, "must lie in")):
        with pytest.raises(GenredactError, match=msg):
            make_mask(1, 8, 8, kind=kind, size=size)


def test_adapter_round_trip_and_composite(inpainter, tiny_data, tmp_path):
    x = to_float(tiny_data.x[:4])
    out = inpainter(x, kind="center", size=0.5)
    _, m = inpainter.mask(x, kind="center", size=0.5)
    assert out.shape == x.shape and torch.equal(out * (1 - m), x * (1 - m))  # known pixels are copied
    save_pretrained(inpainter, tmp_path / "m")
    back = load_pretrained(tmp_path / "m")
    assert torch.equal(back(x), inpainter.eval()(x))
    with pytest.raises(GenredactError, match="draws no samples"):
        inpainter.sample(2)
    with pytest.raises(GenredactError, match="takes images of shape"):
        inpainter(torch.zeros(1, 1, 6, 6))


def test_base_inpainter_beats_mean_fill(inpainter, tiny_data):
    x = to_float(tiny_data.x[:200])
    xm, m = inpainter.mask(x, kind="center", size=0.5)
    with torch.no_grad():
        ours = psnr_in_hole(inpainter.inpaint(xm, m), x, m).mean()
    assert ours > psnr_in_hole(xm, x, m).mean() + 3  # better than filling the hole with grey


def test_encoder_unlearn_freezes_decoder_and_input(inpainter, tiny_classifier, tiny_data):
    before = _state(inpainter)
    edited, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, **FAST)
    for k, v in inpainter.state_dict().items():
        assert torch.equal(v, before[k]), f"the input model's {k} changed"
    for k, v in edited.decoder.state_dict().items():
        assert torch.equal(v, before[f"decoder.{k}"]), f"decoder {k} changed"
    assert any(not torch.equal(v, before[f"encoder.{k}"]) for k, v in edited.encoder.state_dict().items())
    assert log["steps"] == FAST["steps"] and log["forget_images"] == int((tiny_data.y == 1).sum())
    assert log["retain_images"] == int((tiny_data.y == 0).sum())


def test_forget_term_falls_retain_term_stays_small(inpainter, tiny_classifier, tiny_data):
    _, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, **{**FAST, "steps": 60, "lr": 1e-2, "alpha": 1.0})
    hist = log["history"]
    first, last = hist[0], hist[-1]
    assert last["forget"] < 0.7 * first["forget"], (first, last)
    assert max(h["retain"] for h in hist) < 0.5 * first["forget"]


def test_teacher_and_student_share_masks_and_teacher_is_frozen(inpainter, tiny_classifier, tiny_data, monkeypatch):
    """Record every mask the encoders see; the retain half of the student's batch must be exactly the
    masks the teacher saw for the same images, and the noise image gets its forget image's mask."""
    calls = []
    orig = type(inpainter).encode

    def spy(self, xm, m):
        calls.append((self.encoder.training, any(p.requires_grad for p in self.encoder.parameters()), xm.detach().clone(), m.detach().clone()))
        return orig(self, xm, m)

    monkeypatch.setattr(type(inpainter), "encode", spy)
    redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, steps=2, batch_size=8)
    assert len(calls) == 6  # per step: teacher(retain), student(forget+retain), teacher(noise)
    for s in range(2):
        t_r, st, t_n = calls[3 * s], calls[3 * s + 1], calls[3 * s + 2]
        assert not t_r[1] and not t_n[1] and st[1]  # teacher has no trainable parameter
        assert torch.equal(st[3][4:], t_r[3]) and torch.equal(st[2][4:], t_r[2])
        assert torch.equal(st[3][:4], t_n[3])
        assert torch.equal(t_n[2] * t_n[3], torch.zeros_like(t_n[2]))  # the noise image is masked too


def test_same_seed_same_weights(inpainter, tiny_classifier, tiny_data):
    a, _ = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=3, progress=False, **FAST)
    b, _ = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=3, progress=False, **FAST)
    c, _ = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=4, progress=False, **FAST)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_forget_to_classifier_steers_forget_outputs_out_of_the_class(inpainter, tiny_classifier, tiny_data, tmp_path):
    """forget_to=classifier (beyond the paper): the forget images' outputs leave the forget class under every
    steering classifier (the target's and the one named in steer), the decoder and the input model are
    untouched, and the retain outputs stay nearer the teacher's than the forget outputs do."""
    from tests.conftest import train_tiny_classifier

    other = train_tiny_classifier(tiny_data, seed=1)
    save_pretrained(other, tmp_path / "other")
    before = _state(inpainter)
    opts = {**FAST, "steps": 60, "lr": 1e-2, "alpha": 1.0, "mask": "center", "mask_size": 0.75}  # a 6x6 hole: the fill can decide the class
    edited, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False,
                         forget_to="classifier", steer=str(tmp_path / "other"), **opts)
    assert log["steered_by"] == ["tiny", str(tmp_path / "other")]
    assert all(torch.equal(v, before[k]) for k, v in inpainter.state_dict().items())
    assert all(torch.equal(v, before[f"decoder.{k}"]) for k, v in edited.decoder.state_dict().items())
    x_f, x_r = to_float(tiny_data.x[tiny_data.y == 1][:200]), to_float(tiny_data.x[tiny_data.y == 0][:200])
    with torch.no_grad():
        (xm_f, m_f), (xm_r, m_r) = inpainter.mask(x_f, kind="center", size=0.75), inpainter.mask(x_r, kind="center", size=0.75)
        t_f, s_f = inpainter.eval().inpaint(xm_f, m_f), edited.eval().inpaint(xm_f, m_f)
        t_r, s_r = inpainter.inpaint(xm_r, m_r), edited.inpaint(xm_r, m_r)
        for clf in (tiny_classifier, other):
            p_t, p_s = (torch.softmax(clf(o), 1)[:, 1].mean().item() for o in (t_f, s_f))
            assert p_t > 0.5 and p_s < 0.5 * p_t, (p_t, p_s)
    assert (s_r - t_r).abs().mean() < 0.5 * (s_f - t_f).abs().mean()
    # The paper's noise target logs no steering classifiers; 'none' steers by the target's alone.
    _, plain = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, **FAST)
    _, alone = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, forget_to="classifier", steer="none", **FAST)
    assert "steered_by" not in plain and alone["steered_by"] == ["tiny"]


def test_forget_to_classifier_refuses_the_judge_and_bad_options(inpainter, tiny_classifier, tiny_data):
    from genredact.zoo import load_model

    run = dict(data=tiny_data, seed=0, progress=False, steps=1, batch_size=8)
    with pytest.raises(GenredactError, match="forget_to must be"):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", forget_to="labels", **run)
    with pytest.raises(GenredactError, match="steer names the classifiers"):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", steer="none", **run)
    with pytest.raises(GenredactError, match="has its own forget term"):
        redact(inpainter, _target(tiny_classifier), "max-loss", forget_to="classifier", **run)
    with pytest.raises(GenredactError, match="classes but the target's has 2"):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", forget_to="classifier", steer="mnist-classifier", **run)
    inpainter.dataset = "mnist"  # a model of a zoo data set: steering by its evaluation judge is refused
    judge = ClassifierTarget(classifier=load_model("mnist-judge"), target_labels=(1,), source="my-copy")
    with pytest.raises(GenredactError, match="my-copy is the zoo's evaluation judge for mnist"):
        redact(inpainter, judge, "encoder-unlearn", forget_to="classifier", steer="none", **run)


def test_forget_term_keeps_a_gradient_where_the_classifier_is_sure():
    from genredact.methods.encoder_unlearn import _log_not_forget

    logits = torch.tensor([[0.3, -0.2, 1.1], [40.0, 0.0, -3.0]], requires_grad=True)  # the second: p(class 0) rounds to 1
    got = _log_not_forget(logits, [0])
    assert torch.allclose(got[0], torch.log1p(-torch.softmax(logits[0], 0)[0]))
    assert torch.isfinite(got).all() and got[1] < -39  # log(1 - p) = -40.0000..., not log(0)
    got.sum().backward()
    assert torch.isfinite(logits.grad).all() and logits.grad[1, 0] < -0.99  # pushing class 0's logit down still pays


def test_stop_p_ends_the_run_once_the_steering_classifiers_no_longer_see_the_class(inpainter, tiny_classifier, tiny_data):
    opts = {**FAST, "steps": 60, "lr": 1e-2, "alpha": 1.0, "mask": "center", "mask_size": 0.75, "forget_to": "classifier", "steer": "none"}
    run = dict(data=tiny_data, seed=0, progress=False)
    _, full = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", **run, **opts)
    assert full["steps"] == 60 and not full["stopped_early"] and "stop_checks" not in full  # stop_p 0: every step
    edited, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", stop_p=0.3, check_every=5, **run, **opts)
    checks = log["stop_checks"]
    assert log["stopped_early"] and 0 < log["steps"] < 60 and log["steps"] == checks[-1][0], checks
    assert [s for s, _, _ in checks] == list(range(0, log["steps"] + 1, 5)) and checks[0][2] == 0.0  # step 0: the teacher's own fills
    # It stops at the first check under the forget bar where the retain fills have not moved farther since the check before.
    assert checks[-1][1] <= 0.3 and checks[-1][2] <= checks[-2][2], checks
    assert all(p > 0.3 or moved > before for (_, p, moved), (_, _, before) in zip(checks[1:-1], checks[:-2])), checks
    # Forget outputs already out of the class (by this bar): the model is left as it was.
    before = _state(edited)
    same, log = redact(edited, _target(tiny_classifier), "encoder-unlearn", stop_p=0.5, **run, **opts)
    assert log["steps"] == 0 and log["stopped_early"] and all(torch.equal(v, before[k]) for k, v in same.state_dict().items())
    with pytest.raises(GenredactError, match="stop_p reads the steering classifiers"):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", stop_p=0.1, **run, **FAST)
    with pytest.raises(GenredactError, match="stop_p must lie in"):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", forget_to="classifier", stop_p=1.5, **run, **FAST)


class _Killed(Exception):
    pass


def test_stop_p_resumed_after_a_kill_stops_where_the_whole_run_does(inpainter, tiny_classifier, tiny_data, tmp_path, monkeypatch):
    """The checks are loop state: a run killed between two checks compares its next check with the one
    before the kill, as the uninterrupted run does (it used to start afresh and take any check under the bar)."""
    from genredact.engine.loop import Loop
    from genredact.engine.resume import resumable

    opts = {**FAST, "steps": 60, "lr": 1e-2, "alpha": 1.0, "mask": "center", "mask_size": 0.75, "forget_to": "classifier", "steer": "none",
            "stop_p": 0.45, "check_every": 3}
    run = dict(data=tiny_data, seed=0, progress=False, **opts)
    base = _state(inpainter)
    whole, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", **run)
    checks = log["stop_checks"]
    # the case that matters: a check under the bar where the retain fills still moved away, so the run went on
    passed = [c for c, prev in zip(checks[1:], checks) if c[1] <= 0.45 and c[2] > prev[2]]
    assert passed, checks
    kill_at = passed[0][0] - 1
    orig = Loop.run

    def killed_run(self, step, **kw):
        def guarded(i):
            if i == kill_at:
                raise _Killed
            return step(i)
        return orig(self, guarded, **kw)

    monkeypatch.setattr(Loop, "run", killed_run)
    with pytest.raises(_Killed), resumable(tmp_path / "out", resume=False, fingerprint={"t": 1}, every_s=0, echo=lambda s: None):
        redact(inpainter, _target(tiny_classifier), "encoder-unlearn", **run)
    monkeypatch.setattr(Loop, "run", orig)
    with resumable(tmp_path / "out", resume=True, fingerprint={"t": 1}, every_s=0, echo=lambda s: None):
        resumed, rlog = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", **run)
    assert rlog["steps"] == log["steps"] and rlog["stop_checks"] == checks
    assert all(torch.equal(v, whole.state_dict()[k]) for k, v in resumed.state_dict().items())
    assert all(torch.equal(v, base[k]) for k, v in inpainter.state_dict().items())


@pytest.mark.parametrize("method", BASELINES)
def test_each_baseline_edits_only_the_encoder(method, inpainter, tiny_classifier, tiny_data):
    before = _state(inpainter)
    edited, log = redact(inpainter, _target(tiny_classifier), method, data=tiny_data, seed=0, progress=False, **FAST)
    assert all(torch.equal(v, before[f"decoder.{k}"]) for k, v in edited.decoder.state_dict().items())
    assert any(not torch.equal(v, before[f"encoder.{k}"]) for k, v in edited.encoder.state_dict().items())
    assert log["steps"] == FAST["steps"] and np.isfinite(log["history"][-1]["loss"])


def test_proxy_retain_folder_and_retrain(inpainter, tiny_classifier, tiny_data, tmp_path):
    from PIL import Image

    for i, img in enumerate(tiny_data.x[:20]):
        (tmp_path / "proxy" / "any").mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - img[0]).save(tmp_path / "proxy" / "any" / f"{i}.png")
    _, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, retain=f"proxy:{tmp_path / 'proxy'}", **FAST)
    assert log["retain_images"] == 20 and log["retain_source"].startswith("proxy")
    flat = tmp_path / "proxy" / "any"  # a flat folder of images works too
    _, log = redact(inpainter, _target(tiny_classifier), "encoder-unlearn", data=tiny_data, seed=0, progress=False, retain=f"proxy:{flat}", steps=2, batch_size=8)
    assert log["retain_images"] == 20
    new, rlog = redact(inpainter, _target(tiny_classifier), "retrain", data=tiny_data, seed=0, progress=False, steps=5, batch_size=16)
    assert rlog["train_images"] == int((tiny_data.y == 0).sum()) and new.encoder is not inpainter.encoder


def test_refined_proxy_is_the_teachers_fill_without_forget_content(inpainter, tiny_classifier, tiny_data, tmp_path):
    from PIL import Image

    from genredact.methods.encoder_unlearn import refine_proxy

    (tmp_path / "proxy").mkdir()
    for i, img in enumerate(tiny_data.x[:40]):
        Image.fromarray(255 - img[0]).save(tmp_path / "proxy" / f"{i}.png")
    proxy = ImageData("p", (255 - tiny_data.x[:40]).astype(np.uint8), np.zeros(40, np.int64), ("proxy",))
    t = _target(tiny_classifier)
    refined = refine_proxy(inpainter, proxy, 3, 30, t, torch.Generator().manual_seed(0))
    again = refine_proxy(inpainter, proxy, 3, 30, t, torch.Generator().manual_seed(0))
    assert np.array_equal(refined.x, again.x) and 0 < len(refined) <= 30  # a draw of 30, forget-class fills dropped
    assert bool(t.valid(to_float(refined.x)).all())
    # The teacher has filled every image: none is left as a proxy image.
    assert not any(np.array_equal(r, p) for r in refined.x for p in proxy.x)
    _, log = redact(inpainter, t, "encoder-unlearn", data=tiny_data, seed=0, progress=False, retain=f"proxy:{tmp_path / 'proxy'}", refine=3, refine_images=30, **FAST)
    assert 0 < log["retain_images"] <= 30 and "refined by 3 rounds" in log["retain_source"]
    with pytest.raises(GenredactError, match="proxy retain set only"):
        redact(inpainter, t, "encoder-unlearn", data=tiny_data, seed=0, progress=False, refine=2, steps=1)


def test_i2i_metrics_separate_forget_and_retain(inpainter, tiny_classifier, tiny_data):
    res = evaluate_i2i(inpainter, tiny_data, (1,), tiny_classifier, masks=(("center", 0.5), ("outpaint", 0.25)))
    assert set(res) == {"center-0.5", "outpaint-0.25"}
    for split in ("forget", "retain"):
        r = res["center-0.5"][split]
        assert set(r) == {"n", "fid", "acc", "cos", "psnr"} and 0 <= r["acc"] <= 1 and r["fid"] >= 0
    assert res["center-0.5"]["forget"]["n"] == int((tiny_data.y == 1).sum())


def test_bad_input_is_one_sentence(tiny_classifier, tiny_data, tmp_path):
    from PIL import Image

    (tmp_path / "small" / "a").mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "small" / "a" / "0.png")
    inpainter = build_inpainter("tiny-conv", image_shape=(1, 8, 8), dataset="two-class", class_names=list(tiny_data.class_names))
    t = _target(tiny_classifier)
    cases = [
        (dict(data=tiny_data.without([1])), "forget set is empty"),
        (dict(data=tiny_data, retain=f"proxy:{tmp_path / 'small'}"), "have shape"),
        (dict(data=tiny_data, retain="elsewhere"), "retain must be"),
        (dict(data=tiny_data, mask="circle"), "unknown mask kind"),
        (dict(data=tiny_data, mask="center", mask_size=2.0), "must lie in"),
        (dict(data=tiny_data, batch_size=7), "even number"),
        (dict(data=tiny_data.only([1])), "no retain images"),
        (dict(data=None), "needs the forget images"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(GenredactError, match=msg) as err:
            redact(inpainter, t, "encoder-unlearn", seed=0, progress=False, steps=1, **kwargs)
        assert "\n" not in str(err.value)
    with pytest.raises(GenredactError, match="label 7 does not exist"):
        ClassifierTarget(classifier=tiny_classifier, target_labels=(7,))
    with pytest.raises(GenredactError, match="works on inpainter models"):
        EncoderUnlearnMethod.check_pair(torch.nn.Linear(1, 1), t)


def test_build_inpainter_rejects_unknown_arch():
    with pytest.raises(GenredactError, match="unknown inpainter network"):
        build_inpainter("unet", image_shape=(1, 8, 8))
    m = build_inpainter("tiny-conv", image_shape=(1, 8, 8))
    assert isinstance(ImageData, type) and m.family == "inpainter"


def test_i2i_leak_finds_the_class_where_the_model_still_completes_it(inpainter, tiny_classifier, tiny_data):
    """A model retrained without class 1 completes class-1 images as class 0 under the hardest masks; the
    original completes them as class 1. The worst case over masks tells them apart; retain accuracy stays."""
    from genredact.audit import audit, summary_record

    recipe = InpainterRecipe(arch="tiny-conv", steps=60, batch_size=32, lr=1e-2)
    retrained, _ = train_inpainter(tiny_data.without([1]), recipe, progress=False)
    masks = (("center", 0.75), ("outpaint", 0.25), ("random", 0.5))
    res = audit(retrained, labels=(1,), attacks=["i2i-leak"], reference={"pretrained": inpainter}, judge=tiny_classifier, heldout=two_class_data(n=400, seed=3),
                configs={"i2i-leak": {"masks": masks, "n_images": 100}}, progress=False)["i2i-leak"]
    base, clean = res["models"]["pretrained"], res["models"]["redacted"]
    assert set(clean["masks"]) == {"center-0.75", "outpaint-0.25", "random-0.5"}
    assert clean["max_forget_acc"] < base["max_forget_acc"]
    assert clean["masks"]["center-0.75"]["forget_acc"] < 0.5 < base["masks"]["center-0.75"]["forget_acc"]
    assert clean["mean_retain_acc"] > 0.9
    rec = summary_record("i2i-leak", res)
    assert rec["max_forget_acc"] == clean["max_forget_acc"] and rec["base_max_forget_acc"] == base["max_forget_acc"]


def test_relearn_on_inpainters_measures_completions_of_the_class(inpainter, tiny_classifier, tiny_data):
    from genredact.audit import audit

    retrained, _ = train_inpainter(tiny_data.without([1]), InpainterRecipe(arch="tiny-conv", steps=60, batch_size=32, lr=1e-2), progress=False)
    cfg = {"relearn": {"n_images": 10, "max_steps": 40, "eval_every": 10, "eval_n": 100, "batch_size": 10, "lr": 1e-2, "mask": "center", "mask_size": 0.75}}
    res = audit(retrained, labels=(1,), attacks=["relearn"], reference={"pretrained": inpainter}, judge=tiny_classifier, heldout=two_class_data(n=400, seed=3),
                configs=cfg, progress=False)["relearn"]
    base, clean = res["models"]["pretrained"], res["models"]["redacted"]
    assert base["relearn_steps"] == 0 and base["start_rate"] > 0.5 > clean["start_rate"]
    assert clean["final_rate"] >= clean["start_rate"]


@pytest.mark.parametrize("method", ("encoder-unlearn",) + BASELINES)
def test_i2i_methods_run_under_bf16(method, inpainter, tiny_classifier, tiny_data):
    """`--precision bf16` on inpainters: the steps run under autocast; the encoder stays float32 and finite."""
    edited, log = redact(inpainter, _target(tiny_classifier), method, data=tiny_data, seed=0, progress=False, precision="bf16", **{**FAST, "steps": 4})
    assert log["precision"] == "bf16"
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in edited.state_dict().values() if v.is_floating_point())
