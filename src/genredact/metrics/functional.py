"""Pure metric functions: residual-rate statistics with exact binomial bounds, FID, KID, precision/recall.

Every function here is stateless and deterministic given its inputs (randomness only through an explicit
``torch.Generator``). Statistics are computed in float64 because the quantities involved (covariance traces,
kernel means) are differences of large, nearly equal numbers where float32 loses most of its digits.

Following torchmetrics, metrics that are accumulated over batches are split into ``_x_update`` (batch ->
sufficient statistics) and ``_x_compute`` (statistics -> value) so that the :mod:`genredact.metrics.classes`
wrappers and the one-shot functions share exactly one implementation.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Sequence

import numpy as np
import torch
from scipy.special import betaincinv
from torch import Tensor

__all__ = [
    "clopper_pearson_upper",
    "clopper_pearson_interval",
    "samples_needed",
    "residual_rate",
    "feature_stats",
    "frechet_distance",
    "fid",
    "kid",
    "precision_recall",
]

# Budget for one block of the pairwise-distance matrix in precision_recall (float64 entries). 2**22 entries is
# 32 MiB; a block needs two such buffers plus a boolean mask, so a 10k x 10k evaluation peaks near 100 MB.
_DIST_BLOCK_ENTRIES = 2**22

# Largest chunk of candidate sample sizes evaluated at once by samples_needed: big enough to amortise the numpy
# call overhead, small enough that overshooting the answer costs well under a second.
_SCAN_CHUNK_MAX = 2**18


# ---------------------------------------------------------------------------------------------------------------
# Input validation helpers
# ---------------------------------------------------------------------------------------------------------------


def _as_count(value: Any, name: str) -> int:
    """Convert ``value`` to a Python int, refusing floats and bools so that 3.7 never silently becomes 3."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer count, got the bool {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer count, got {value!r}.") from None


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    return confidence


def _check_counts(k: Any, n: Any) -> tuple[int, int]:
    k = _as_count(k, "k")
    n = _as_count(n, "n")
    if n <= 0:
        raise ValueError(f"n must be at least 1 to bound a proportion, got n={n}.")
    if not 0 <= k <= n:
        raise ValueError(f"k must lie between 0 and n={n}, got k={k}.")
    return k, n


def _as_features(feats: Any, name: str, min_samples: int = 1) -> Tensor:
    """Validate an (N, F) feature matrix and return it as a float64 tensor."""
    if not isinstance(feats, Tensor):
        feats = torch.as_tensor(np.asarray(feats))
    if feats.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, F) tensor, got shape {tuple(feats.shape)}.")
    if feats.is_complex() or feats.dtype == torch.bool:
        raise ValueError(f"{name} must hold real numbers, got dtype {feats.dtype}.")
    if feats.shape[1] == 0:
        raise ValueError(f"{name} has zero features per sample; expected shape (N, F) with F >= 1.")
    if feats.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {feats.shape[0]}.")
    feats = feats.detach().to(torch.float64)
    if not bool(torch.isfinite(feats).all()):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return feats


def _check_same_width(a: Tensor, b: Tensor, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same feature size, got {a.shape[1]} and {b.shape[1]}."
        )


# ---------------------------------------------------------------------------------------------------------------
# Exact binomial confidence bounds
# ---------------------------------------------------------------------------------------------------------------


def _cp_upper_array(k: np.ndarray, n: np.ndarray, confidence: float) -> np.ndarray:
    """Vectorised one-sided Clopper-Pearson upper bound; the single implementation behind the scalar API.

    ``samples_needed`` scans many n at once and its result must agree bit for bit with
    :func:`clopper_pearson_upper`, so both go through this function.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    full = k >= n
    # betaincinv(a, b, .) needs b > 0; the k == n entries are overwritten with the exact answer 1.0 below.
    upper = betaincinv(k + 1.0, np.where(full, 1.0, n - k), confidence)
    return np.where(full, 1.0, upper)


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound of a binomial proportion.

    Equals ``scipy.stats.beta.ppf(confidence, k + 1, n - k)``, and 1.0 when ``k == n``. With probability at
    least ``confidence`` the true rate is at or below the returned value.

    Args:
        k: Number of observed successes, ``0 <= k <= n``.
        n: Number of trials, at least 1.
        confidence: One-sided confidence level in (0, 1).

    Returns:
        The upper bound as a float in (0, 1].

    Raises:
        ValueError: If the counts or the confidence level are out of range.
    """
    k, n = _check_counts(k, n)
    confidence = _check_confidence(confidence)
    return float(_cp_upper_array(np.array([k]), np.array([n]), confidence)[0])


def clopper_pearson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) confidence interval with equal tails.

    Each tail holds ``(1 - confidence) / 2``: the lower end is ``beta.ppf(alpha / 2, k, n - k + 1)`` (0.0 when
    ``k == 0``) and the upper end is ``beta.ppf(1 - alpha / 2, k + 1, n - k)`` (1.0 when ``k == n``).

    Args:
        k: Number of observed successes, ``0 <= k <= n``.
        n: Number of trials, at least 1.
        confidence: Two-sided coverage in (0, 1).

    Returns:
        ``(lower, upper)`` with ``0 <= lower <= k / n <= upper <= 1``.

    Raises:
        ValueError: If the counts or the confidence level are out of range.
    """
    k, n = _check_counts(k, n)
    confidence = _check_confidence(confidence)
    alpha = 1.0 - confidence
    lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2.0))
    upper = float(_cp_upper_array(np.array([k]), np.array([n]), 1.0 - alpha / 2.0)[0])
    return lower, upper


def samples_needed(rate: float, bound: float, confidence: float = 0.95) -> int:
    """Smallest sample size whose observed rate would certify a residual rate below ``bound``.

    A planner for audits: if the true residual rate is ``rate``, we expect ``k = round(rate * n)`` hits in ``n``
    samples (Python's ``round``, i.e. half to even), and we want the one-sided Clopper-Pearson upper bound
    ``clopper_pearson_upper(k, n, confidence)`` to be at most ``bound``. For ``rate == 0`` this is the classic
    "rule of three" size ``~ln(1 / (1 - confidence)) / bound``.

    Because ``k`` is rounded, the bound is not perfectly monotone in ``n``; the search is an exhaustive scan
    from ``n = 1`` (vectorised in chunks), so the result is the true minimum, not just a point where the
    bound first dips. Cost grows with the answer (about a second per million samples).

    Args:
        rate: Expected true rate, ``0 <= rate < bound``.
        bound: Rate we want to certify, ``0 < bound <= 1``.
        confidence: One-sided confidence level in (0, 1).

    Returns:
        The smallest ``n >= 1`` meeting the bound.

    Raises:
        ValueError: If ``rate >= bound`` (the bound can never be certified) or an argument is out of range.
    """
    rate = float(rate)
    bound = float(bound)
    confidence = _check_confidence(confidence)
    if not (math.isfinite(rate) and math.isfinite(bound)):
        raise ValueError(f"rate and bound must be finite numbers, got rate={rate}, bound={bound}.")
    if not 0.0 < bound <= 1.0:
        raise ValueError(f"bound must lie in (0, 1], got {bound}.")
    if rate < 0.0:
        raise ValueError(f"rate must be non-negative, got {rate}.")
    if rate >= bound:
        raise ValueError(
            f"rate={rate} is not below bound={bound}; no sample size can certify a bound at or below the "
            "true rate."
        )

    start, chunk = 1, 1024
    while True:
        n = np.arange(start, start + chunk, dtype=np.float64)
        # np.rint rounds half to even exactly like Python's round, so callers can reproduce k.
        k = np.rint(rate * n)
        hits = np.flatnonzero(_cp_upper_array(k, n, confidence) <= bound)
        if hits.size:
            return int(n[hits[0]])
        start += chunk
        chunk = min(chunk * 2, _SCAN_CHUNK_MAX)


# ---------------------------------------------------------------------------------------------------------------
# Residual rate of target content
# ---------------------------------------------------------------------------------------------------------------


def _check_labels(labels: Sequence[int], num_classes: int | None = None) -> list[int]:
    """Validate class indices; ``num_classes`` is checked only when known."""
    if isinstance(labels, (str, bytes)):
        raise ValueError(f"labels must be a sequence of class indices, got {labels!r}.")
    try:
        out = [_as_count(label, "each label") for label in labels]
    except TypeError:
        raise ValueError(f"labels must be a sequence of class indices, got {labels!r}.") from None
    if not out:
        raise ValueError("labels must name at least one target class.")
    for label in out:
        if label < 0 or (num_classes is not None and label >= num_classes):
            bound = f"[0, {num_classes})" if num_classes is not None else "non-negative"
            raise ValueError(f"label {label} is out of range; class indices must be {bound}.")
    return sorted(set(out))


def _check_threshold(threshold: float | None) -> float | None:
    if threshold is None:
        return None
    threshold = float(threshold)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}.")
    return threshold


def _residual_rate_update(probs: Tensor, labels: Sequence[int], threshold: float | None = None) -> tuple[int, int]:
    """Count target-content samples in one batch.

    Args:
        probs: Class probabilities of shape (N, K). Without ``threshold`` only the argmax matters, so logits work
            too.
        labels: Target class indices.
        threshold: If given, a sample is target content when its summed probability over ``labels`` is at
            least this value; otherwise when its argmax is one of ``labels``.

    Returns:
        ``(k, n)``: number of target-content samples and number of samples in the batch.

    Raises:
        ValueError: On a malformed ``probs`` tensor, labels or threshold.
    """
    if not isinstance(probs, Tensor):
        probs = torch.as_tensor(np.asarray(probs))
    if probs.ndim != 2:
        raise ValueError(f"probs must be a 2-D (N, K) tensor, got shape {tuple(probs.shape)}.")
    if probs.shape[1] == 0:
        raise ValueError("probs has zero classes; expected shape (N, K) with K >= 1.")
    if probs.is_complex() or probs.dtype == torch.bool:
        raise ValueError(f"probs must hold real numbers, got dtype {probs.dtype}.")
    label_list = _check_labels(labels, probs.shape[1])
    threshold = _check_threshold(threshold)
    probs = probs.detach().to(torch.float64)
    if not bool(torch.isfinite(probs).all()):
        raise ValueError("probs contains NaN or infinite values.")

    n = int(probs.shape[0])
    if n == 0:
        return 0, 0
    index = torch.tensor(label_list, dtype=torch.long, device=probs.device)
    if threshold is None:
        hit = torch.isin(probs.argmax(dim=1), index)
    else:
        hit = probs.index_select(1, index).sum(dim=1) >= threshold
    return int(hit.sum().item()), n


def _residual_rate_compute(k: int, n: int) -> dict[str, float | int]:
    """Turn accumulated counts into the report dict; see :func:`residual_rate`."""
    k = _as_count(k, "k")
    n = _as_count(n, "n")
    if n == 0:
        raise ValueError("residual rate needs at least one sample, got n=0.")
    return {"k": k, "n": n, "rate": k / n, "upper95": clopper_pearson_upper(k, n, 0.95)}


def residual_rate(probs: Tensor, labels: Sequence[int], threshold: float | None = None) -> dict[str, float | int]:
    """Share of generated samples that a classifier calls target content, with an exact 95 % upper bound.

    Args:
        probs: Classifier probabilities of shape (N, K), N >= 1.
        labels: Indices of the target classes.
        threshold: If given, a sample counts as target content when its summed probability over ``labels`` is
            at least ``threshold``; if None, when its argmax is one of ``labels``.

    Returns:
        ``{"k": hits, "n": samples, "rate": k / n, "upper95": one-sided 95 % Clopper-Pearson upper bound}``.

    Raises:
        ValueError: On malformed input or an empty batch.
    """
    k, n = _residual_rate_update(probs, labels, threshold)
    return _residual_rate_compute(k, n)


# ---------------------------------------------------------------------------------------------------------------
# Frechet distance
# ---------------------------------------------------------------------------------------------------------------


def _fid_update(feats: Tensor) -> tuple[Tensor, Tensor, int]:
    """Sufficient statistics of one batch: float64 feature sum (F,), outer-product sum (F, F) and count."""
    feats = _as_features(feats, "feats", min_samples=0)
    return feats.sum(dim=0), feats.T @ feats, int(feats.shape[0])


def _fid_stats_from_sums(total: Tensor, outer: Tensor, count: int) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance from accumulated sums (the torchmetrics FID recipe, in float64)."""
    if count < 2:
        raise ValueError(f"FID needs at least 2 samples per set to estimate a covariance, got {count}.")
    total = total.to(torch.float64)
    outer = outer.to(torch.float64)
    mu = total / count
    sigma = (outer - count * torch.outer(mu, mu)) / (count - 1)
    return mu, sigma


def feature_stats(feats: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance of a feature matrix.

    Uses the two-pass formula (centre first) for accuracy; matches ``numpy.cov(feats, rowvar=False)``.

    Args:
        feats: Features of shape (N, F), N >= 2.

    Returns:
        ``(mu, sigma)``: float64 tensors of shape (F,) and (F, F).

    Raises:
        ValueError: If ``feats`` is not 2-D, has fewer than 2 rows, or holds non-finite values.
    """
    feats = _as_features(feats, "feats", min_samples=2)
    mu = feats.mean(dim=0)
    centred = feats - mu
    sigma = centred.T @ centred / (feats.shape[0] - 1)
    return mu, sigma


def _sym_sqrt(mat: Tensor) -> Tensor:
    """Square root of a symmetric PSD matrix via eigh, clamping round-off negative eigenvalues to zero."""
    evals, evecs = torch.linalg.eigh(mat)
    return (evecs * evals.clamp_min(0.0).sqrt()) @ evecs.T


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """Frechet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``d^2 = |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^{1/2})``. The trace term is computed
    as the sum of square roots of the eigenvalues of ``sqrt(sigma1) sigma2 sqrt(sigma1)``: that matrix is similar
    to ``sigma1 sigma2`` but symmetric PSD, so eigh is stable and never yields the complex parts that
    ``scipy.linalg.sqrtm`` produces on singular covariances.

    Args:
        mu1: Mean of the first set, shape (F,).
        sigma1: Covariance of the first set, shape (F, F).
        mu2: Mean of the second set, shape (F,).
        sigma2: Covariance of the second set, shape (F, F).

    Returns:
        The squared Frechet distance as a non-negative float.

    Raises:
        ValueError: On mismatched shapes or non-finite entries.
    """
    mu1, mu2, sigma1, sigma2 = (
        torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).detach().to(torch.float64)
        for x in (mu1, mu2, sigma1, sigma2)
    )
    if mu1.ndim != 1 or mu2.ndim != 1:
        raise ValueError(f"mu1 and mu2 must be 1-D, got shapes {tuple(mu1.shape)} and {tuple(mu2.shape)}.")
    f = mu1.shape[0]
    if mu2.shape[0] != f or sigma1.shape != (f, f) or sigma2.shape != (f, f):
        raise ValueError(
            "mean and covariance shapes do not match: got mu1 "
            f"{tuple(mu1.shape)}, sigma1 {tuple(sigma1.shape)}, mu2 {tuple(mu2.shape)}, sigma2 {tuple(sigma2.shape)}."
        )
    if not all(bool(torch.isfinite(x).all()) for x in (mu1, mu2, sigma1, sigma2)):
        raise ValueError("means and covariances must be finite.")
    # Covariances accumulated from running sums are symmetric only up to round-off; eigh assumes exact symmetry.
    sigma1 = (sigma1 + sigma1.T) / 2
    sigma2 = (sigma2 + sigma2.T) / 2
    root1 = _sym_sqrt(sigma1)
    inner = root1 @ sigma2 @ root1
    inner = (inner + inner.T) / 2
    tr_covmean = torch.linalg.eigvalsh(inner).clamp_min(0.0).sqrt().sum()
    diff = mu1 - mu2
    value = float(diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2.0 * tr_covmean)
    # The distance is a squared norm; a tiny negative result (identical sets) is pure round-off.
    return max(value, 0.0)


def fid(feats_a: Tensor, feats_b: Tensor) -> float:
    """Frechet Inception Distance between two feature sets (any feature extractor).

    Args:
        feats_a: Features of shape (N_a, F), N_a >= 2.
        feats_b: Features of shape (N_b, F), N_b >= 2.

    Returns:
        The FID as a non-negative float.

    Raises:
        ValueError: If either set has fewer than 2 samples or the feature sizes differ.
    """
    a = _as_features(feats_a, "feats_a", min_samples=2)
    b = _as_features(feats_b, "feats_b", min_samples=2)
    _check_same_width(a, b, "feats_a", "feats_b")
    return frechet_distance(*feature_stats(a), *feature_stats(b))


# ---------------------------------------------------------------------------------------------------------------
# Kernel Inception Distance
# ---------------------------------------------------------------------------------------------------------------


def _poly_kernel(x: Tensor, y: Tensor) -> Tensor:
    """Cubic polynomial kernel ``(x.y / F + 1)^3`` used by KID."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD^2 estimate between equally sized sets ``x`` and ``y`` (as in torchmetrics' KID)."""
    m = x.shape[0]
    k_xx = _poly_kernel(x, x)
    k_yy = _poly_kernel(y, y)
    k_xy = _poly_kernel(x, y)
    # Unbiased: the within-set means drop the diagonal k(x_i, x_i) terms.
    sum_xx = k_xx.sum() - k_xx.diagonal().sum()
    sum_yy = k_yy.sum() - k_yy.diagonal().sum()
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid(
    feats_a: Tensor,
    feats_b: Tensor,
    *,
    subsets: int = 50,
    subset_size: int = 1000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel.

    Draws ``subsets`` random subsets of ``subset_size`` rows (without replacement) from each set, computes the
    unbiased MMD^2 on each pair and reports their mean and standard deviation, as torchmetrics does.

    Args:
        feats_a: Features of shape (N_a, F), N_a >= 2.
        feats_b: Features of shape (N_b, F), N_b >= 2.
        subsets: Number of random subset pairs, at least 1.
        subset_size: Rows per subset, at least 2; clipped to ``min(N_a, N_b)``.
        generator: Source of randomness for the subsets; None uses a fresh, seeded-from-entropy generator so the
            global torch RNG is never touched.

    Returns:
        ``(mean, std)`` over subsets; std uses Bessel's correction and is 0.0 when ``subsets == 1``. The mean can
        be slightly negative for identical distributions because the estimator is unbiased.

    Raises:
        ValueError: On too few samples, mismatched feature sizes or invalid subset settings.
    """
    a = _as_features(feats_a, "feats_a", min_samples=2)
    b = _as_features(feats_b, "feats_b", min_samples=2)
    _check_same_width(a, b, "feats_a", "feats_b")
    subsets = _as_count(subsets, "subsets")
    subset_size = _as_count(subset_size, "subset_size")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}.")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2 for the unbiased estimator, got {subset_size}.")
    m = min(subset_size, a.shape[0], b.shape[0])
    if generator is None:
        generator = torch.Generator()
        generator.seed()

    values = []
    for _ in range(subsets):
        # randperm on CPU with the caller's generator: reproducible regardless of where the features live.
        idx_a = torch.randperm(a.shape[0], generator=generator)[:m].to(a.device)
        idx_b = torch.randperm(b.shape[0], generator=generator)[:m].to(b.device)
        values.append(_mmd2_unbiased(a[idx_a], b[idx_b]))
    scores = np.asarray(values, dtype=np.float64)
    std = float(scores.std(ddof=1)) if subsets > 1 else 0.0
    return float(scores.mean()), std


# ---------------------------------------------------------------------------------------------------------------
# Improved precision and recall
# ---------------------------------------------------------------------------------------------------------------


def _sq_dists(x: Tensor, x_sq: Tensor, y: Tensor, y_sq: Tensor) -> tuple[Tensor, Tensor]:
    """Squared Euclidean distances and their absolute round-off tolerance for one block.

    The expansion ``|x|^2 + |y|^2 - 2 x.y`` is fast (one matmul) but cancels catastrophically for close points:
    its error is about ``eps * (|x|^2 + |y|^2)``, so comparisons against radii allow that much slack. In-place
    operations keep the peak at two float64 blocks.
    """
    scale = x_sq[:, None] + y_sq[None, :]
    d2 = (x @ y.T).mul_(-2.0).add_(scale).clamp_min_(0.0)
    return d2, scale.mul_(64.0 * torch.finfo(torch.float64).eps)


def _block_rows(n_cols: int) -> int:
    return max(1, _DIST_BLOCK_ENTRIES // max(n_cols, 1))


def _knn_radii_sq(feats: Tensor, k: int) -> Tensor:
    """Squared distance from each row to its k-th nearest neighbour in the same set, excluding itself."""
    n = feats.shape[0]
    sq = (feats * feats).sum(dim=1)
    radii = torch.empty(n, dtype=torch.float64, device=feats.device)
    step = _block_rows(n)
    for start in range(0, n, step):
        stop = min(start + step, n)
        d2, _ = _sq_dists(feats[start:stop], sq[start:stop], feats, sq)
        # Exclude self by index (not by "distance zero") so exact duplicates still count as neighbours.
        rows = torch.arange(stop - start, device=feats.device)
        d2[rows, rows + start] = math.inf
        radii[start:stop] = d2.topk(k, dim=1, largest=False).values[:, -1]
        del d2  # free this block before the next is allocated, so only one is ever alive
    return radii


def _inside(queries: Tensor, centres: Tensor, radii_sq: Tensor) -> Tensor:
    """For each query, whether it lies inside at least one ball (centre, radius): the manifold membership test."""
    q_sq = (queries * queries).sum(dim=1)
    c_sq = (centres * centres).sum(dim=1)
    out = torch.empty(queries.shape[0], dtype=torch.bool, device=queries.device)
    step = _block_rows(centres.shape[0])
    for start in range(0, queries.shape[0], step):
        stop = min(start + step, queries.shape[0])
        d2, tol = _sq_dists(queries[start:stop], q_sq[start:stop], centres, c_sq)
        out[start:stop] = (d2 <= tol.add_(radii_sq[None, :])).any(dim=1)
        del d2, tol  # free this block before the next is allocated, so only one is ever alive
    return out


def _coverage(queries: Tensor, centres: Tensor, radii_sq: Tensor) -> float:
    """Share of ``queries`` lying inside at least one ball (centre, radius)."""
    return int(_inside(queries, centres, radii_sq).sum().item()) / queries.shape[0]


def on_manifold(real_feats: Tensor, query_feats: Tensor, *, k: int = 3) -> Tensor:
    """Per query, whether it lies inside the k-NN manifold of ``real_feats`` (the test behind precision).

    Returns:
        A bool tensor (N_q,).
    """
    k = _as_count(k, "k")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    real = _as_features(real_feats, "real_feats", min_samples=k + 1)
    query = _as_features(query_feats, "query_feats")
    _check_same_width(real, query, "real_feats", "query_feats")
    return _inside(query, real, _knn_radii_sq(real, k))


def precision_recall(real_feats: Tensor, fake_feats: Tensor, *, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Each set's manifold is approximated by the union of balls centred at its samples with radius equal to the
    distance to the sample's k-th nearest neighbour in the same set (self excluded). Precision is the share of
    fake samples inside the real manifold (fidelity); recall is the share of real samples inside the fake
    manifold (coverage). Distances are evaluated in blocks of at most ``2**22`` entries, so 10,000 x 10,000
    samples need only about 100 MB beyond the inputs.

    Args:
        real_feats: Real features of shape (N_r, F), N_r > k.
        fake_feats: Generated features of shape (N_f, F), N_f > k.
        k: Neighbour index defining the ball radii, at least 1.

    Returns:
        ``(precision, recall)``, each in [0, 1].

    Raises:
        ValueError: If ``k < 1``, a set has ``k`` or fewer samples, or the feature sizes differ.
    """
    k = _as_count(k, "k")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    real = _as_features(real_feats, "real_feats", min_samples=k + 1)
    fake = _as_features(fake_feats, "fake_feats", min_samples=k + 1)
    _check_same_width(real, fake, "real_feats", "fake_feats")
    real_radii = _knn_radii_sq(real, k)
    fake_radii = _knn_radii_sq(fake, k)
    precision = _coverage(fake, real, real_radii)
    recall = _coverage(real, fake, fake_radii)
    return precision, recall
