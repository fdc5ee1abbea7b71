"""torchmetrics ``Metric`` wrappers that accumulate the functional cores over batches and across processes."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from genredact.metrics.functional import (
    _check_labels,
    _check_threshold,
    _fid_stats_from_sums,
    _fid_update,
    _residual_rate_compute,
    _residual_rate_update,
    frechet_distance,
)

__all__ = ["ResidualRate", "FeatureFID"]


class ResidualRate(Metric):
    """Running residual rate of target content with an exact 95 % upper bound.

    Accumulates the hit count ``k`` and sample count ``n`` (both sum-reduced across processes, so the bound is
    computed on the global counts, not averaged per rank).

    Args:
        labels: Target class indices.
        threshold: If given, a sample is target content when its summed probability over ``labels`` is at least
            this value; otherwise when its argmax is one of ``labels``.
        **kwargs: Forwarded to :class:`torchmetrics.Metric`.

    Raises:
        ValueError: If ``labels`` is empty or negative, or ``threshold`` is outside (0, 1].
    """

    higher_is_better = False
    is_differentiable = False
    full_state_update = False

    k: Tensor
    n: Tensor

    def __init__(self, labels: Sequence[int], threshold: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Validate eagerly so a bad configuration fails at construction, not at the first batch.
        self.labels = _check_labels(labels)
        self.threshold = _check_threshold(threshold)
        self.add_state("k", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("n", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, probs: Tensor) -> None:
        """Add one batch of classifier probabilities of shape (N, K)."""
        k, n = _residual_rate_update(probs, self.labels, self.threshold)
        self.k += k
        self.n += n

    def compute(self) -> dict[str, float | int]:
        """Return ``{"rate", "upper95", "k", "n"}`` over everything seen; raises ValueError when n == 0."""
        return _residual_rate_compute(int(self.k.item()), int(self.n.item()))


class FeatureFID(Metric):
    """Running FID between real and fake feature sets from float64 running sums.

    Keeps, per side, the feature sum, the sum of outer products and the count; these are all sum-reduced, so
    the result over several processes equals the result on the concatenated data.

    Args:
        num_features: Feature size F. If None, the states are sized on the first ``update``; pass it explicitly
            for distributed runs, where every rank's states must have the same shape before any data arrives.
        **kwargs: Forwarded to :class:`torchmetrics.Metric`.

    Raises:
        ValueError: If ``num_features`` is given and not positive.
    """

    higher_is_better = False
    is_differentiable = False
    full_state_update = False

    real_sum: Tensor
    real_outer: Tensor
    real_n: Tensor
    fake_sum: Tensor
    fake_outer: Tensor
    fake_n: Tensor

    def __init__(self, num_features: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_features is not None and (isinstance(num_features, bool) or int(num_features) < 1):
            raise ValueError(f"num_features must be a positive integer or None, got {num_features!r}.")
        self.num_features = None if num_features is None else int(num_features)
        f = self.num_features or 0
        for side in ("real", "fake"):
            self.add_state(f"{side}_sum", default=torch.zeros(f, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{side}_outer", default=torch.zeros(f, f, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{side}_n", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, feats: Tensor, real: bool) -> None:
        """Add a batch of features of shape (N, F) to the real (``real=True``) or fake side.

        Raises:
            ValueError: If ``feats`` is malformed or its feature size differs from earlier batches.
        """
        total, outer, count = _fid_update(feats)
        width = total.shape[0]
        if self.num_features is None:
            # Lazily size both sides on the first batch; device follows the metric's states.
            self.num_features = width
            device = self.real_n.device
            for side in ("real", "fake"):
                setattr(self, f"{side}_sum", torch.zeros(width, dtype=torch.float64, device=device))
                setattr(self, f"{side}_outer", torch.zeros(width, width, dtype=torch.float64, device=device))
        elif width != self.num_features:
            raise ValueError(f"feats has {width} features but this metric holds {self.num_features}-feature statistics.")
        side = "real" if real else "fake"
        device = self.real_n.device
        setattr(self, f"{side}_sum", getattr(self, f"{side}_sum") + total.to(device))
        setattr(self, f"{side}_outer", getattr(self, f"{side}_outer") + outer.to(device))
        setattr(self, f"{side}_n", getattr(self, f"{side}_n") + count)

    def forward(self, feats: Tensor, real: bool) -> None:  # type: ignore[override]
        """Accumulate like :meth:`update` and return None.

        A per-batch FID is meaningless (a batch holds one side only), so the generic torchmetrics ``forward``,
        which computes the metric on the batch alone, is replaced by a plain update.
        """
        self.update(feats, real)
        return None

    def compute(self) -> float:
        """FID between everything seen on the real and fake sides.

        Raises:
            ValueError: If either side has fewer than 2 samples.
        """
        if int(self.real_n) < 2 or int(self.fake_n) < 2:
            raise ValueError(
                "FeatureFID needs at least 2 real and 2 fake samples, got "
                f"{int(self.real_n)} real and {int(self.fake_n)} fake."
            )
        mu_r, sigma_r = _fid_stats_from_sums(self.real_sum, self.real_outer, int(self.real_n))
        mu_f, sigma_f = _fid_stats_from_sums(self.fake_sum, self.fake_outer, int(self.fake_n))
        return frechet_distance(mu_r, sigma_r, mu_f, sigma_f)

    def reset(self) -> None:
        """Reset the states; a lazily sized metric also forgets its feature size."""
        super().reset()
        if self.real_sum.numel() == 0:
            self.num_features = None
