"""Property-based bad input (hypothesis): generated wrong paths, files of the wrong kind, truncated or
corrupted safetensors, config values of the wrong type or out of range, unknown names, empty forget sets,
images of the wrong size or channel count, labels that do not exist and NaN in weights or images.

Each must end with one sentence on stderr and a non-zero exit, leave no output folder or partial file,
and never change the input model (checked by hash).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from genredact.api import redact
from genredact.checkpoint import folder_sha256
from genredact.cli import main
from genredact.errors import GenredactError
from genredact.targets import SamplesTarget
from genredact.zoo import WEIGHTS_DIR

MODEL = "mnist-dcgan"
QUICK = ["--set", "steps=1", "--set", "pool_size=8", "--set", "batch_size=8", "--n-eval", "50", "--quiet"]
INT_OPTIONS = ["steps", "batch_size", "pool_size", "n_generated"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Fixed bad files, made once: broken model folders and image folders."""
    root = tmp_path_factory.mktemp("bad")
    src = WEIGHTS_DIR / MODEL
    weights = (src / "model.safetensors").read_bytes()

    def folder(name, config=None, data=None):
        d = root / name
        d.mkdir()
        (d / "config.json").write_text(config if config is not None else (src / "config.json").read_text())
        if data is not None:
            (d / "model.safetensors").write_bytes(data)
        return d

    folder("no-weights")
    folder("bad-json", config="{not json")
    folder("foreign-json", config=json.dumps({"hello": 1}), data=weights)
    from safetensors.torch import load_file, save_file

    state = load_file(str(src / "model.safetensors"))
    state["generator.fc.0.weight"][0, 0] = float("nan")
    d = folder("nan-weights")
    save_file(state, str(d / "model.safetensors"))
    (root / "a-file.txt").write_text("not a model")
    (root / "empty").mkdir()
    for name, size, mode in (("big", 32, "L"), ("rgb", 28, "RGB"), ("tiny", 8, "L")):
        d = root / name
        d.mkdir()
        for i in range(3):
            Image.fromarray(np.full((size, size) if mode == "L" else (size, size, 3), 40 * i, np.uint8), mode).save(d / f"{i}.png")
    d = root / "not-images"
    d.mkdir()
    (d / "x.png").write_bytes(b"this is not a png")
    return {"root": root, "sha": folder_sha256(src)}


def _bad_model_folder(ws, kind, cut):
    """A model folder whose weights are truncated (at `cut`) or corrupted (bytes flipped at `cut`)."""
    d = ws["root"] / f"{kind}-{cut}"
    if not d.exists():
        d.mkdir()
        shutil.copy(WEIGHTS_DIR / MODEL / "config.json", d / "config.json")
        data = bytearray((WEIGHTS_DIR / MODEL / "model.safetensors").read_bytes())
        if kind == "truncated":
            data = data[: cut % len(data)]
        else:  # corrupt the header (the first 8 bytes give its length, then JSON)
            pos = cut % 256
            data[pos: pos + 8] = b"\xff" * 8
        (d / "model.safetensors").write_bytes(bytes(data))
    return str(d)


@st.composite
def bad_cli_input(draw, ws):
    """(argv without --out, what the error must mention)."""
    out_kind = draw(st.sampled_from(["path", "file", "folder", "safetensors", "option", "name", "label", "images", "nan"]))
    root = ws["root"]
    if out_kind == "path":
        name = draw(st.text(alphabet="abcxyz/_-.", min_size=1, max_size=12)).strip("/") or "x"
        return ["redact", str(root / "missing" / name), "--target", "label=1"], ""
    if out_kind == "file":
        which = draw(st.sampled_from(["a-file.txt", "no-weights", "bad-json", "foreign-json"]))
        return ["redact", str(root / which), "--target", "label=1"], ""
    if out_kind == "safetensors":
        kind = draw(st.sampled_from(["truncated", "corrupt"]))
        cut = draw(st.integers(min_value=0, max_value=10**6))
        return ["redact", _bad_model_folder(ws, kind, cut), "--target", "label=1"], ""
    if out_kind == "option":
        key = draw(st.sampled_from(INT_OPTIONS + ["lam", "lr", "negative_threshold", "real", "nope", "guide_shift"]))
        if key in INT_OPTIONS or key == "guide_shift":
            value = draw(st.sampled_from(["-1", "abc", "1.5", "", "nan"] + (["0"] if key != "guide_shift" else [])))
        elif key in ("lam", "negative_threshold"):
            value = str(draw(st.one_of(st.floats(max_value=0.0, allow_nan=False), st.floats(min_value=1.0001, allow_infinity=False), st.just("x"))))
        elif key == "lr":
            value = str(draw(st.one_of(st.floats(max_value=0.0, allow_nan=False), st.just("fast"))))
        elif key == "real":
            value = draw(st.text(alphabet="abcdefgh", min_size=1, max_size=6).filter(lambda v: v not in ("data", "generator")))
        else:
            value = "1"
        return ["redact", MODEL, "--target", "label=1", "--set", f"{key}={value}"], key
    if out_kind == "name":
        field = draw(st.sampled_from(["method", "model"]))
        name = draw(st.text(alphabet="abcdefghijklmnop-", min_size=1, max_size=14))
        if field == "method":
            return ["redact", MODEL, "--target", "label=1", "--method", f"zz-{name}"], "unknown method"
        return ["redact", f"zz-{name}", "--target", "label=1"], ""
    if out_kind == "label":
        value = draw(st.one_of(st.integers(min_value=10, max_value=10**6).map(str), st.integers(max_value=-1).map(str),
                               st.text(alphabet="QWXZqwxz", min_size=1, max_size=8)))
        return ["redact", MODEL, "--target", f"label={value}"], ""
    if out_kind == "images":
        which = draw(st.sampled_from(["empty", "big", "rgb", "tiny", "not-images"]))
        method = draw(st.sampled_from(["redact-samples", "adapt-then-unlearn"]))
        return ["redact", MODEL, "--target", f"samples={root / which}", "--method", method, "--no-eval"], ""
    return ["redact", str(root / "nan-weights"), "--target", "label=1"], "NaN"


def _tree_sha(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _log_case(argv, rc, err, lines, *, left, changed) -> None:
    """With GENREDACT_BAD_INPUT_LOG set (benchmarks/reliability.py), one JSON line per generated input:
    what the command printed and left behind, before the test's assertions judge it."""
    log = os.environ.get("GENREDACT_BAD_INPUT_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"argv": [str(a) for a in argv], "rc": rc if isinstance(rc, int) else str(rc), "traceback": "Traceback" in err,
                                "one_line": len(lines) == 1 and lines[0].startswith("genredact: error: "), "left": left, "changed": changed}) + "\n")


def _run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.err


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_cli_bad_input_one_sentence_no_output(data, workspace, tmp_path_factory, capsys):
    argv, must_mention = data.draw(bad_cli_input(workspace))
    parent = tmp_path_factory.mktemp("out")
    out = parent / "run"
    inputs = [p for p in map(Path, argv) if p.is_dir() and (p / "config.json").exists()] + [WEIGHTS_DIR / MODEL]
    before = [_tree_sha(p) for p in inputs]
    rc, err = _run([*argv[:2], *QUICK, *argv[2:], "--out", str(out)], capsys)  # the drawn --set comes last and wins
    lines = [line for line in err.strip().splitlines() if line.strip()]
    changed = [str(p) for p, h in zip(inputs, before) if _tree_sha(p) != h]
    _log_case(argv, rc, err, lines, left=[p.name for p in parent.iterdir()], changed=changed)
    assert rc not in (0, None), f"{argv} succeeded"
    assert len(lines) == 1 and lines[0].startswith("genredact: error: "), f"{argv}: {err!r}"
    assert must_mention in lines[0], f"{argv}: {lines[0]}"
    assert not out.exists() and list(parent.iterdir()) == [], f"{argv} left {list(parent.iterdir())}"
    assert not changed, f"{argv} changed its input {changed}"


def test_the_zoo_model_was_never_written(workspace):
    # Runs after the property test (file order): any write to the input model would change its hash.
    assert folder_sha256(WEIGHTS_DIR / MODEL) == workspace["sha"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=4), where=st.integers(min_value=0, max_value=10**6), bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]))
def test_api_refuses_nan_in_forget_images(tiny_gan, n, where, bad):
    images = torch.zeros(n, 1, 8, 8)
    images.view(-1)[where % images.numel()] = bad
    sha = {k: v.clone() for k, v in tiny_gan.state_dict().items()}
    with pytest.raises(GenredactError, match="NaN or infinite"):
        redact(tiny_gan, SamplesTarget(images=images, source="probe"), "redact-samples", data=None, progress=False, steps=1)
    assert all(torch.equal(v, sha[k]) for k, v in tiny_gan.state_dict().items())
