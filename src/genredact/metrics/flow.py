"""Metrics for flows (Taming's evaluation, `research/algorithms.md` 3.4): bits per dimension and
likelihood quantiles of image groups before and after an edit, the shift of the remember data's BPD
distribution, the class mix of samples under the evaluation judge with 95% intervals, and a
membership check (can the forget images be told from never-seen images by likelihood?).

The quantile of an image with BPD b under a model is 1 - Phi((b - mu) / sigma), mu and sigma the mean
and std of that model's BPD on remember (retain) images: the share of typical data that is less
likely than the image. BPD is an affine function of the NLL, so this equals the paper's NLL form.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from genredact.data import ImageData, to_float
from genredact.metrics.functional import clopper_pearson_interval
from genredact.seeding import make_generator


def likelihood_quantile(bpd: torch.Tensor | np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """1 - Phi((bpd - mu) / sigma) per image."""
    from scipy.stats import norm

    return norm.sf((np.asarray(bpd, dtype=np.float64) - mu) / sigma)


def membership_auc(member_bpd: torch.Tensor | np.ndarray, other_bpd: torch.Tensor | np.ndarray) -> float:
    """AUC of telling members (forget images) from others (never-seen images) by likelihood: the chance
    that a random member has a lower BPD than a random other (ties count half). 0.5: indistinguishable;
    below 0.5: the members are *less* likely than unseen images."""
    a = np.asarray(member_bpd, dtype=np.float64)[:, None]
    b = np.asarray(other_bpd, dtype=np.float64)[None, :]
    return float(((a < b).sum() + 0.5 * (a == b).sum()) / (a.size * b.size))


def bpd_shift(before: torch.Tensor | np.ndarray, after: torch.Tensor | np.ndarray) -> dict[str, float]:
    """Mean/std of a BPD distribution before and after, the relative change of the mean (%) and the
    1-Wasserstein distance between the two empirical distributions (bits per dimension)."""
    from scipy.stats import wasserstein_distance

    b, a = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    return {
        "mean_before": float(b.mean()), "mean_after": float(a.mean()), "std_before": float(b.std()), "std_after": float(a.std()),
        "change_pct": float(100 * (a.mean() - b.mean()) / b.mean()), "wasserstein": float(wasserstein_distance(b, a)),
    }


def class_mix(probs: torch.Tensor, class_names: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """Shares of each class among samples (argmax of judge probabilities (N, K)) with two-sided 95%
    Clopper-Pearson intervals."""
    n, k = probs.shape
    counts = probs.argmax(1).bincount(minlength=k).tolist()
    names = list(class_names) if class_names else [str(i) for i in range(k)]
    intervals = [clopper_pearson_interval(int(c), n) for c in counts]
    return {"n": n, "shares": [c / n for c in counts], "low95": [lo for lo, _ in intervals], "high95": [hi for _, hi in intervals], "class_names": names}


_POOL_FEATURES: dict[tuple[int, int, int], torch.Tensor] = {}


@torch.no_grad()
def judge_neighbours(judge: torch.nn.Module, queries: np.ndarray, pool: ImageData, exclude: np.ndarray, batch_size: int = 4000) -> np.ndarray:
    """For each query image, the index in `pool` of its nearest neighbour in the judge's feature space
    (Euclidean), skipping pool indices in `exclude` (the forget images themselves)."""
    _, fq = judge.predict(to_float(queries))
    best_d = torch.full((len(queries),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(queries), dtype=torch.long)
    excluded = torch.zeros(len(pool), dtype=torch.bool)
    excluded[torch.as_tensor(exclude, dtype=torch.long)] = True
    key = (id(judge), id(pool.x), len(pool))
    if key not in _POOL_FEATURES:  # the pool's features are reused across calls (one cached pool)
        _POOL_FEATURES.clear()
        _POOL_FEATURES[key] = torch.cat([judge.predict(to_float(pool.x[i : i + batch_size]))[1] for i in range(0, len(pool), batch_size)])
    feats = _POOL_FEATURES[key]
    for i in range(0, len(pool), batch_size):
        fp = feats[i : i + batch_size]
        d = torch.cdist(fq, fp)
        d[:, excluded[i : i + batch_size]] = float("inf")
        m, j = d.min(1)
        better = m < best_d
        best_d[better], best_i[better] = m[better], j[better] + i
    return best_i.numpy()


def flow_metrics(
    original: torch.nn.Module,
    edited: torch.nn.Module,
    *,
    train: ImageData,
    test: ImageData,
    forget_idx: np.ndarray,
    forget: np.ndarray,
    classes: tuple[int, ...],
    judge: torch.nn.Module | None = None,
    k: float = 4.0,
    band: float = 0.15,
    n_random: int = 2000,
    n_group: int = 200,
    draws: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    """BPD and likelihood quantile for the four groups (forget; held-out same class = test images of
    the forget images' classes; random retain = training images outside the forget set and outside those
    classes; nearest neighbours of the forget images in the judge's feature space), before and after,
    the band share, the remember BPD shift and the membership AUC (forget vs held-out same-class).
    Quantiles and the band use mu and sigma of `n_random` remember images (outside the forget set)."""
    rng = np.random.default_rng(seed)
    in_forget = np.zeros(len(train), bool)
    in_forget[forget_idx] = True
    retain_pool = np.flatnonzero(~in_forget & ~np.isin(train.y, list(classes)))
    if len(retain_pool) == 0:
        retain_pool = np.flatnonzero(~in_forget)
    groups: dict[str, np.ndarray] = {
        "forget": forget if len(forget) <= n_group else forget[rng.choice(len(forget), n_group, replace=False)],
        "random_retain": train.x[rng.choice(retain_pool, min(n_random, len(retain_pool)), replace=False)],
    }
    held = np.flatnonzero(np.isin(test.y, list(classes))) if classes else np.arange(len(test))
    groups["heldout_same_class"] = test.x[rng.choice(held, min(n_group, len(held)), replace=False)]
    if judge is not None:
        nn_idx = judge_neighbours(judge, groups["forget"], train, np.flatnonzero(in_forget))
        groups["nearest_neighbour"] = train.x[np.unique(nn_idx)]
    # The band's mu and sigma: the remember data as taming defines it (every training image outside the
    # forget set; classmates included when single images are forgotten), drawn last so the groups above
    # do not depend on it. BPD has a heavy upper tail: a few hundred images misplace mu + 4 sigma.
    groups["remember"] = train.x[rng.choice(np.flatnonzero(~in_forget), min(n_random, int((~in_forget).sum())), replace=False)]
    out: dict[str, Any] = {}
    for name, model in (("before", original), ("after", edited)):
        bpd = {g: model.bpd_of(x, generator=make_generator(seed + 1), draws=draws).numpy() for g, x in groups.items()}
        mu, sigma = float(bpd["remember"].mean()), float(bpd["remember"].std())
        out[name] = {"mu": mu, "sigma": sigma, "band_level": mu + k * sigma}
        for g, b in bpd.items():
            q = likelihood_quantile(b, mu, sigma)
            out[name][g] = {"n": int(len(b)), "bpd": float(b.mean()), "quantile": float(q.mean())}
        d = bpd["forget"] - (mu + k * sigma)
        out[name]["forget_in_band"] = float((np.abs(d) <= band * k * sigma).mean())
        out[name]["forget_past_band_edge"] = float((d >= -band * k * sigma).mean())
        out[name]["_bpd"] = bpd
    out["band_quantile"] = float(likelihood_quantile(np.array([k - band * k]), 0.0, 1.0)[0])
    out["remember_shift"] = bpd_shift(out["before"]["_bpd"]["random_retain"], out["after"]["_bpd"]["random_retain"])
    out["membership_auc_before"] = membership_auc(out["before"]["_bpd"]["forget"], out["before"]["_bpd"]["heldout_same_class"])
    out["membership_auc"] = membership_auc(out["after"]["_bpd"]["forget"], out["after"]["_bpd"]["heldout_same_class"])
    return out


def strip_arrays(metrics: dict[str, Any]) -> dict[str, Any]:
    """`flow_metrics` output without the per-image arrays (JSON-ready); the arrays stay under `_bpd`."""
    return {k: ({kk: vv for kk, vv in v.items() if kk != "_bpd"} if isinstance(v, dict) else v) for k, v in metrics.items()}

