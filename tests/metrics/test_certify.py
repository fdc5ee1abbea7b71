"""The sequential certificate: bounds against scipy.stats.beta, the stopping rule, and its error rate."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from genredact.metrics.certify import clopper_pearson_lower, look_schedule, plan, sequential_certificate
from genredact.metrics.functional import clopper_pearson_upper


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 1000), (37, 4000), (100, 100)])
def test_lower_bound_matches_scipy(k, n):
    expected = 0.0 if k == 0 else stats.beta.ppf(0.05, k, n - k + 1)
    assert clopper_pearson_lower(k, n, 0.95) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert clopper_pearson_lower(k, n) <= k / n <= clopper_pearson_upper(k, n)


def test_schedule_doubles_and_ends_at_max():
    assert look_schedule(1000, 10000) == [1000, 2000, 4000, 8000, 10000]
    assert look_schedule(500, 500) == [500]
    with pytest.raises(ValueError):
        look_schedule(0, 10)


def _counter(flags):
    """count_flagged over a fixed 0/1 sequence, consumed in order."""
    pos = [0]

    def count(m):
        k = int(flags[pos[0]: pos[0] + m].sum())
        pos[0] += m
        return k

    return count


def test_stopping_rule_agrees_with_scipy_at_every_look():
    rng = np.random.default_rng(0)
    flags = rng.random(16000) < 0.004
    eps, looks = 0.01, look_schedule(1000, 16000)
    level = 1 - 0.05 / len(looks)
    # The first look whose scipy bound is below eps is where the rule must stop.
    expected = next(n for n in looks if stats.beta.ppf(level, flags[:n].sum() + 1, n - flags[:n].sum()) < eps)
    cert = sequential_certificate(_counter(flags), eps, n0=1000, max_n=16000)
    assert cert.decision == "certified" and cert.n == expected and cert.k == flags[:expected].sum()
    assert cert.upper == pytest.approx(stats.beta.ppf(level, cert.k + 1, cert.n - cert.k), rel=1e-9)
    assert cert.look_confidence == pytest.approx(level) and "Bonferroni" in cert.rule


def test_refuted_and_inconclusive():
    high = np.zeros(8000, bool)
    high[::10] = True  # rate 0.1
    cert = sequential_certificate(_counter(high), 0.05, n0=1000, max_n=8000)
    assert cert.decision == "refuted" and cert.n == 1000 and cert.lower > 0.05
    near = np.zeros(8000, bool)
    near[::100] = True  # rate 0.01, eps 0.01: cannot be settled either way
    cert = sequential_certificate(_counter(near), 0.01, n0=1000, max_n=8000)
    assert cert.decision == "inconclusive" and cert.n == 8000 and cert.looks_used == 4


def test_false_certificate_rate_stays_below_alpha():
    # True rate exactly eps: every "certified" is an error. With 11 looks and Bonferroni it must stay <= 5%.
    rng = np.random.default_rng(1)
    eps, errors, runs = 0.02, 0, 400
    for _ in range(runs):
        cert = sequential_certificate(lambda m: int(rng.binomial(m, eps)), eps, n0=100, max_n=102400)
        errors += cert.decision == "certified"
    assert errors / runs <= 0.05


def test_plan_matches_the_rule():
    res = plan(0.002, 0.005)
    assert res["single_test_n"] < res["sequential_n"]
    k = int(np.rint(0.002 * res["sequential_n"]))
    assert stats.beta.ppf(res["look_confidence"], k + 1, res["sequential_n"] - k) < 0.005
    with pytest.raises(ValueError):
        plan(0.01, 0.005)
    with pytest.raises(ValueError):
        sequential_certificate(lambda m: 0, 1.5)
