"""Evaluation under an independent judge: residual rate with a Clopper-Pearson bound, and FID, KID,
precision and recall in the judge's feature space against the valid part of the test set."""
from __future__ import annotations

import time
import warnings
from typing import Any

import torch
from torch import nn

from genredact.data import ImageData, load_dataset, to_float
from genredact.errors import GenredactError
from genredact.seeding import make_generator

_REAL_CACHE: dict[tuple[int, str, tuple[int, ...]], torch.Tensor] = {}


def real_features(judge: nn.Module, real: ImageData, labels: tuple[int, ...]) -> torch.Tensor:
    """Judge features of the valid part of `real` (cached per judge object and label set). Under several
    processes each judges its share of the images' chunks and every process gathers them all."""
    from genredact.engine import dist

    key = (id(judge), real.name, tuple(labels))
    if key not in _REAL_CACHE:
        x = to_float(real.without(labels).x)
        rank, size = dist.world()
        if size > 1:
            chunk, n_chunks = _split(len(x), size)
            mine = {c: (judge.predict(x[c * chunk : (c + 1) * chunk])[1],) for c in range(rank, n_chunks, size)}
            feats = torch.cat([c[0] for c in dist.gather_chunks(mine, n_chunks)])
        else:
            _, feats = judge.predict(x)
        _REAL_CACHE.clear()
        _REAL_CACHE[key] = feats
    return _REAL_CACHE[key]


EVAL_CHUNK = 2000  # latents judged per chunk; a resumable evaluation checkpoints between chunks


def _split(n: int, size: int) -> tuple[int, int]:
    """(chunk length, number of chunks) of n images judged by `size` processes, chunk c by process c % size:
    at most EVAL_CHUNK long and, where n allows, as many for each process (n = 10,000: 8 of 1,250 in 4 or 8
    processes, 6 of 1,667 in 2)."""
    chunk = max(1, -(-n // (size * -(-n // (size * EVAL_CHUNK)))))
    return chunk, -(-n // chunk)


def judge_samples(model: nn.Module, judge: nn.Module, *, n: int, seed: int, samples: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(probabilities, features, sampling seconds) of `n` samples of `model` (latents from `seed`) under `judge`.

    The latents are drawn at once and judged in chunks; inside a resumable session
    (`genredact.engine.resume`) the chunks done so far are checkpointed, so a killed evaluation resumes
    where it stopped with the same result. Samplers that filter their draws (`reject`) sample at once."""
    from genredact.engine import dist, resume
    from genredact.engine.precision import autocast, full
    from genredact.engine.state import load_state, save_state
    from genredact.models.flow import finite_images

    if samples is not None:
        return (*judge.predict(samples), 0.0)
    if not hasattr(model, "generate_batched") or hasattr(model, "acceptance"):
        t0 = time.perf_counter()
        samples = model.sample(n, generator=make_generator(seed))
        return (*judge.predict(samples), time.perf_counter() - t0)
    z = model.latents(n, generator=make_generator(seed))
    overflowed = [0]

    def images(zc: torch.Tensor) -> torch.Tensor:
        # A flow's inverse can overflow far out in latent space: such pixels become background, as in
        # FlowModel.sample, so that one image cannot turn the judge's probabilities into NaN.
        x, bad = finite_images(full(model.generate_batched(zc)))
        overflowed[0] += bad
        return x

    def warn_overflow() -> None:
        if overflowed[0]:
            warnings.warn(f"{overflowed[0]} of the judged samples had non-finite pixels (the model's output overflowed); "
                          "those pixels are set to background", RuntimeWarning, stacklevel=3)

    rank, size = dist.world()
    if size > 1:  # several processes: chunk c is judged by process c % size
        chunk, n_chunks = _split(n, size)
        t0 = time.perf_counter()
        with autocast(z.device):
            mine = {c: judge.predict(images(z[c * chunk : (c + 1) * chunk])) for c in range(rank, n_chunks, size)}
        chunks = dist.gather_chunks(mine, n_chunks)
        warn_overflow()
        return torch.cat([c[0] for c in chunks]), torch.cat([c[1] for c in chunks]), time.perf_counter() - t0
    session = resume.current()
    ckpt = session.next_path("eval") if session is not None else None
    meta = {"n": n, "seed": seed}
    parts: dict[str, list] = {"probs": [], "feats": []}
    done, sample_s = 0, 0.0
    if ckpt is not None and session.resume and ckpt.exists():
        snap, saved = load_state(ckpt)
        if {k: saved[k] for k in meta} != meta:
            raise GenredactError(f"checkpoint {ckpt} belongs to another evaluation; drop --resume to start afresh")
        parts = {"probs": [snap["probs"]], "feats": [snap["feats"]]}
        done, sample_s = saved["done"], saved["sample_s"]
    last_save = time.perf_counter()
    while done < n:
        t0 = time.perf_counter()
        with autocast(z.device):
            x = images(z[done : done + EVAL_CHUNK])
            sample_s += time.perf_counter() - t0
            p, f = judge.predict(x)
        parts["probs"].append(p)
        parts["feats"].append(f)
        done += x.shape[0]
        if ckpt is not None and (done >= n or time.perf_counter() - last_save >= session.every_s):
            save_state(ckpt, {"probs": torch.cat(parts["probs"]), "feats": torch.cat(parts["feats"])}, {**meta, "done": done, "sample_s": sample_s})
            last_save = time.perf_counter()
    warn_overflow()
    return torch.cat(parts["probs"]), torch.cat(parts["feats"]), sample_s


@torch.no_grad()
def evaluate(
    model: nn.Module,
    *,
    labels: tuple[int, ...] | list[int],
    judge: nn.Module | None = None,
    real: ImageData | None = None,
    n: int = 10000,
    seed: int = 1234,
    kid_subsets: int = 50,
    pr_k: int = 3,
    samples: torch.Tensor | None = None,
    keep_features: bool = False,
) -> dict[str, Any]:
    """Metrics of `model`'s samples. `labels` are the redacted classes in the judge's label space.

    The judge defaults to the zoo's evaluation judge for the model's data set, and `real` to that data
    set's test split. With `keep_features`, the samples' judge features are returned under "features"
    (for Ret-FID against another model). Returns residual_rate, residual_upper95, residual_k, n, fid, kid, kid_std,
    precision, recall and the sampling time.
    """
    from genredact.metrics import fid, kid, precision_recall, residual_rate

    dataset = getattr(model, "dataset", None)
    if judge is None:
        from genredact.zoo import load_classifier

        if not dataset:
            raise GenredactError("the model does not name its data set; pass judge=... and real=...")
        judge = load_classifier(dataset, role="judge")
    if real is None:
        if not dataset:
            raise GenredactError("the model does not name its data set; pass real=...")
        real = load_dataset(dataset, "test")
    labels = tuple(int(v) for v in labels)
    if n < 2:
        raise GenredactError(f"evaluation needs at least 2 samples, got n={n}")
    probs, feats, sample_s = judge_samples(model, judge, n=n, seed=seed, samples=samples)
    res = residual_rate(probs, labels)
    rfeats = real_features(judge, real, labels)
    kid_mean, kid_std = kid(rfeats, feats, subsets=kid_subsets, subset_size=1000, generator=make_generator(seed + 1))
    precision, recall = precision_recall(rfeats, feats, k=pr_k)
    out = {
        "n": int(res["n"]),
        "residual_rate": float(res["rate"]),
        "residual_upper95": float(res["upper95"]),
        "residual_k": int(res["k"]),
        "fid": float(fid(rfeats, feats)),
        "kid": float(kid_mean),
        "kid_std": float(kid_std),
        "precision": float(precision),
        "recall": float(recall),
        "sample_s": sample_s,
        "judge": getattr(judge, "role", "judge"),
        "class_share": (probs.argmax(1).bincount(minlength=probs.shape[1]).double() / probs.shape[0]).tolist(),
    }
    if keep_features:
        out["features"] = feats
    return out


def certify_residual(
    model: nn.Module,
    *,
    labels: tuple[int, ...] | list[int],
    eps: float,
    judge: nn.Module | None = None,
    seed: int = 1234,
    n0: int = 1000,
    max_n: int = 1_000_000,
    confidence: float = 0.95,
    batch: int = 2000,
    progress: bool = True,
) -> Any:
    """Sample `model` until its residual rate under the judge is certified below `eps` (or shown above it,
    or `max_n` is reached); see `genredact.metrics.certify` for the stopping rule. Returns a Certificate."""
    from tqdm.auto import tqdm

    from genredact.metrics.certify import sequential_certificate
    from genredact.metrics.functional import _residual_rate_update

    if judge is None:
        from genredact.zoo import load_classifier

        dataset = getattr(model, "dataset", None)
        if not dataset:
            raise GenredactError("the model does not name its data set; pass judge=...")
        judge = load_classifier(dataset, role="judge")
    labels = [int(v) for v in labels]
    gen = make_generator(seed)
    bar = tqdm(total=max_n, desc="certify", unit="img", disable=not progress)

    @torch.no_grad()
    def count_flagged(m: int) -> int:
        k = 0
        for i in range(0, m, batch):
            probs, _ = judge.predict(model.sample(min(batch, m - i), generator=gen))
            k += _residual_rate_update(probs, labels)[0]  # the same decision as residual_rate
            bar.update(min(batch, m - i))
        return k

    def on_look(n: int, k: int, upper: float) -> None:
        bar.set_postfix(k=k, upper=f"{upper:.5f}")

    try:
        return sequential_certificate(count_flagged, eps, n0=n0, max_n=max_n, confidence=confidence, on_look=on_look)
    finally:
        bar.close()
