"""The one training loop shared by methods and zoo recipes."""
from genredact.engine.loop import Loop, LoopResult

__all__ = ["Loop", "LoopResult"]
