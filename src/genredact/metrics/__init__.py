"""Evaluation metrics: residual rate of target content with exact bounds, and sample-quality distances.

Functional cores live in :mod:`genredact.metrics.functional`; batch-accumulating torchmetrics wrappers in
:mod:`genredact.metrics.classes`.
"""
from __future__ import annotations

from genredact.metrics.classes import FeatureFID, ResidualRate
from genredact.metrics.functional import (
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

__all__ = [
    "FeatureFID",
    "ResidualRate",
    "clopper_pearson_interval",
    "clopper_pearson_upper",
    "feature_stats",
    "fid",
    "frechet_distance",
    "kid",
    "precision_recall",
    "residual_rate",
    "samples_needed",
]
