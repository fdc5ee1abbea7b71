"""Tests for genredact.metrics: exact bounds against scipy, distances against direct numpy references."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch
from torchmetrics.utilities.data import dim_zero_sum

from genredact.metrics import (
    FeatureFID,
    ResidualRate,
    clopper_pearson_interval,
    clopper_pearson_upper,
    feature_stats,
    fid,
    frechet_distance,
    kid,
    precision_recall,
    residual_rate,
    samples_needed,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(n: int, f: int, seed: int) -> torch.Tensor:
    return torch.randn(n, f, generator=_gen(seed), dtype=torch.float64)


# ------------------------------------------------------------------------------------------------ binomial bounds

CP_GRID = [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (0, 1000), (7, 1000), (999, 1000), (1000, 1000), (50, 73)]


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize(("k", "n"), CP_GRID)
def test_clopper_pearson_upper_matches_scipy(k: int, n: int, confidence: float) -> None:
    expected = 1.0 if k == n else scipy.stats.beta.ppf(confidence, k + 1, n - k)
    assert clopper_pearson_upper(k, n, confidence) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("k", "n"), CP_GRID)
def test_clopper_pearson_interval_matches_scipy(k: int, n: int) -> None:
    alpha = 0.05
    lower_ref = 0.0 if k == 0 else scipy.stats.beta.ppf(alpha / 2, k, n - k + 1)
    upper_ref = 1.0 if k == n else scipy.stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
    lower, upper = clopper_pearson_interval(k, n, 0.95)
    assert lower == pytest.approx(lower_ref, rel=1e-12, abs=1e-15)
    assert upper == pytest.approx(upper_ref, rel=1e-12, abs=1e-15)
    assert lower <= k / n <= upper


def test_rule_of_three_for_zero_hits() -> None:
    # With k = 0 the exact bound is 1 - (1 - conf)^(1/n), i.e. about 3/n at 95 %.
    assert clopper_pearson_upper(0, 300) == pytest.approx(1 - 0.05 ** (1 / 300), rel=1e-12)


@pytest.mark.parametrize(("rate", "bound"), [(0.0, 0.01), (0.0, 0.05), (0.01, 0.03), (0.05, 0.1), (0.2, 0.3)])
def test_samples_needed_is_minimal(rate: float, bound: float) -> None:
    n = samples_needed(rate, bound)
    assert clopper_pearson_upper(round(rate * n), n) <= bound
    # Minimal over all smaller n, not just n - 1 (the rounded k makes the bound non-monotone).
    assert all(clopper_pearson_upper(round(rate * m), m) > bound for m in range(1, n))


def test_samples_needed_rate_zero_close_to_classic_formula() -> None:
    n = samples_needed(0.0, 0.01)
    assert n == math.ceil(math.log(1 / 0.05) / -math.log1p(-0.01))  # exact solution of (1 - b)^n <= 1 - conf
    assert abs(n - math.log(20) / 0.01) < 2


# ------------------------------------------------------------------------------------------------ residual rate


def _probs() -> torch.Tensor:
    # 6 samples, 4 classes; target labels {1, 3}.
    return torch.tensor(
        [
            [0.10, 0.70, 0.10, 0.10],  # argmax 1 -> hit; label mass 0.80
            [0.60, 0.10, 0.20, 0.10],  # argmax 0;        label mass 0.20
            [0.05, 0.05, 0.10, 0.80],  # argmax 3 -> hit; label mass 0.85
            [0.40, 0.25, 0.10, 0.25],  # argmax 0;        label mass 0.50
            [0.30, 0.20, 0.35, 0.15],  # argmax 2;        label mass 0.35
            [0.25, 0.25, 0.50, 0.00],  # argmax 2;        label mass 0.25
        ]
    )


def test_residual_rate_argmax() -> None:
    out = residual_rate(_probs(), [1, 3])
    assert out["k"] == 2 and out["n"] == 6
    assert out["rate"] == pytest.approx(2 / 6)
    assert out["upper95"] == pytest.approx(scipy.stats.beta.ppf(0.95, 3, 4), rel=1e-12)


def test_residual_rate_threshold() -> None:
    out = residual_rate(_probs(), [1, 3], threshold=0.5)
    assert (out["k"], out["n"]) == (3, 6)  # the 0.50 row counts: the comparison is >=
    assert residual_rate(_probs(), [1, 3], threshold=0.3)["k"] == 4
    assert residual_rate(_probs(), [2], threshold=0.9)["k"] == 0


# ------------------------------------------------------------------------------------------------ FID


def _fid_reference(a: np.ndarray, b: np.ndarray) -> float:
    """The pytorch-fid recipe: scipy.linalg.sqrtm of sigma1 @ sigma2."""
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_feature_stats_matches_numpy() -> None:
    x = _randn(50, 6, 0)
    mu, sigma = feature_stats(x.float())
    assert mu.dtype == torch.float64 and sigma.shape == (6, 6)
    np.testing.assert_allclose(mu.numpy(), x.float().double().numpy().mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(x.float().double().numpy(), rowvar=False), rtol=1e-10)


def test_fid_matches_scipy_reference() -> None:
    a = _randn(400, 16, 1)
    b = _randn(300, 16, 2) * 1.3 + 0.25
    mix = torch.randn(16, 16, generator=_gen(3), dtype=torch.float64)
    b = b @ mix / 4  # correlated features, so sigma1 @ sigma2 is far from diagonal
    expected = _fid_reference(a.numpy(), b.numpy())
    assert fid(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(*feature_stats(a), *feature_stats(b)) == pytest.approx(expected, rel=1e-6)


def test_fid_self_zero_and_grows_with_shift() -> None:
    a = _randn(300, 8, 4)
    b = _randn(300, 8, 5)
    assert fid(a, a) == pytest.approx(0.0, abs=1e-9)
    near = fid(a, b)
    far = fid(a, b + 1.0)
    assert near < 0.5
    assert far > near + 7.0  # the shift adds |1|^2 * 8 = 8 to the mean term


# ------------------------------------------------------------------------------------------------ KID


def _mmd2_unbiased_numpy(x: np.ndarray, y: np.ndarray) -> float:
    f = x.shape[1]
    kxx = (x @ x.T / f + 1) ** 3
    kyy = (y @ y.T / f + 1) ** 3
    kxy = (x @ y.T / f + 1) ** 3
    m = x.shape[0]
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.sum() / m**2
    )


def test_kid_full_set_matches_numpy() -> None:
    a = _randn(60, 8, 6)
    b = _randn(60, 8, 7) + 0.3
    # subset_size >= n uses every row, so the random permutation cannot change the value.
    mean, std = kid(a, b, subsets=1, subset_size=1000, generator=_gen(0))
    assert mean == pytest.approx(_mmd2_unbiased_numpy(a.numpy(), b.numpy()), rel=1e-10)
    assert std == 0.0


def test_kid_identical_vs_shifted_and_reproducible() -> None:
    a = _randn(200, 16, 8)
    b = _randn(200, 16, 9)
    same_mean, _ = kid(a, b, subsets=10, subset_size=100, generator=_gen(1))
    shifted_mean, shifted_std = kid(a, b + 1.0, subsets=10, subset_size=100, generator=_gen(1))
    assert abs(same_mean) < 0.02
    assert shifted_mean > 0.2
    assert shifted_std > 0.0
    assert kid(a, b, subsets=5, subset_size=50, generator=_gen(2)) == kid(
        a, b, subsets=5, subset_size=50, generator=_gen(2)
    )


def test_kid_does_not_touch_global_rng() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    kid(_randn(30, 4, 0), _randn(30, 4, 1), subsets=3, subset_size=10)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------------------------------ precision/recall


def test_precision_recall_identical_sets() -> None:
    a = _randn(200, 8, 10)
    assert precision_recall(a, a.clone(), k=3) == (1.0, 1.0)


def test_precision_recall_far_fake_set() -> None:
    a = _randn(200, 8, 11)
    precision, recall = precision_recall(a, _randn(200, 8, 12) + 50.0, k=3)
    assert precision == 0.0 and recall == 0.0


def test_precision_recall_partial_coverage() -> None:
    real = _randn(400, 2, 13)
    # Fake samples from one half of the real distribution only (x > 0.3): realistic but not diverse.
    fake = real[real[:, 0] > 0.3] + 0.01 * _randn(int((real[:, 0] > 0.3).sum()), 2, 14)
    precision, recall = precision_recall(real, fake, k=3)
    assert precision > 0.9
    assert recall < 0.6


def test_precision_recall_blocks_agree_with_bruteforce(monkeypatch: pytest.MonkeyPatch) -> None:
    import genredact.metrics.functional as functional

    real = _randn(120, 5, 15)
    fake = _randn(90, 5, 16) * 1.2 + 0.2
    d_rr = torch.cdist(real, real)
    d_ff = torch.cdist(fake, fake)
    d_fr = torch.cdist(fake, real)
    r_real = d_rr.sort(dim=1).values[:, 3]  # column 0 is self
    r_fake = d_ff.sort(dim=1).values[:, 3]
    precision_ref = (d_fr <= r_real[None, :]).any(dim=1).double().mean().item()
    recall_ref = (d_fr.T <= r_fake[None, :]).any(dim=1).double().mean().item()
    # Force many tiny blocks so the chunking logic is exercised.
    monkeypatch.setattr(functional, "_DIST_BLOCK_ENTRIES", 500)
    assert precision_recall(real, fake, k=3) == pytest.approx((precision_ref, recall_ref))
    assert 0.0 < precision_ref < 1.0 and 0.0 < recall_ref < 1.0


# ------------------------------------------------------------------------------------------------ Metric classes


def test_residual_rate_metric_batches_equal_one_shot() -> None:
    probs = torch.softmax(torch.randn(37, 5, generator=_gen(20)), dim=1)
    one_shot = residual_rate(probs, [0, 4], threshold=0.4)
    metric = ResidualRate([0, 4], threshold=0.4)
    for chunk in probs.split(10):
        metric.update(chunk)
    assert metric.compute() == one_shot
    single = ResidualRate([0, 4], threshold=0.4)
    single.update(probs)
    assert single.compute() == one_shot
    assert ResidualRate.higher_is_better is False and ResidualRate.full_state_update is False


def test_residual_rate_metric_forward_and_reset() -> None:
    probs = _probs()
    metric = ResidualRate([1, 3])
    batch = metric(probs[:3])
    assert (batch["k"], batch["n"]) == (2, 3)
    metric(probs[3:])
    assert (metric.compute()["k"], metric.compute()["n"]) == (2, 6)
    metric.reset()
    with pytest.raises(ValueError), pytest.warns(UserWarning, match="before the ``update``"):
        metric.compute()


@pytest.mark.parametrize("num_features", [None, 6])
def test_feature_fid_batches_equal_functional(num_features: int | None) -> None:
    real = _randn(90, 6, 21)
    fake = _randn(70, 6, 22) * 0.8 + 0.3
    expected = fid(real, fake)
    metric = FeatureFID(num_features)
    for chunk in real.split(25):
        metric.update(chunk, real=True)
    for chunk in fake.float().split(16):  # float32 batches are accumulated in float64
        metric.update(chunk, real=False)
    assert metric.compute() == pytest.approx(fid(real, fake.float()), rel=1e-9)
    assert metric.compute() == pytest.approx(expected, rel=1e-6)
    single = FeatureFID(num_features)
    single(real, True)  # forward only accumulates
    single(fake, False)
    assert single.compute() == pytest.approx(expected, rel=1e-9)
    assert FeatureFID.higher_is_better is False and FeatureFID.full_state_update is False


def test_metric_states_reduce_by_sum() -> None:
    metric = FeatureFID(3)
    assert len(metric._defaults) == 6
    assert all(metric._reductions[name] is dim_zero_sum for name in metric._defaults)
    rr = ResidualRate([0])
    assert set(rr._defaults) == {"k", "n"}
    assert all(rr._reductions[name] is dim_zero_sum for name in rr._defaults)


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: clopper_pearson_upper(0, 0),
        lambda: clopper_pearson_upper(5, 4),
        lambda: clopper_pearson_upper(-1, 4),
        lambda: clopper_pearson_upper(1, 4, confidence=1.0),
        lambda: clopper_pearson_upper(1.5, 4),
        lambda: clopper_pearson_interval(1, 0),
        lambda: samples_needed(0.05, 0.05),
        lambda: samples_needed(0.1, 0.05),
        lambda: samples_needed(0.0, 0.0),
        lambda: residual_rate(torch.zeros(0, 3), [1]),
        lambda: residual_rate(torch.zeros(4), [1]),
        lambda: residual_rate(torch.zeros(2, 3), [3]),
        lambda: residual_rate(torch.zeros(2, 3), []),
        lambda: residual_rate(torch.zeros(2, 3), [1], threshold=1.5),
        lambda: residual_rate(torch.full((2, 3), float("nan")), [1]),
        lambda: fid(torch.zeros(1, 4), torch.zeros(5, 4)),
        lambda: fid(torch.zeros(5, 4), torch.zeros(5, 3)),
        lambda: fid(torch.zeros(5), torch.zeros(5)),
        lambda: frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(2), torch.eye(2)),
        lambda: feature_stats(torch.zeros(1, 3)),
        lambda: kid(torch.zeros(1, 4), torch.zeros(5, 4)),
        lambda: kid(torch.zeros(5, 4), torch.zeros(5, 3)),
        lambda: kid(torch.zeros(5, 4), torch.zeros(5, 4), subsets=0),
        lambda: kid(torch.zeros(5, 4), torch.zeros(5, 4), subset_size=1),
        lambda: precision_recall(torch.zeros(3, 4), torch.zeros(10, 4), k=3),
        lambda: precision_recall(torch.zeros(10, 4), torch.zeros(10, 3)),
        lambda: precision_recall(torch.zeros(10, 4), torch.zeros(10, 4), k=0),
        lambda: ResidualRate([]),
        lambda: ResidualRate([1], threshold=0.0),
        lambda: FeatureFID(0),
    ],
)
def test_bad_input_raises_value_error(call) -> None:  # noqa: ANN001 - a lambda under test
    with pytest.raises(ValueError):
        call()


def test_metric_classes_bad_input() -> None:
    metric = FeatureFID()
    metric.update(torch.zeros(4, 3), real=True)
    with pytest.raises(ValueError):
        metric.update(torch.zeros(4, 5), real=False)
    with pytest.raises(ValueError):  # no fake samples yet
        metric.compute()
    rr = ResidualRate([7])
    with pytest.raises(ValueError):  # label 7 does not exist with 3 classes
        rr.update(torch.zeros(2, 3))
