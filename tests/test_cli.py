"""CLI smoke tests on the shipped zoo models (tiny budgets) and bad input: one line, exit 2, no output."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from genredact.checkpoint import folder_sha256
from genredact.cli import main
from genredact.zoo import WEIGHTS_DIR

TINY = ["--set", "steps=2", "--set", "pool_size=20", "--set", "batch_size=16", "--n-eval", "300", "--quiet"]


def run_cli(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_help_is_quick_and_lists_commands():
    res = subprocess.run([sys.executable, "-m", "genredact", "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    for cmd in ("demo", "redact", "eval", "sample", "list", "zoo", "audit", "plan"):
        assert cmd in res.stdout
    # --help must not import torch (kept lazy so it stays quick)
    probe = subprocess.run([sys.executable, "-c", "import sys; from genredact import cli; cli.build_parser(); print('torch' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "False"


def test_list(capsys):
    rc, out, _ = run_cli(["list", "methods"], capsys)
    assert rc == 0 and "redact-classifier" in out and "retrain" in out
    rc, out, _ = run_cli(["list", "models"], capsys)
    assert rc == 0 and "fashion-dcgan" in out and "mnist-judge" in out


def test_demo_tiny_budget(tmp_path, capsys):
    out = tmp_path / "demo"
    rc, stdout, _ = run_cli(["demo", "--steps", "2", "--n", "300", "--out", str(out), "--quiet"], capsys)
    assert rc == 0
    assert "residual rate" in stdout and "FID" in stdout and str(out) in stdout
    for name in ("config.json", "metrics.jsonl", "report.md", "log.json", "samples/before.png", "samples/after.png", "model/model.safetensors", "model/redaction.json"):
        assert (out / name).is_file(), name
    red = json.loads((out / "model" / "redaction.json").read_text())
    assert red["method"] == "redact-classifier" and red["target"]["label_names"] == ["Sandal"]
    assert red["parent_sha256"] == folder_sha256(WEIGHTS_DIR / "fashion-dcgan")
    names = {json.loads(line)["name"] for line in (out / "metrics.jsonl").read_text().splitlines()}
    assert {"residual_rate", "residual_upper95", "fid", "kid", "precision", "recall", "wall_s", "steps"} <= names


def test_redact_then_eval_then_sample(tmp_path, capsys):
    sha = folder_sha256(WEIGHTS_DIR / "mnist-dcgan")
    run = tmp_path / "r"
    rc, out, err = run_cli(["redact", "mnist-dcgan", "--method", "redact-validity", "--target", "label=7", "--out", str(run), *TINY], capsys)
    assert rc == 0, err
    assert folder_sha256(WEIGHTS_DIR / "mnist-dcgan") == sha  # the input model is never written
    rc, out, err = run_cli(["eval", str(run / "model"), "--target", "label=7", "--n", "300", "--json", str(tmp_path / "m.json")], capsys)
    assert rc == 0, err
    assert "residual_upper95" in out and json.loads((tmp_path / "m.json").read_text())["n"] == 300
    assert "judge mnist-judge" in out and "NOT independent" not in out
    # The classifier the run redacted with, used as judge: a warning, and the output says so.
    rc, out, err = run_cli(["eval", str(run / "model"), "--target", "label=7", "--n", "300", "--judge", "mnist-classifier", "--json", str(tmp_path / "c.json")], capsys)
    assert rc == 0 and "warning: mnist-classifier" in err and "NOT independent" in out
    assert json.loads((tmp_path / "c.json").read_text())["judge_independent"] is False
    # A certificate the 2-step model cannot earn (its 7s are still ~15%): refuted at the first look.
    rc, out, err = run_cli(["eval", str(run / "model"), "--target", "label=7", "--certify", "0.02", "--max-n", "4000", "--json", str(tmp_path / "cert.json")], capsys)
    cert = json.loads((tmp_path / "cert.json").read_text())
    assert rc == 0 and "rule: look after n = 1000, 2000, 4000" in out and cert["decision"] == "refuted" and cert["n"] == 1000
    # Audit with tiny budgets: files for each attack, figures for the redacted model and its parent.
    rc, out, err = run_cli(["audit", str(run), "--budget", "2", "--set", "latent-search.restarts=8", "--set", "inversion.n_images=4",
                            "--set", "relearn.eval_n=200", "--set", "relearn.eval_every=1", "--quiet"], capsys)
    assert rc == 0, err
    for attack in ("latent-search", "inversion", "relearn"):
        rec = json.loads((run / "audit" / f"{attack}.json").read_text())
        assert set(rec["models"]) == {"redacted", "pretrained"} and rec["summary"]["budget"] == 2
    assert (run / "audit" / "latent-search-redacted.png").is_file() and "base_success_rate" in out
    assert not [p for p in run.iterdir() if p.name.startswith(".")]
    rc, _, err = run_cli(["audit", str(run), "--attack", "nope", "--quiet"], capsys)
    assert rc == 2 and "unknown attack" in err
    rc, out, err = run_cli(["sample", str(run / "model"), "--n", "5", "--seed", "1", "--out", str(tmp_path / "x.npz"), "--grid", str(tmp_path / "x.png")], capsys)
    assert rc == 0, err
    x = np.load(tmp_path / "x.npz")["x"]
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28) and (tmp_path / "x.png").is_file()
    rc, _, _ = run_cli(["sample", str(run / "model"), "--n", "5", "--seed", "1", "--out", str(tmp_path / "y.npz")], capsys)
    assert np.array_equal(np.load(tmp_path / "y.npz")["x"], x)


@pytest.mark.parametrize(
    "args,message",
    [
        (["redact", "no-such-model", "--target", "label=1"], "neither a model folder nor a zoo model"),
        (["redact", "fashion-dcgan", "--method", "no-such", "--target", "label=1"], "unknown method 'no-such'"),
        (["redact", "fashion-dcgan", "--target", "label=12"], "label '12' does not exist"),
        (["redact", "fashion-dcgan", "--target", "label=Hat"], "valid labels: 0=T-shirt/top"),
        (["redact", "fashion-dcgan", "--target", "colour=red"], "unknown target kind"),
        (["redact", "fashion-dcgan", "--target", "label=1", "--set", "steps=-3"], "must be positive"),
        (["redact", "fashion-dcgan", "--target", "label=1", "--set", "lam=abc"], "must be float"),
    ],
)
def test_bad_input_one_line_no_output(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    rc, stdout, err = run_cli([*args, "--out", str(out), "--quiet"], capsys)
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


def test_corrupt_model_and_empty_samples(tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(WEIGHTS_DIR / "fashion-dcgan", broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[:1000])
    rc, _, err = run_cli(["redact", str(broken), "--target", "label=1", "--out", str(tmp_path / "r1"), "--quiet"], capsys)
    assert rc == 2 and "corrupt" in err and not (tmp_path / "r1").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, _, err = run_cli(["redact", "fashion-dcgan", "--method", "redact-samples", "--target", f"samples={empty}", "--out", str(tmp_path / "r2"), "--quiet"], capsys)
    assert rc == 2 and "holds no images" in err and not (tmp_path / "r2").exists()
    rc, _, err = run_cli(["sample", "fashion-dcgan", "--n", "0", "--out", str(tmp_path / "s.npz")], capsys)
    assert rc == 2 and "--n must be at least 1" in err and not (tmp_path / "s.npz").exists()


def test_user_model_classifier_and_image_folder_data(tmp_path, capsys, tiny_gan, tiny_classifier, tiny_data):
    from PIL import Image

    from genredact.checkpoint import load_pretrained, save_pretrained

    gan = save_pretrained(tiny_gan, tmp_path / "gan")
    clf = save_pretrained(tiny_classifier, tmp_path / "clf")
    for label, name in enumerate(tiny_data.class_names):
        folder = tmp_path / "data" / name
        folder.mkdir(parents=True)
        for i, img in enumerate(tiny_data.only([label]).x[:40]):
            Image.fromarray(img[0]).save(folder / f"{i}.png")
    sha = folder_sha256(gan)
    run = tmp_path / "run"
    rc, out, err = run_cli(["redact", str(gan), "--target", "label=bottom", "--classifier", str(clf), "--data", str(tmp_path / "data"),
                            "--method", "redact-classifier", "--out", str(run), "--no-eval", "--quiet",
                            "--set", "steps=3", "--set", "batch_size=8", "--set", "pool_size=10"], capsys)
    assert rc == 0, err
    assert folder_sha256(gan) == sha
    edited = load_pretrained(run / "model")
    assert edited.z_dim == 4 and json.loads((run / "config.json").read_text())["classifier"] == str(clf)
    rc, _, err = run_cli(["redact", str(gan), "--target", "label=hat", "--classifier", str(clf), "--out", str(tmp_path / "r2"), "--no-eval"], capsys)
    assert rc == 2 and "valid labels: 0=top, 1=bottom" in err


@pytest.mark.parametrize("name,sets", [("mnist-dcgan", ["steps=3", "batch_size=8"]), ("mnist-classifier", ["epochs=1", "batch_size=4096"])])
def test_zoo_train_writes_a_loadable_model_with_a_card(tmp_path, capsys, name, sets):
    from genredact.zoo import load_model

    out = tmp_path / name
    args = ["zoo", "train", name, "--out", str(out), "--quiet"]
    for s in sets:
        args += ["--set", s]
    rc, stdout, _ = run_cli(args, capsys)
    assert rc == 0 and str(out) in stdout
    card = json.loads((out / "card.json").read_text())
    assert card["name"] == name and card["steps"] >= 1 and card["command"].startswith(f"genredact zoo train {name}")
    assert "recipe" in (out / "MODEL_CARD.md").read_text()
    model = load_model(out)
    assert getattr(model, "dataset", None) == "mnist"
    if name.endswith("classifier"):
        assert 0.0 <= card["test_accuracy"] <= 1.0


@pytest.mark.parametrize("suffix", ["convnet", "ensemble"])
@pytest.mark.parametrize("dataset,floor", [("fashion-mnist", 0.9), ("mnist", 0.98)])
def test_shipped_convnet_classifiers_steer_a_mix_and_are_not_the_judge(dataset, floor, suffix):
    """The convnet redaction classifiers (one, or two voting) share the judge's architecture, not its weights: they
    are trained with other seeds, classify test images as well as their card says, and give a mix= target by zoo name."""
    import torch

    from genredact.api import resolve_model
    from genredact.data import load_dataset
    from genredact.data.datasets import to_float
    from genredact.targets import parse_target
    from genredact.zoo import DATASET_PREFIX, ZOO, load_classifier, load_model

    name = f"{DATASET_PREFIX[dataset]}-classifier-{suffix}"
    entry, judge_entry = ZOO[name], ZOO[f"{DATASET_PREFIX[dataset]}-judge"]
    assert entry.role == "redaction" and entry.recipe["arch"] == judge_entry.recipe["arch"] and entry.recipe["seed"] != judge_entry.recipe["seed"]
    clf, judge = load_model(name), load_classifier(dataset, role="judge")
    assert clf.role == "redaction"
    members = clf.net.members if suffix == "ensemble" else [clf.net]
    assert len(members) == entry.recipe.get("members", 1)
    assert all(any(not torch.equal(a, b) for a, b in zip(m.state_dict().values(), judge.net.state_dict().values())) for m in members)
    test = load_dataset(dataset, "test")
    with torch.no_grad():
        acc = float((clf.predict(to_float(test.x[:2000]))[0].argmax(1).numpy() == test.y[:2000]).mean())
    card = json.loads((WEIGHTS_DIR / name / "card.json").read_text())
    assert acc >= floor and card["test_accuracy"] >= floor, (acc, card["test_accuracy"])
    flow = load_model(f"{DATASET_PREFIX[dataset]}-flow")
    target = parse_target(f"mix={test.class_names[7]}:0.3", flow, classifier=resolve_model(name), classifier_source=name)
    assert target.source == name and list(target.classifier.class_names) == list(test.class_names)
    if suffix == "ensemble":  # without --classifier, a mix= target is counted by the ensemble, a label= target by the LeNet
        lenet = f"{DATASET_PREFIX[dataset]}-classifier"
        assert parse_target(f"mix={test.class_names[7]}:0.3", flow).source == name == f"{lenet}-ensemble"
        assert parse_target(f"label={test.class_names[7]}", flow).source == lenet


def test_plan_prints_both_sample_sizes(capsys):
    rc, out, _ = run_cli(["plan", "--bound", "0.01", "--rate", "0.005"], capsys)
    assert rc == 0 and "one fixed-size test: n = 1049" in out and "n = 4000" in out
    rc, _, err = run_cli(["plan", "--bound", "0.005", "--rate", "0.01"], capsys)
    assert rc == 2 and "not below bound" in err and len(err.strip().splitlines()) == 1


def test_sweep_grid_writes_points_and_tradeoff_plot(tmp_path, capsys):
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"model": "mnist-dcgan", "target": "label=7", "method": "redact-validity", "config": {"steps": 2, "pool_size": 20, "batch_size": 16}}))
    out = tmp_path / "sweep"
    rc, stdout, err = run_cli(["sweep", str(base), "--param", "method.lam=0.5,0.9", "--out", str(out), "--n-eval", "300", "--max-residual", "0.5", "--quiet"], capsys)
    assert rc == 0, err
    rec = json.loads((out / "sweep.json").read_text())
    assert [p["options"] for p in rec["points"]] == [{"lam": "0.5"}, {"lam": "0.9"}]
    assert all(p["meets"] for p in rec["points"])  # a 2-step redaction keeps ~15% sevens, well under 0.5
    assert (out / "sweep.png").stat().st_size > 1000 and (out / "point-01" / "model" / "redaction.json").is_file()
    assert json.loads((out / "point-00" / "model" / "redaction.json").read_text())["config"]["lam"] == 0.5
    # bad grid: one sentence, nothing left behind
    rc, _, err = run_cli(["sweep", str(base), "--param", "lam", "--out", str(tmp_path / "bad")], capsys)
    assert rc == 2 and "must look like name=v1,v2" in err and not (tmp_path / "bad").exists()
    rc, _, err = run_cli(["sweep", str(base), "--param", "lam=2", "--out", str(tmp_path / "bad"), "--n-eval", "300", "--quiet"], capsys)
    assert rc == 2 and "lam" in err and not (tmp_path / "bad").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
