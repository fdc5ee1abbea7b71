"""User-facing errors: one sentence that names the problem and the fix."""
from __future__ import annotations


class GenredactError(Exception):
    """An error caused by the user's input; the CLI prints its message alone and exits 2."""


class DataMissingError(GenredactError):
    """A data set is not installed on this machine."""


class CheckpointError(GenredactError):
    """A model folder is missing, corrupt, or not a genredact checkpoint."""


class TrainingDivergedError(GenredactError):
    """Training produced NaN or an exploding loss."""
