"""The shared loop: history, early stop, atomic checkpoints, and the NaN / divergence guard."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from genredact.engine import Loop
from genredact.errors import TrainingDivergedError


def test_runs_logs_and_checkpoints(tmp_path):
    net = nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), 0.1)
    loop = Loop(steps=6, progress=False, log_every=2, checkpoint_dir=tmp_path, checkpoint_every=3, device="cpu")
    x = torch.ones(4, 2)

    def step(i):
        loss = net(x).pow(2).mean()
        opt.zero_grad()
        loop.backward(loss)
        opt.step()
        return {"loss": loss.item()}

    res = loop.run(step, modules={"net": net})
    assert res.steps == 6 and [h["step"] for h in res.history] == [0.0, 2.0, 4.0, 5.0]
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    state = load_file(str(tmp_path / "loop_state.safetensors"))
    assert torch.equal(state["net.weight"], net.weight.detach())
    assert not list(tmp_path.glob("*.tmp"))


def test_early_stop():
    loop = Loop(steps=10, progress=False, device="cpu")
    res = loop.run(lambda i: {"loss": 1.0}, stop=lambda i: "band reached" if i == 4 else "")
    assert res.steps == 4 and res.stopped_early and res.stop_reason == "band reached"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e9])
def test_guard_stops_with_clear_message(bad):
    loop = Loop(steps=5, progress=False, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 2 \(loss_d = .*lower the learning rate"):
        loop.run(lambda i: {"loss_d": bad if i == 2 else 0.5})
