"""Redaction methods, registered by name (one file each). `METHODS.names()` lists them."""
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod

# Importing a method file registers it; this list reads as the index of methods.
from genredact.methods import redact_samples  # noqa: F401,E402
from genredact.methods import redact_validity  # noqa: F401,E402
from genredact.methods import redact_classifier  # noqa: F401,E402
from genredact.methods import finetune_valid  # noqa: F401,E402
from genredact.methods import retrain  # noqa: F401,E402
from genredact.methods import reject  # noqa: F401,E402
from genredact.methods import adapt_then_unlearn  # noqa: F401,E402
from genredact.methods import extrapolate  # noqa: F401,E402
from genredact.methods import taming  # noqa: F401,E402
from genredact.methods import likelihood_ascent  # noqa: F401,E402
from genredact.methods import encoder_unlearn  # noqa: F401,E402
from genredact.methods import i2i_baselines  # noqa: F401,E402

DEFAULT_METHOD = {"gan": "redact-classifier", "flow": "taming", "inpainter": "encoder-unlearn"}

__all__ = ["METHODS", "Context", "MethodResult", "RedactionMethod", "DEFAULT_METHOD"]
