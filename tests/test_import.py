"""`genredact import`: foreign state dicts become model folders; mismatches are named; code pickles refused."""
from __future__ import annotations

import collections

import pytest
import torch
from safetensors.torch import save_file

from genredact.checkpoint import load_pretrained
from genredact.cli import main
from genredact.zoo import load_model

ARGS = ["--family", "gan", "--arch", "dcgan", "--set", "z_dim=64", "--set", "width=32"]


class Custom:  # a class a pickle would need code to rebuild
    pass


def _run(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def zoo_gan():
    return load_model("mnist-dcgan")


@pytest.mark.parametrize("fmt", ["pt", "safetensors", "generator-only"])
def test_round_trip_identical_samples(tmp_path, capsys, zoo_gan, fmt):
    state = {k: v.clone() for k, v in zoo_gan.state_dict().items()}
    args = list(ARGS)
    if fmt == "pt":
        src = tmp_path / "gan.pt"
        torch.save(collections.OrderedDict(state), src)
    elif fmt == "safetensors":
        src = tmp_path / "gan.safetensors"
        save_file(state, str(src))
    else:
        src = tmp_path / "g.pth"
        torch.save({"state_dict": zoo_gan.generator.state_dict()}, src)  # a Lightning-style wrapper, bare generator keys
        args += ["--set", "discriminator=false"]
    out = tmp_path / "imported"
    rc, stdout, err = _run(["import", str(src), "--out", str(out), *args], capsys)
    assert rc == 0, err
    model = load_pretrained(out)
    z = zoo_gan.latents(8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model.generate(z), zoo_gan.eval().generate(z))
    assert (model.discriminator is None) == (fmt == "generator-only")


def test_mismatches_are_named_and_nothing_is_written(tmp_path, capsys, zoo_gan):
    state = dict(zoo_gan.state_dict())
    state["generator.extra"] = torch.zeros(3)
    state.pop(sorted(k for k in state if k.startswith("discriminator."))[-1])
    src = tmp_path / "bad.pt"
    torch.save(state, src)
    rc, _, err = _run(["import", str(src), "--out", str(tmp_path / "o"), *ARGS], capsys)
    assert rc == 2 and "missing: discriminator." in err and "unexpected: generator.extra" in err and not (tmp_path / "o").exists()
    rc, _, err = _run(["import", str(src.with_name("x.pt")), "--out", str(tmp_path / "o"), *ARGS], capsys)
    assert rc == 2 and "does not exist" in err
    rc, _, err = _run(["import", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "o"), "--family", "gan", "--arch", "dcgan", "--set", "width=16"], capsys)
    assert rc == 2 and "wrong shape" in err
    rc, _, err = _run(["import", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "o"), "--family", "gan", "--arch", "nope"], capsys)
    assert rc == 2 and "--family gan --arch dcgan" in err


def test_code_pickles_and_corrupt_files_are_refused(tmp_path, capsys, zoo_gan):
    src = tmp_path / "model.pt"
    torch.save({"net": Custom()}, src)
    rc, _, err = _run(["import", str(src), "--out", str(tmp_path / "o"), *ARGS], capsys)
    assert rc == 2 and "pickle that needs code" in err and len(err.strip().splitlines()) == 1
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00\x01garbage")
    rc, _, err = _run(["import", str(broken), "--out", str(tmp_path / "o"), *ARGS], capsys)
    assert rc == 2 and "corrupt" in err
    nan = tmp_path / "nan.pt"
    state = {k: v.clone() for k, v in zoo_gan.state_dict().items()}
    state["generator.fc.0.weight"][0, 0] = float("nan")
    torch.save(state, nan)
    rc, _, err = _run(["import", str(nan), "--out", str(tmp_path / "o"), *ARGS], capsys)
    assert rc == 2 and "NaN or infinite values in generator.fc.0.weight" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("name,family,arch", [("mnist-flow", "flow", "glow"), ("mnist-inpainter-conv", "inpainter", "conv"), ("mnist-inpainter-mae", "inpainter", "mae")])
def test_flow_and_inpainter_state_dicts_import(tmp_path, capsys, name, family, arch):
    zoo = load_model(name).eval()
    src = tmp_path / "m.pt"
    torch.save({k: v.clone() for k, v in zoo.state_dict().items()}, src)
    rc, _, err = _run(["import", str(src), "--family", family, "--arch", arch, "--out", str(tmp_path / "imported")], capsys)
    assert rc == 0, err
    model = load_pretrained(tmp_path / "imported").eval()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        if family == "flow":
            assert torch.equal(model.log_prob(x), zoo.log_prob(x))
        else:
            g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
            assert torch.equal(model(x, generator=g()), zoo(x, generator=g()))
    # The same file against the other family's architecture: every mismatch is named, nothing is written.
    other = ["--family", "gan", "--arch", "dcgan"]
    rc, _, err = _run(["import", str(src), *other, "--out", str(tmp_path / "wrong")], capsys)
    assert rc == 2 and "does not match the architecture" in err and "missing: " in err and not (tmp_path / "wrong").exists()
