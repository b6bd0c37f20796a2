"""What ends a training run cleanly instead of uselessly or with a lost state: Ctrl+C (finish
the step, then checkpoint), a NaN/Inf (name where it first appeared), and a diverging loss."""
import contextlib
import os
import signal
import sys
import threading

import numpy as np

from .errors import DivergenceError

# A step whose loss exceeds this many times the first step's loss (at least ln(classes), the
# loss of a uniform guess) is a divergence: with a stable fused softmax-CE an absurd learning
# rate gives a huge but finite loss, which would otherwise train on, uselessly, forever.
DIVERGENCE_FACTOR = 100.0


class SigintGuard:
    """First Ctrl+C: finish the current step, then checkpoint and stop. Second: stop now."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl+C: finishing this step, then saving a checkpoint "
              "(press again to stop at once)", file=sys.stderr)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def non_finite_report(layers, loss, outputs):
    """Name where NaN/Inf first appeared in a step: a layer's output, the loss, or a gradient."""
    for layer, out in zip(layers, outputs):
        if not np.isfinite(out).all():
            return f"the forward output of layer '{layer.name}' became NaN/Inf"
    if not np.isfinite(loss):
        return f"the loss became {loss}"
    for layer in reversed(layers):
        bad = [k for k, g in layer.grads.items() if not np.isfinite(g).all()]
        if bad:
            return f"the gradient of '{layer.name}/{bad[0]}' became NaN/Inf (loss = {loss:.4g})"
    return f"a gradient overflowed to Inf when summed (loss = {loss:.4g})"


def divergence_report(model, loss, limit):
    """Name the parameter with the largest gradient (relative to its weights) of the step."""
    worst, ratio = None, -1.0
    for layer, key in model.trainable():
        g = np.linalg.norm(layer.grads[key]) / (np.linalg.norm(layer.params[key]) + 1e-12)
        if g > ratio:
            worst, ratio = f"{layer.name}/{key}", g
    return (f"the loss diverged to {loss:.4g}, over {DIVERGENCE_FACTOR:g}x its starting value "
            f"(limit {limit:.4g}); the largest gradient relative to its weights is in layer "
            f"'{worst}' (|grad|/|w| = {ratio:.3g})")


def non_finite_message(exc, model, epoch, batch, checkpoint_path):
    ckpt = (f"the last good checkpoint is kept at {checkpoint_path}"
            if checkpoint_path and os.path.exists(checkpoint_path)
            else "no checkpoint was written (pass checkpoint_path= to keep one each epoch)")
    if isinstance(exc, DivergenceError):
        step = model.optimizer.iterations       # that step was applied; the loss came after it
        state = "the weights in memory are those of the diverged step"
    else:
        step = model.optimizer.iterations + 1   # refused before the update
        state = "the weights in memory are those before this step"
    return (f"training stopped at step {step} (epoch {epoch + 1}, batch {batch + 1}): {exc}. "
            f"{state.capitalize()}; {ckpt}. Try a smaller learning rate.")
