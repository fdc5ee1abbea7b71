"""CLI smoke test of the image-to-image branch on a tiny MNIST-shaped inpainter (2 steps, 100 images)."""
from __future__ import annotations

import json

import torch

from genredact.checkpoint import folder_sha256, save_pretrained
from genredact.cli import main
from genredact.data.datasets import MNIST_CLASSES
from genredact.models import build_inpainter


def test_redact_inpainter_writes_run_folder(tmp_path, capsys):
    torch.manual_seed(0)
    model = build_inpainter("tiny-conv", image_shape=(1, 28, 28), dataset="mnist", class_names=MNIST_CLASSES)
    folder = save_pretrained(model, tmp_path / "tiny")
    sha = folder_sha256(folder)
    run = tmp_path / "run"
    rc = main(["redact", str(folder), "--method", "encoder-unlearn", "--target", "label=0,1,2,3,4", "--out", str(run),
               "--set", "steps=2", "--set", "batch_size=8", "--n-eval", "100", "--quiet"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "judge accuracy on outputs" in out.out and str(run) in out.out
    for name in ("config.json", "metrics.jsonl", "report.md", "log.json", "model/model.safetensors", "model/redaction.json"):
        assert (run / name).is_file(), name
    for mask in ("center-0.71", "outpaint-0.18"):
        for grid in ("truth", "inputs", "original", "unlearned"):
            assert (run / "samples" / mask / f"{grid}.png").is_file(), (mask, grid)
    names = {json.loads(line)["name"] for line in (run / "metrics.jsonl").read_text().splitlines()}
    assert {"center-0.71/forget/acc", "center-0.71/retain/fid", "outpaint-0.18/forget/psnr", "wall_s"} <= names
    red = json.loads((run / "model" / "redaction.json").read_text())
    assert red["method"] == "encoder-unlearn" and red["target"]["labels"] == [0, 1, 2, 3, 4]
    assert folder_sha256(folder) == sha  # the input model folder is only read
    assert json.loads((run / "provenance.json").read_text())["checkpoints"]["parent"]["sha256"] == sha
    assert main(["report", str(run)]) == 0  # the HTML report from the folder alone, input/output grids included
    page = (run / "report.html").read_text()
    assert page.count("<img") >= 8 and "center-0.71/unlearned.png" in page


def test_redact_inpainter_bad_label_is_one_line(tmp_path, capsys):
    model = build_inpainter("tiny-conv", image_shape=(1, 28, 28), dataset="mnist", class_names=MNIST_CLASSES)
    folder = save_pretrained(model, tmp_path / "tiny")
    rc = main(["redact", str(folder), "--method", "encoder-unlearn", "--target", "label=12", "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "label '12' does not exist" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_shipped_inpainters_load_and_carry_their_quality():
    from genredact.zoo import TRAINERS, WEIGHTS_DIR, ZOO, load_model

    entries = [e for e in ZOO.values() if e.kind == "inpainter"]
    assert {e.recipe["arch"] for e in entries} == {"conv", "mae"} and {e.dataset for e in entries} == {"fashion-mnist", "mnist"}
    assert TRAINERS["inpainter"] == "genredact.zoo.inpainter_recipes"
    shipped = [e for e in entries if (WEIGHTS_DIR / e.name / "model.safetensors").is_file()]
    assert shipped, "no inpainter weights are shipped"
    for e in shipped:
        model = load_model(e.name)
        assert model.family == "inpainter" and model.dataset == e.dataset
        assert model(torch.zeros(2, 1, 28, 28), kind="outpaint", size=0.18).shape == (2, 1, 28, 28)
        card = json.loads((WEIGHTS_DIR / e.name / "card.json").read_text())
        centre, border = card["test_metrics"]["center-0.71"], card["test_metrics"]["outpaint-0.18"]
        # Half the image hidden leaves MNIST little to go on (the MAE fills most holes with a mean digit): above chance only.
        assert centre["acc"] > 0.15 and centre["psnr"] > 9 and border["acc"] > 0.75, (e.name, centre, border)
        assert (WEIGHTS_DIR / e.name / "model.safetensors").stat().st_size < 5 * 2**20
