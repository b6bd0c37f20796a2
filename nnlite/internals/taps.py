"""Thin wrappers around each layer's forward/backward that report to observers.

The wrapper is set as an attribute of the layer INSTANCE, which shadows the class method the
engine calls (``layer.forward(x, training)``); deleting the attribute restores the layer.
No engine code changes and nothing is copied unless an observer copies it.
"""


class LayerTaps:
    """on_forward(index, layer, x, y, training) and on_backward(index, layer, grad_out, grad_in)
    are called after each layer's forward / backward. Use as a context manager or install()/remove()."""

    def __init__(self, layers, on_forward=None, on_backward=None):
        self.layers = list(layers)
        self.on_forward, self.on_backward = on_forward, on_backward
        self._installed = []

    def install(self):
        if self._installed:
            return self
        for i, layer in enumerate(self.layers):
            saved = {name: layer.__dict__.get(name) for name in ("forward", "backward")}
            if self.on_forward:
                layer.forward = self._wrap_forward(i, layer, layer.forward)
            if self.on_backward:
                layer.backward = self._wrap_backward(i, layer, layer.backward)
            self._installed.append((layer, saved))
        return self

    def remove(self):
        """Put back whatever the instances had before (normally: nothing, i.e. the class methods)."""
        for layer, saved in self._installed:
            for name, previous in saved.items():
                if previous is None:
                    layer.__dict__.pop(name, None)
                else:
                    setattr(layer, name, previous)
        self._installed = []

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.remove()

    def _wrap_forward(self, i, layer, forward):
        def tapped_forward(x, training=False):
            y = forward(x, training=training)
            self.on_forward(i, layer, x, y, training)
            return y
        return tapped_forward

    def _wrap_backward(self, i, layer, backward):
        def tapped_backward(grad_out):
            grad_in = backward(grad_out)
            self.on_backward(i, layer, grad_out, grad_in)
            return grad_in
        return tapped_backward
