"""What must not come out: a set of images, a black-box validity function, or a classifier + labels."""
from genredact.targets.base import (
    ClassifierTarget,
    DistributionTarget,
    IndicesTarget,
    LabelTarget,
    SamplesTarget,
    Target,
    ValidityTarget,
    parse_target,
)

__all__ = ["Target", "SamplesTarget", "ValidityTarget", "ClassifierTarget", "LabelTarget", "IndicesTarget", "DistributionTarget", "parse_target"]
