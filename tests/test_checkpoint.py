"""Model folders: round trip with identical outputs, and clear errors for broken folders."""
from __future__ import annotations

import json
import os
import stat

import pytest
import torch
from torch import nn

from genredact.checkpoint import folder_sha256, load_pretrained, save_pretrained
from genredact.errors import CheckpointError
from genredact.models import GanModel


def test_round_trip_identical_outputs(tmp_path, tiny_gan, tiny_classifier):
    path = save_pretrained(tiny_gan, tmp_path / "g", redaction={"method": "x"})
    loaded = load_pretrained(path)
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.generate(z), tiny_gan.generate(z))
    assert torch.equal(loaded.discriminator(tiny_gan.generate(z)), tiny_gan.discriminator(tiny_gan.generate(z)))
    assert json.loads((path / "redaction.json").read_text()) == {"method": "x"}
    cpath = save_pretrained(tiny_classifier, tmp_path / "c")
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(load_pretrained(cpath)(x), tiny_classifier(x))


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_model_folder_gets_the_permissions_the_umask_gives(umask, tmp_path, tiny_gan):
    """Built in a temporary folder and renamed, a model folder still reads like one made by mkdir and open:
    mkdtemp and mkstemp alone would leave it owner-only whatever the umask."""
    old = os.umask(umask)
    try:
        path = save_pretrained(tiny_gan, tmp_path / "g", redaction={"method": "x"})
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(path) == 0o777 & ~umask
    assert {f.name: mode(f) for f in path.iterdir()} == {f.name: 0o666 & ~umask for f in path.iterdir()}
    assert {"config.json", "model.safetensors", "redaction.json"} <= {f.name for f in path.iterdir()}


def test_refuses_to_overwrite(tmp_path, tiny_gan):
    save_pretrained(tiny_gan, tmp_path / "g")
    sha = folder_sha256(tmp_path / "g")
    with pytest.raises(CheckpointError, match="already exists"):
        save_pretrained(tiny_gan, tmp_path / "g")
    assert folder_sha256(tmp_path / "g") == sha


def test_broken_folders_give_one_sentence(tmp_path, tiny_gan):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_pretrained(tmp_path / "nope")
    path = save_pretrained(tiny_gan, tmp_path / "g")
    weights = path / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_pretrained(path)
    weights.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_pretrained(path)
    weights.write_bytes(good)
    cfg = json.loads((path / "config.json").read_text())
    cfg["generator"]["hidden"] = 64
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match the architecture"):
        load_pretrained(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_pretrained(path)
    (path / "config.json").write_text(json.dumps({"_class_name": "Pickle"}))
    with pytest.raises(Exception, match="unknown model class 'Pickle'"):
        load_pretrained(path)


def test_nan_weights_are_refused(tmp_path, tiny_gan):
    import copy

    bad = copy.deepcopy(tiny_gan)
    with torch.no_grad():
        next(bad.generator.parameters())[0, 0] = float("nan")
    path = save_pretrained(bad, tmp_path / "nan")
    with pytest.raises(CheckpointError, match="NaN"):
        load_pretrained(path)


def test_user_network_without_registration(tmp_path):
    class MyG(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 4)

        def forward(self, z):
            return torch.tanh(self.l(z)).view(-1, 1, 2, 2)

    model = GanModel(MyG(), None, z_dim=2, image_shape=(1, 2, 2))
    assert model.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1, 2, 2)
    with pytest.raises(CheckpointError, match="not registered"):
        save_pretrained(model, tmp_path / "u")
    assert not (tmp_path / "u").exists()


def test_foreign_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    f = tmp_path / "weights.safetensors"
    save_file({"w": torch.zeros(2)}, str(f))
    with pytest.raises(CheckpointError, match="is a file, not a model folder"):
        load_pretrained(f)
    folder = tmp_path / "foreign"
    folder.mkdir()
    save_file({"w": torch.zeros(2)}, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="holds no config.json"):
        load_pretrained(folder)


def test_an_ensemble_classifier_votes_by_mean_probability_and_round_trips(tmp_path):
    """A `members` recipe trains each network exactly as the one-network recipe of its seed would, the ensemble's
    probabilities are the members' mean, and the folder rebuilds it with identical outputs."""
    import dataclasses

    from genredact.data import ImageData, load_dataset, to_float
    from genredact.models.nets import EnsembleNet
    from genredact.zoo.recipes import ClassifierRecipe, train_classifier

    full = load_dataset("mnist", "test")
    data = ImageData("mnist", full.x[:256], full.y[:256], full.class_names)
    recipe = ClassifierRecipe(arch="lenet", epochs=1, batch_size=64, seed=5, members=2)
    ens, result = train_classifier(data, recipe, progress=False)
    assert isinstance(ens.net, EnsembleNet) and len(ens.net.members) == 2 and result.steps == 2 * 4
    x = to_float(full.x[256:320])
    singles = [train_classifier(data, dataclasses.replace(recipe, seed=5 + i, members=1), progress=False)[0] for i in range(2)]
    with torch.no_grad():
        probs = []
        for member, single in zip(ens.net.members, singles):
            assert all(torch.equal(a, b) for a, b in zip(member.state_dict().values(), single.net.state_dict().values()))
            probs.append(single(x).softmax(1))
        assert torch.allclose(ens(x).softmax(1), torch.stack(probs).mean(0), atol=1e-6)
        assert torch.allclose(ens.predict(x)[0].float(), torch.stack(probs).mean(0), atol=1e-6)
        save_pretrained(ens, tmp_path / "ens")
        again = load_pretrained(tmp_path / "ens")
        assert torch.equal(again(x), ens(x)) and torch.equal(again.features(x), ens.features(x))
    with pytest.raises(ValueError, match="at least one member"):
        EnsembleNet(members=[])
