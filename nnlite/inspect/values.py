"""record_step(model, x, y): run ONE training step and keep EVERY value it touched.

``trace`` summarises each array of a step by its shape and norm, which is what a CNN needs.
For a network small enough to follow by hand (the 2-3-2 net of ``nnlite trace --tiny``, a
notebook's toy model) this keeps the arrays themselves: the input, every weight before the
step, every layer's output, the probabilities, the loss, dL/dlogits, every layer's
dL/d(input) and parameter gradients, the optimizer's moments after the step and the update.

The step is the engine's own ``model.train_step``; an observer (``nnlite.callbacks.Observer``)
copies the arrays as the engine hands them over, and the moments are read from the optimizer's
slots. Nothing here recomputes the step.
"""
import numpy as np

from ..activations import softmax
from ..callbacks import Observer
from ..validation import as_labels


class StepValues:
    """Every array of one training step, as copies (float64 or the model's dtype).

    x (N, ...), labels (N,), weights [(layer, key, array before the step)],
    forward [(index, layer, output)], probs (N, K), loss (float), grad_logits (N, K),
    backward [(index, layer, dL/d output, dL/d input or None, {key: dL/d param})] last first,
    update [{"layer", "key", "grad", "slots": {name: array}, "before", "after"}],
    optimizer (the optimizer object), t (the step number, 1 for the first),
    learning_rate (the rate the step used); after the step, with ``after=True``:
    forward_after (every layer's output), logits_after, probs_after, loss_after: an inference
    forward pass with the new weights.
    """

    def __init__(self, model, x, labels):
        self.model, self.x, self.labels = model, x, labels
        self.weights, self.forward, self.backward, self.update = [], [], [], []
        self.probs = self.loss = self.grad_logits = None
        self.optimizer, self.t, self.learning_rate = model.optimizer, None, None
        self.forward_after = self.logits_after = self.probs_after = self.loss_after = None

    @property
    def logits(self):
        return self.forward[-1][2]

    def to_dict(self):
        """The numbers as nested lists, keyed by layer name (for JSON)."""
        return {
            "x": self.x.tolist(), "labels": self.labels.tolist(),
            "weights": {f"{l.name}/{k}": a.tolist() for l, k, a in self.weights},
            "outputs": {l.name: y.tolist() for _, l, y in self.forward},
            "probs": self.probs.tolist(), "loss": self.loss,
            "grad_logits": self.grad_logits.tolist(),
            "grad_inputs": {l.name: (gi.tolist() if gi is not None else None)
                            for _, l, _, gi, _ in self.backward},
            "grads": {f"{l.name}/{k}": g.tolist()
                      for _, l, _, _, gs in self.backward for k, g in gs.items()},
            "update": {f"{u['layer'].name}/{u['key']}": {
                "grad": u["grad"].tolist(), "after": u["after"].tolist(),
                **{s: a.tolist() for s, a in u["slots"].items()}} for u in self.update},
            "t": self.t, "learning_rate": self.learning_rate,
            "loss_after": self.loss_after}


def record_step(model, x, y, after=True):
    """Run one training step of ``model`` on (x, y) and return a ``StepValues``.

    x: (N, *input_shape) floats; y: (N,) integer labels. The model must be compiled. The step
    IS applied, as in ``fit``. ``after``: also run an inference forward pass with the updated
    weights (``forward_after``, ``logits_after``, ``probs_after``, ``loss_after``).
    """
    model._require_compiled()
    x = model._check_x(x)
    y = as_labels(y, "y", model.output_shape[-1], length=len(x))
    out = StepValues(model, x.copy(), y.copy())
    out.weights = [(layer, key, layer.params[key].copy()) for layer, key in model.trainable()]
    with model.observing(_Recorder(out)):
        model.train_step(x, y)
    if after:
        out.forward_after = []
        out.logits_after = model.forward(x, training=False, outputs=out.forward_after)
        out.probs_after = softmax(out.logits_after)
        out.loss_after = model.evaluate(x, y, return_dict=True)["loss"]
    return out


class _Recorder(Observer):
    """Copies what one training step hands to the observer hooks into a ``StepValues``."""
    wants_input_grads = True      # dL/dx down to the input, as a hand calculation has it

    def __init__(self, out):
        self.out = out

    def on_forward(self, index, layer, x, y, training):
        self.out.forward.append((index, layer, y.copy()))

    def on_loss(self, loss, grad_logits):
        self.out.loss = float(loss)
        self.out.grad_logits = grad_logits.copy()
        self.out.probs = softmax(self.out.logits)

    def on_backward(self, index, layer, grad_out, grad_in):
        self.out.backward.append((index, layer, grad_out.copy(),
                                  None if grad_in is None else grad_in.copy(),
                                  {k: g.copy() for k, g in layer.grads.items()}))

    def before_update(self, pairs, grads):
        opt = self.out.optimizer
        self.out.t, self.out.learning_rate = opt.iterations + 1, opt.current_lr()
        self._before = [layer.params[key].copy() for layer, key in pairs]

    def after_update(self, pairs, grads):
        slots = self.out.optimizer.slots or [{} for _ in pairs]
        for (layer, key), before, g, s in zip(pairs, self._before, grads, slots):
            shape = layer.params[key].shape
            self.out.update.append({
                "layer": layer, "key": key, "grad": np.array(g, copy=True), "before": before,
                "after": layer.params[key].copy(),
                "slots": {name: a.reshape(shape).copy() for name, a in s.items()}})
