"""See inside the engine while it trains, without changing it.

- ``GradientStats``: a callback recording, every N steps and per layer, activation mean/std,
  the fraction of dead ReLUs, each parameter's gradient norm and update/weight ratio.
- ``trace(model, x, y)``: runs ONE training step and prints a layer-by-layer transcript.
- ``record_step(model, x, y)``: runs ONE training step and keeps every array it touched
  (``format_values`` prints them); ``tiny_model()`` is the 2-3-2 net of ``nnlite trace --tiny``.
- ``plot_gradient_stats``: draws what ``GradientStats`` recorded (from ``nnlite.plots``).

All watch through the model's observer hooks (``nnlite.callbacks.Observer``): nothing is
patched, and an attached observer changes no number.
"""
from ..plots import plot_gradient_stats
from .gradient_stats import GradientStats
from .stats import dead_fraction, tensor_stats
from .tiny import format_values, tiny_model
from .trace import Trace, trace
from .values import StepValues, record_step

__all__ = ["GradientStats", "trace", "Trace", "record_step", "StepValues", "format_values",
           "tiny_model", "plot_gradient_stats", "tensor_stats", "dead_fraction"]
