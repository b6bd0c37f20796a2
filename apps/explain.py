"""Why did the model say that? Gradients of one drawing, from the engine's own backward pass.

    e = explain(model, image28, expected=1)
    e.predicted, e.expected             # the model's class and the class the user expected
    e.saliency[e.predicted]             # (28, 28): d logit_predicted / d pixel
    e.layers                            # per layer: |dL/d input| and |dL/d weights|

Two backward passes of ``Sequential.backward``, watched by an ``nnlite.callbacks.Observer``
(the hooks ``nnlite.inspect.trace`` uses), nothing re-implemented:
1. Input gradients. The drawing goes forward twice in one batch (inference mode, so the two
   copies do not interact); the gradient fed back at the logits is onehot(predicted) for the
   first copy and onehot(expected) for the second, so the gradient that reaches the pixels
   (layer 0's dL/dx) is d logit_c / d pixel for each class.
2. Gradient norms. One pass of the cross-entropy loss for the expected class: what each layer
   passes down (|dL/dx|) and gets for its weights (|dL/dW|), i.e. what one training step on this
   drawing would push, layer by layer.
"""
import time

import numpy as np

from nnlite.activations import softmax
from nnlite.callbacks import Observer
from nnlite.ops.threads import blas_threads


class _Watch(Observer):
    """Keeps what each layer's backward produced: norms, and the gradient at the pixels."""
    wants_input_grads = True

    def __init__(self):
        self.rows, self.pixels = [], None

    def on_backward(self, index, layer, grad_out, grad_in):
        if index == 0:
            self.pixels = grad_in
        weights = [g for g in layer.grads.values()] if layer.params else []
        self.rows.append({
            "index": index, "name": layer.name, "type": type(layer).__name__,
            "grad_in": float(np.linalg.norm(grad_in)) if grad_in is not None else None,
            "grad_weights": (float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64)))
                                               for g in weights))) if weights else None)})


class Explanation:
    """predicted, expected: classes; probs (10,); saliency {class: (28, 28) d logit / d pixel};
    layers: [{index, name, type, grad_in, grad_weights}] first layer first; loss: the
    cross-entropy for ``expected``; ms: the time both passes took."""

    def __init__(self, predicted, expected, probs, saliency, layers, loss, ms):
        self.predicted, self.expected, self.probs = predicted, expected, probs
        self.saliency, self.layers, self.loss, self.ms = saliency, layers, loss, ms


def explain(model, image, expected=None):
    """Explain an nnlite model's reading of ``image`` (28, 28) float in [0, 1].

    expected: the class the user expected (default: the runner-up class)."""
    with blas_threads(1):      # one small image: a second BLAS thread only costs
        return _explain(model, image, expected)


def _explain(model, image, expected):
    start = time.perf_counter()
    x = np.asarray(image, np.float32).reshape(1, 28, 28, 1)
    pixels = _Watch()
    with model.observing(pixels):   # watched from the forward on: the layer-by-layer path
        logits = model.forward(np.concatenate([x, x]), training=False)
        probs = softmax(logits[0].astype(np.float64))
        order = np.argsort(-probs)
        predicted = int(order[0])
        expected = int(order[1]) if expected is None else int(expected)
        seed = np.zeros_like(logits)
        seed[0, predicted] = seed[1, expected] = 1.0
        model.backward(seed)
    saliency = {predicted: pixels.pixels[0, :, :, 0].copy()}
    saliency[expected] = pixels.pixels[1, :, :, 0].copy()

    norms = _Watch()
    with model.observing(norms):
        model.forward(x, training=False)
        grad = probs.astype(np.float32)[None].copy()       # d cross-entropy / d logits, N = 1
        grad[0, expected] -= 1.0
        model.backward(grad)
    loss = float(-np.log(max(probs[expected], 1e-12)))
    ms = (time.perf_counter() - start) * 1000
    return Explanation(predicted, expected, probs.astype(np.float32), saliency,
                       norms.rows[::-1], loss, ms)
