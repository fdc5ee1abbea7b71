"""Kill and resume: a redaction killed with SIGKILL and an evaluation interrupted mid-way end with the
same result as uninterrupted runs, and a finished run leaves no checkpoint folder behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from genredact.engine.resume import resumable, resume_dir
from genredact.engine.state import load_state
from genredact.evaluation import evaluate

REDACT = ["redact", "mnist-dcgan", "--method", "redact-classifier", "--target", "label=7", "--set", "steps=60", "--set", "pool_size=20",
          "--set", "batch_size=16", "--no-eval", "--quiet", "--checkpoint-every", "0"]


def _cli(args, **kw):
    # One torch thread: with two, about 1 in 10-20 uninterrupted runs of this redaction is not bit-identical
    # to the others (benchmarks/determinism_check.py; an open issue-7 finding, not a resume fault), and
    # this test is about resume.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "genredact", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_redaction_killed_with_sigkill_resumes_bit_identical(tmp_path):
    whole = _cli([*REDACT, "--out", str(tmp_path / "whole")])
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    assert not resume_dir(tmp_path / "whole").exists()

    killed = _cli([*REDACT, "--out", str(tmp_path / "killed")])
    ckpt = resume_dir(tmp_path / "killed") / "001-loop.safetensors"
    deadline = time.time() + 300
    while not ckpt.exists() and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before its first checkpoint"
    time.sleep(0.1)  # somewhere after the first checkpoint (60 steps leave margin on a loaded machine)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert not (tmp_path / "killed").exists()  # the run folder only appears complete
    killed_at = load_state(ckpt)[1]["step"]

    resumed = _cli([*REDACT, "--out", str(tmp_path / "killed"), "--resume"])
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "resuming from the checkpoints" in out
    a = load_file(str(tmp_path / "whole" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    differ = {k: float((a[k] - b[k]).abs().max()) for k in a if not torch.equal(a[k], b[k])}
    assert not differ, f"resumed from step {killed_at}: {len(differ)} tensors differ, e.g. {dict(list(differ.items())[:3])}"
    assert not resume_dir(tmp_path / "killed").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary or checkpoint folder left


class Interrupted(Exception):
    pass


def test_evaluation_interrupted_resumes_to_the_same_figures(tmp_path, tiny_gan, tiny_classifier, tiny_data, monkeypatch):
    kw = dict(labels=(1,), judge=tiny_classifier, real=tiny_data, n=5000, seed=7, kid_subsets=5)
    with resumable(tmp_path / "m.json", resume=False, fingerprint={"eval": 1}, every_s=0, echo=lambda s: None):
        whole = evaluate(tiny_gan, **kw)
    calls = {"n": 0}
    predict = type(tiny_classifier).predict

    def flaky(self, x, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk never comes back
            raise Interrupted
        return predict(self, x, *a, **k)

    monkeypatch.setattr(type(tiny_classifier), "predict", flaky)
    with pytest.raises(Interrupted):
        with resumable(tmp_path / "m.json", resume=False, fingerprint={"eval": 1}, every_s=0, echo=lambda s: None):
            evaluate(tiny_gan, **kw)
    monkeypatch.setattr(type(tiny_classifier), "predict", predict)
    seen = []
    with resumable(tmp_path / "m.json", resume=True, fingerprint={"eval": 1}, every_s=0, echo=seen.append):
        resumed = evaluate(tiny_gan, **kw)
    assert any("resuming" in s for s in seen)
    for key in ("residual_rate", "residual_upper95", "fid", "kid", "precision", "recall"):
        assert resumed[key] == whole[key], key


def test_a_run_that_would_not_fit_fails_early_with_the_figure(tmp_path, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    from genredact.cli import main

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10 * 2**20, 9 * 2**20, 2**20))
    rc = main(["redact", "mnist-dcgan", "--target", "label=7", "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "needs about" in err and "MB of free disk" in err and "1 MB are free" in err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    from genredact.engine import budget

    monkeypatch.setattr(budget, "free_memory", lambda device: 100 * 2**20)
    rc = main(["redact", "mnist-dcgan", "--target", "label=7", "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "MB of cpu memory but 100 MB are free" in err and list(tmp_path.iterdir()) == []
