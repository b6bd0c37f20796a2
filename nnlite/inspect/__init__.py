"""See inside the engine while it trains, without changing it.

- ``GradientStats``: a callback recording, every N steps and per layer, activation mean/std,
  the fraction of dead ReLUs, each parameter's gradient norm and update/weight ratio.
- ``trace(model, x, y)``: runs ONE training step and prints a layer-by-layer transcript.
- ``plot_gradient_stats``: draws what ``GradientStats`` recorded.

Everything here observes the public API: thin per-layer wrappers (``taps.LayerTaps``) are
installed on the layer INSTANCES for the duration and removed afterwards.
"""
from .gradient_stats import GradientStats
from .plot import plot_gradient_stats
from .stats import dead_fraction, tensor_stats
from .taps import LayerTaps
from .trace import Trace, trace

__all__ = ["GradientStats", "trace", "Trace", "plot_gradient_stats", "tensor_stats",
           "dead_fraction", "LayerTaps"]
