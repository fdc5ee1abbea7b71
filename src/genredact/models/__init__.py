"""Model families (adapters) and the built-in networks."""
from genredact.models.base import MODEL_CLASSES, NETS, GenerativeModel, build_net
from genredact.models.classifier import ClassifierModel
from genredact.models.gan import GanModel
from genredact.models.flow import FlowModel
from genredact.models.inpainter import InpainterModel, build_inpainter
from genredact.models import nets as _nets  # noqa: F401  (fills NETS)
from genredact.models import flow_nets as _flow_nets  # noqa: F401  (fills NETS)
from genredact.models import inpainter_nets as _inpainter_nets  # noqa: F401  (fills NETS)

__all__ = ["MODEL_CLASSES", "NETS", "GenerativeModel", "GanModel", "FlowModel", "ClassifierModel", "InpainterModel", "build_inpainter", "build_net"]
