"""genredact: post-edit a pre-trained generative model so it stops producing a described output.

Public API (imported lazily so `genredact --help` stays quick):

    redact(model, target, method=None, **config) -> (edited_model, log)
    evaluate(model, ...) -> metrics dict
    load_model(name_or_folder), save_pretrained(model, folder)
    GanModel, InpainterModel, ClassifierTarget, SamplesTarget, ValidityTarget, LabelTarget
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "redact": "genredact.api",
    "evaluate": "genredact.evaluation",
    "load_model": "genredact.zoo",
    "load_classifier": "genredact.zoo",
    "save_pretrained": "genredact.checkpoint",
    "load_pretrained": "genredact.checkpoint",
    "GanModel": "genredact.models",
    "FlowModel": "genredact.models",
    "ClassifierModel": "genredact.models",
    "InpainterModel": "genredact.models",
    "NETS": "genredact.models",
    "ClassifierTarget": "genredact.targets",
    "SamplesTarget": "genredact.targets",
    "ValidityTarget": "genredact.targets",
    "LabelTarget": "genredact.targets",
    "METHODS": "genredact.methods",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'genredact' has no attribute {name!r}")
