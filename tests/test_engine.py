"""The shared loop: history, early stop, atomic checkpoints, and the NaN / divergence guard."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from genredact.engine import Loop
from genredact.errors import TrainingDivergedError


def _linear_task(loop, seed=0, bad_at=None):
    """A tiny regression loop whose batches come from a registered generator."""
    torch.manual_seed(seed)
    net = nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), 0.05)
    rng = torch.Generator().manual_seed(seed)
    running = {"ema": 0.0}

    def step(i):
        x = torch.randn(8, 3, generator=rng)
        loss = (net(x) - x.sum(1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loop.backward(loss)
        opt.step()
        running["ema"] = 0.9 * running["ema"] + 0.1 * loss.item()
        if bad_at is not None and i in bad_at:
            bad_at.discard(i)
            return {"loss": float("nan")}
        return {"loss": loss.item()}

    return net, step, {"net": net, "opt": opt, "rng": rng, "running": running}


def test_runs_and_logs():
    loop = Loop(steps=6, progress=False, log_every=2, device="cpu")
    net, step, state = _linear_task(loop)
    res = loop.run(step, state=state)
    assert res.steps == 6 and [h["step"] for h in res.history] == [0.0, 2.0, 4.0, 5.0]
    assert res.history[-1]["loss"] < res.history[0]["loss"] and not res.recoveries


class Killed(Exception):
    pass


@pytest.mark.parametrize("kill_at", [1, 7, 19])
def test_resume_is_bit_identical(tmp_path, kill_at):
    from genredact.engine.resume import resumable, resume_dir

    def run(kill=None, resume=False):
        with resumable(tmp_path / "out", resume=resume, fingerprint={"task": "linear"}, every_s=0, echo=lambda s: None):
            results = []
            for seed in (0, 1):  # two loops in one run: the first finished, the second interrupted
                loop = Loop(steps=20, progress=False, device="cpu", desc=f"loop {seed}")
                net, step, state = _linear_task(loop, seed)

                def guarded(i, step=step, seed=seed):
                    if kill is not None and seed == 1 and i == kill:
                        raise Killed
                    return step(i)

                res = loop.run(guarded, state=state)
                results.append((net.weight.detach().clone(), state["running"]["ema"], res.steps, len(res.history)))
            return results

    whole = run()
    assert not resume_dir(tmp_path / "out").exists()  # removed on success
    with pytest.raises(Killed):
        run(kill=kill_at)
    assert (resume_dir(tmp_path / "out") / "001-loop.safetensors").exists()
    assert not list(resume_dir(tmp_path / "out").glob(".*tmp"))
    resumed = run(resume=True)
    for (w1, e1, s1, h1), (w2, e2, s2, h2) in zip(whole, resumed):
        assert torch.equal(w1, w2) and e1 == e2 and (s1, h1) == (s2, h2)


def test_resume_refuses_other_arguments(tmp_path):
    from genredact.engine.resume import resumable
    from genredact.errors import GenredactError

    with pytest.raises(Killed):
        with resumable(tmp_path / "out", resume=False, fingerprint={"steps": 20}, every_s=0, echo=lambda s: None):
            raise Killed
    with pytest.raises(GenredactError, match=r"other arguments \(steps\)"):
        with resumable(tmp_path / "out", resume=True, fingerprint={"steps": 30}, echo=lambda s: None):
            pass


def test_state_codec_round_trips_types():
    from genredact.engine.state import pack, unpack

    value = {0: {"step": torch.tensor(3.0), "m": torch.ones(2, 2)}, "groups": [{"betas": (0.5, 0.999), "lr": 1e-3, "n": 2}],
             "arr": np.arange(4, dtype=np.float32), "none": None, "flag": True}
    tensors = {}
    back = unpack(json.loads(json.dumps(pack(value, tensors))), tensors)
    assert set(back) == {0, "groups", "arr", "none", "flag"} and back["groups"][0]["betas"] == (0.5, 0.999)
    assert isinstance(back["groups"][0]["n"], int) and torch.equal(back[0]["m"], torch.ones(2, 2))
    assert np.array_equal(back["arr"], np.arange(4, dtype=np.float32)) and back["flag"] is True


def test_divergence_recovers_once_with_half_the_learning_rate():
    loop = Loop(steps=30, progress=False, device="cpu", snapshot_every=10)
    net, step, state = _linear_task(loop, bad_at={14})
    res = loop.run(step, state=state)
    assert res.steps == 30 and len(res.recoveries) == 1
    rec = res.recoveries[0]
    assert rec["step"] == 14 and rec["restored_step"] == 10 and rec["lr_factor"] == 0.5
    assert state["opt"].param_groups[0]["lr"] == pytest.approx(0.025)


def test_divergence_twice_stops_with_clear_message():
    loop = Loop(steps=30, progress=False, device="cpu", snapshot_every=10)
    net, step, state = _linear_task(loop, bad_at={14, 22})
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 22 .*again after going back to step 10 with the learning rate halved"):
        loop.run(step, state=state)


def test_early_stop():
    loop = Loop(steps=10, progress=False, device="cpu")
    res = loop.run(lambda i: {"loss": 1.0}, stop=lambda i: "band reached" if i == 4 else "")
    assert res.steps == 4 and res.stopped_early and res.stop_reason == "band reached"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e9])
def test_guard_stops_with_clear_message(bad):
    loop = Loop(steps=5, progress=False, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 2 \(loss_d = .*lower the learning rate"):
        loop.run(lambda i: {"loss_d": bad if i == 2 else 0.5})


def test_a_recovery_is_recorded_in_the_redaction_log(tiny_gan, tiny_classifier, monkeypatch):
    """One NaN loss mid-run: the method goes on from its last good state and the log says so."""
    from genredact.api import redact
    from genredact.losses import g_loss
    from genredact.methods import _adversarial
    from genredact.targets import ClassifierTarget

    calls = {"n": 0}

    def flaky(logits):
        calls["n"] += 1
        return g_loss(logits) * (float("nan") if calls["n"] == 30 else 1.0)

    monkeypatch.setattr(_adversarial, "g_loss", flaky)
    _, log = redact(tiny_gan, ClassifierTarget(classifier=tiny_classifier, target_labels=(1,), source="tiny"), "redact-classifier",
                    data=None, real="generator", progress=False, steps=40, batch_size=16, pool_size=16)
    assert log["steps"] == 40 and len(log["recoveries"]) == 1
    assert log["recoveries"][0]["step"] == 29 and log["recoveries"][0]["restored_step"] == 25


def test_bf16_autocast_runs_steps_in_bfloat16_and_backward_outside():
    from genredact.engine.precision import precision

    seen = {}
    net = nn.Linear(4, 2)
    opt = torch.optim.SGD(net.parameters(), 0.1)
    with precision("bf16"):
        loop = Loop(steps=3, progress=False, device="cpu")

        def step(i):
            y = net(torch.ones(8, 4))
            seen["dtype"] = y.dtype
            loss = y.float().pow(2).mean()
            opt.zero_grad()
            loop.backward(loss)
            opt.step()
            return {"loss": loss.item()}

        res = loop.run(step, state={"net": net, "opt": opt})
    assert seen["dtype"] == torch.bfloat16 and res.steps == 3 and net.weight.grad.dtype == torch.float32
    loop = Loop(steps=1, progress=False, device="cpu")
    loop.run(step, state={"net": net, "opt": opt})
    assert seen["dtype"] == torch.float32  # outside the block: fp32 again


@pytest.mark.parametrize("steps", [1, 2, 10, 20, 150])
def test_one_cycle_takes_any_step_count(steps):
    # torch's OneCycleLR divides by zero when the warm-up is exactly one step (10 steps at 10%).
    from genredact.engine.schedule import one_cycle

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = one_cycle(opt, 0.1, steps)
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert all(lr > 0 for lr in lrs[:-1]) and max(lrs) <= 0.1 + 1e-12


def test_local_device_is_this_process_gpu_under_a_launcher(monkeypatch):
    from genredact.engine import dist

    assert dist.local_device("cpu") == torch.device("cpu")
    assert dist.local_device("cuda") == torch.device("cuda")  # one process: as given
    monkeypatch.setattr(dist, "world", lambda: (1, 2))  # rank 1 of 2, pinned to GPU 1 by the process group
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert dist.local_device("cuda") == torch.device("cuda", 1)
    assert dist.local_device("cuda:0") == torch.device("cuda", 0)  # an explicit GPU is kept
    assert dist.local_device("cpu") == torch.device("cpu")


def test_small_collectives_go_where_the_backend_takes_them(monkeypatch):
    import torch.distributed

    from genredact.engine import dist

    t = torch.ones(2)
    for backend in ("gloo", "cuda:nccl,cpu:gloo"):  # gloo takes CPU tensors
        monkeypatch.setattr(torch.distributed, "get_backend", lambda b=backend: b)
        assert dist._wire(t) is t
    monkeypatch.setattr(torch.distributed, "get_backend", lambda: "nccl")  # NCCL alone: the tensor must go to the GPU
    if torch.cuda.is_available():
        assert dist._wire(t).device.type == "cuda"
    else:
        with pytest.raises((AssertionError, RuntimeError)):  # CPU build: moving to CUDA is refused
            dist._wire(t)


@pytest.mark.parametrize("n, size", [(10000, 8), (10000, 4), (10000, 2), (9000, 2), (100000, 8), (3, 8), (2, 2), (2001, 2)])
def test_evaluation_chunks_share_the_work_among_processes(n, size):
    from genredact.evaluation import EVAL_CHUNK, _split

    chunk, n_chunks = _split(n, size)
    assert 1 <= chunk <= EVAL_CHUNK and (n_chunks - 1) * chunk < n <= n_chunks * chunk  # every image once
    per_process = [len(range(r, n_chunks, size)) for r in range(size)]
    assert max(per_process) - min(per_process) <= 1  # no process judges two chunks more than another
    if n >= size:
        assert min(per_process) >= 1  # nor stands idle
