"""The project's Adam: the foreach form where the parameters allow, the same algorithm as torch's default."""
import torch

from genredact.engine.optim import adam, adamw


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def _train(net: torch.nn.Module, opt: torch.optim.Optimizer, steps: int = 20) -> None:
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 6, generator=g)
        loss = net(x).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def test_adam_is_multi_tensor_on_cpu_float_parameters_and_follows_the_default_update():
    multi_net, plain_net = _net(), _net()
    opt = adam(multi_net.parameters(), 1e-2, betas=(0.5, 0.999))
    assert opt.param_groups[0]["foreach"] is True
    _train(multi_net, opt)
    _train(plain_net, torch.optim.Adam(plain_net.parameters(), 1e-2, betas=(0.5, 0.999)))
    for a, b in zip(multi_net.parameters(), plain_net.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(multi_net[0].weight, _net()[0].weight)  # it trained


def test_adamw_is_multi_tensor_and_keeps_parameter_groups():
    net = _net()
    opt = adamw([{"params": net[0].parameters(), "weight_decay": 0.1}, {"params": net[2].parameters(), "weight_decay": 0.0}], 1e-3)
    assert [g["foreach"] for g in opt.param_groups] == [True, True]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]


def test_parameters_off_cpu_and_cuda_or_on_mixed_devices_get_the_default():
    meta = torch.nn.Linear(3, 3, device="meta")
    assert not adam(meta.parameters(), 1e-3).param_groups[0]["foreach"]
    mixed = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, device="meta"))]
    assert not adam(mixed, 1e-3).param_groups[0]["foreach"]


def test_a_checkpoint_of_the_default_form_resumes_in_that_form():
    net = _net()
    old = torch.optim.Adam(net.parameters(), 1e-2)
    _train(net, old, steps=3)
    opt = adam(net.parameters(), 1e-2)
    opt.load_state_dict(old.state_dict())
    assert not opt.param_groups[0]["foreach"]
    _train(net, opt, steps=2)  # and it steps
