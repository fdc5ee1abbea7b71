"""Sequential certificates for a residual rate: sample until an exact bound settles `rate < eps`.

Looking at a Clopper-Pearson bound after every batch and stopping at the first good look would inflate the
error rate (each look is another chance to be lucky). The rule here fixes the looks in advance and splits
the error over them (Bonferroni), so the whole procedure keeps its stated confidence:

- looks after n_i = n0 * 2**i samples, i = 0 .. L-1, the last one at `max_n` (L looks in all);
- at look i, with k flagged samples out of n_i, compute the one-sided Clopper-Pearson upper bound U and
  lower bound B, each at level 1 - alpha / L (alpha = 1 - confidence);
- stop with **certified** as soon as U < eps; stop with **refuted** as soon as B > eps (the rate is above
  eps with the same confidence); after the last look without either, the answer is **inconclusive**.

The chance that the procedure certifies while the true rate is >= eps is at most alpha / L per look, so at
most alpha in all; the same holds for refuting.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
from scipy.special import betaincinv

from genredact.metrics.functional import _check_confidence, _check_counts, clopper_pearson_upper, samples_needed


def clopper_pearson_lower(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact lower bound: `scipy.stats.beta.ppf(1 - confidence, k, n - k + 1)`, 0.0 when k == 0."""
    k, n = _check_counts(k, n)
    confidence = _check_confidence(confidence)
    return 0.0 if k == 0 else float(betaincinv(k, n - k + 1, 1.0 - confidence))


def look_schedule(n0: int, max_n: int) -> list[int]:
    """Sample sizes at which the rule looks: n0, 2 n0, 4 n0, ... and finally max_n."""
    if n0 < 1 or max_n < n0:
        raise ValueError(f"need 1 <= n0 <= max_n, got n0={n0}, max_n={max_n}")
    looks = [n0]
    while looks[-1] * 2 < max_n:
        looks.append(looks[-1] * 2)
    if looks[-1] != max_n:
        looks.append(max_n)
    return looks


@dataclass(frozen=True)
class Certificate:
    """The outcome of `sequential_certificate`.

    Attributes:
        decision: 'certified' (rate < eps), 'refuted' (rate > eps) or 'inconclusive'.
        eps: the rate that was to be certified.
        n, k: samples drawn and flagged when the rule stopped.
        rate: k / n.
        upper, lower: the one-sided bounds at the per-look level `look_confidence`.
        upper95: the plain one-sided 95% upper bound at the stopping n (for comparison only).
        looks: the schedule; looks_used: how many looks were taken.
        confidence, look_confidence: the overall level and the per-look level 1 - alpha / L.
        rule: the stopping rule in words.
    """

    decision: str
    eps: float
    n: int
    k: int
    rate: float
    upper: float
    lower: float
    upper95: float
    looks: list[int]
    looks_used: int
    confidence: float
    look_confidence: float
    rule: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stopping_rule(looks: list[int], eps: float, confidence: float) -> str:
    alpha = 1.0 - confidence
    return (
        f"look after n = {', '.join(str(n) for n in looks)} samples; at each look compute one-sided Clopper-Pearson "
        f"bounds at level 1 - {alpha:g}/{len(looks)} = {1 - alpha / len(looks):.5f} (Bonferroni over the {len(looks)} looks); "
        f"certify rate < {eps:g} when the upper bound falls below it, refute when the lower bound rises above it, "
        f"else inconclusive at n = {looks[-1]}; overall confidence {confidence:g}"
    )


def sequential_certificate(
    count_flagged: Callable[[int], int],
    eps: float,
    *,
    n0: int = 1000,
    max_n: int = 1_000_000,
    confidence: float = 0.95,
    on_look: Callable[[int, int, float], None] | None = None,
) -> Certificate:
    """Run the sequential rule of the module docstring.

    Args:
        count_flagged: `count_flagged(m)` draws m new samples and returns how many are target content.
        eps: the residual rate to certify, in (0, 1).
        n0, max_n: the first and the last look.
        confidence: overall one-sided confidence.
        on_look: called as on_look(n, k, upper) after each look (progress display).
    """
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and 0.0 < eps < 1.0):
        raise ValueError(f"eps must be a rate in (0, 1), got {eps}")
    confidence = _check_confidence(confidence)
    looks = look_schedule(n0, max_n)
    level = 1.0 - (1.0 - confidence) / len(looks)
    n = k = 0
    upper = lower = float("nan")
    decision = "inconclusive"
    used = 0
    for target_n in looks:
        flagged = int(count_flagged(target_n - n))
        if not 0 <= flagged <= target_n - n:
            raise ValueError(f"count_flagged({target_n - n}) returned {flagged}, which is not a count of those samples")
        k += flagged
        n = target_n
        used += 1
        upper = clopper_pearson_upper(k, n, level)
        lower = clopper_pearson_lower(k, n, level)
        if on_look is not None:
            on_look(n, k, upper)
        if upper < eps:
            decision = "certified"
            break
        if lower > eps:
            decision = "refuted"
            break
    return Certificate(
        decision=decision, eps=float(eps), n=n, k=k, rate=k / n, upper=upper, lower=lower, upper95=clopper_pearson_upper(k, n, 0.95),
        looks=looks, looks_used=used, confidence=confidence, look_confidence=level, rule=stopping_rule(looks, eps, confidence),
    )


def plan(rate: float, eps: float, *, confidence: float = 0.95, n0: int = 1000, max_n: int = 1_000_000) -> dict[str, Any]:
    """How many samples certifying `rate < eps` takes if the observed rate is `rate`: with one fixed-size
    test at `confidence`, and with the sequential rule (the first look that would certify)."""
    single = samples_needed(rate, eps, confidence)
    looks = look_schedule(n0, max_n)
    level = 1.0 - (1.0 - confidence) / len(looks)
    sequential = next((n for n in looks if clopper_pearson_upper(int(np.rint(rate * n)), n, level) < eps), None)
    return {"rate": rate, "eps": eps, "confidence": confidence, "single_test_n": single, "sequential_n": sequential, "looks": looks, "look_confidence": level}
