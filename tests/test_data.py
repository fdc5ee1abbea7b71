"""Data loaders: IDX (plain, gzip, corrupt), the numpy-only MNIST unpickler, image folders."""
from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from genredact.data import load_dataset, load_image_folder, read_idx, to_float, to_uint8
from genredact.data.datasets import FASHION_DIR, read_mnist_pickle
from genredact.errors import GenredactError


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    raw = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    x = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    p = tmp_path / ("a.idx" + (".gz" if gz else ""))
    write_idx(p, x, gz)
    assert np.array_equal(read_idx(p), x)


def test_idx_folder_loads_as_dataset(tmp_path):
    rng = np.random.default_rng(1)
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (7, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", np.array([0, 1, 2, 0, 1, 2, 2]))
    d = load_dataset(str(tmp_path), "test")
    assert d.x.shape == (7, 1, 28, 28) and d.x.dtype == np.uint8
    assert list(d.y) == [0, 1, 2, 0, 1, 2, 2] and d.class_names == ("0", "1", "2")
    assert len(d.without([2])) == 4 and len(d.only([0])) == 2


def test_corrupt_idx_files_are_named(tmp_path):
    x = np.zeros((4, 28, 28), np.uint8)
    p = tmp_path / "t.idx"
    write_idx(p, x)
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(GenredactError, match="truncated or corrupt"):
        read_idx(p)
    q = tmp_path / "bad.idx"
    q.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(GenredactError, match="not an IDX file"):
        read_idx(q)
    r = tmp_path / "broken.gz"
    r.write_bytes(b"\x1f\x8b\x08\x00broken")
    with pytest.raises(GenredactError, match="cannot read IDX file"):
        read_idx(r)


def test_mnist_unpickler_admits_arrays_only(tmp_path):
    good = tmp_path / "good.pkl.gz"
    arrays = tuple((np.zeros((2, 784), np.float32), np.arange(2)) for _ in range(3))
    with gzip.open(good, "wb") as f:
        pickle.dump(arrays, f)
    parts = read_mnist_pickle(good)
    assert parts[0][0].shape == (2, 784)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "bad.pkl.gz"
    with gzip.open(bad, "wb") as f:
        pickle.dump(Evil(), f)
    with pytest.raises(GenredactError, match="only numpy arrays are admitted"):
        read_mnist_pickle(bad)


def test_image_folder(tmp_path):
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    x = load_image_folder(tmp_path, shape=(1, 28, 28))
    assert x.shape == (3, 1, 28, 28) and x[2].max() == 80
    with pytest.raises(GenredactError, match="resize the images"):
        load_image_folder(tmp_path, shape=(1, 32, 32))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GenredactError, match="holds no images"):
        load_image_folder(empty)
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(GenredactError, match="not a readable image"):
        load_image_folder(tmp_path)


def test_float_uint8_round_trip():
    x = np.arange(256, dtype=np.uint8).reshape(4, 1, 8, 8)
    t = to_float(x)
    assert float(t.min()) == -1.0 and float(t.max()) == 1.0
    assert np.array_equal(to_uint8(t), x)


def test_unknown_dataset_lists_choices():
    with pytest.raises(GenredactError, match="fashion-mnist, mnist"):
        load_dataset("cifar-1000")


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian():
    d = load_dataset("fashion-mnist", "test")
    assert d.x.shape == (10000, 1, 28, 28) and d.class_names[5] == "Sandal"
    assert np.bincount(d.y).tolist() == [1000] * 10


def test_mnist_from_wheel():
    d = load_dataset("mnist", "test")
    assert d.x.shape == (10000, 1, 28, 28) and d.x.max() == 255
    assert np.bincount(d.y).sum() == 10000 and d.y[:3].tolist() == [7, 2, 1]


def test_random_shift_moves_content_and_keeps_shape():
    import torch

    from genredact.data.augment import random_shift

    x = -torch.ones(6, 1, 8, 8)
    x[:, :, 3, 3] = 1.0
    g = torch.Generator().manual_seed(0)
    assert torch.equal(random_shift(x, 0, g), x)
    y = random_shift(x, 2, g)
    assert y.shape == x.shape
    assert torch.equal((y == 1).sum((1, 2, 3)), torch.ones(6, dtype=torch.long))  # the bright pixel survives
    assert not torch.equal(y, x)  # and moves for at least one image
