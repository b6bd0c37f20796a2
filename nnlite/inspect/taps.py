"""Thin wrappers around each layer's forward/backward that report to observers.

The wrapper is set as an attribute of the layer INSTANCE, which shadows the class method the
engine calls (``layer.forward(x, training)``); deleting the attribute restores the layer.
No engine code changes and nothing is copied unless an observer copies it. Several taps may
be stacked on one layer (e.g. two callbacks); removing them in any order is safe, because a
removed tap that is still wrapped by another becomes a plain pass-through.
"""


class LayerTaps:
    """on_forward(index, layer, x, y, training) and on_backward(index, layer, grad_out, grad_in)
    are called after each layer's forward / backward. Use as a context manager or install()/remove()."""

    def __init__(self, layers, on_forward=None, on_backward=None):
        self.layers = list(layers)
        self.on_forward, self.on_backward = on_forward, on_backward
        self._installed = []     # (layer, name, wrapper, what the instance had before)
        self.active = False

    def install(self):
        if self._installed:
            return self
        self.active = True
        for i, layer in enumerate(self.layers):
            for name, observer, wrap in (("forward", self.on_forward, self._wrap_forward),
                                         ("backward", self.on_backward, self._wrap_backward)):
                if observer is None:
                    continue
                previous = layer.__dict__.get(name)
                wrapper = wrap(i, layer, getattr(layer, name))
                wrapper.tap_owner, wrapper.tap_previous = self, previous
                setattr(layer, name, wrapper)
                self._installed.append((layer, name, wrapper, previous))
        return self

    def remove(self):
        """Stop observing and put back what the instances had (normally: the class methods)."""
        self.active = False
        for layer, name, wrapper, previous in reversed(self._installed):
            if layer.__dict__.get(name) is not wrapper:
                continue          # another tap wraps ours: ours now just passes through
            # skip over taps below ours that were removed while we wrapped them
            while previous is not None and getattr(previous, "tap_owner", None) is not None \
                    and not previous.tap_owner.active:
                previous = previous.tap_previous
            if previous is None:
                del layer.__dict__[name]
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
            if self.active:
                self.on_forward(i, layer, x, y, training)
            return y
        return tapped_forward

    def _wrap_backward(self, i, layer, backward):
        def tapped_backward(grad_out):
            grad_in = backward(grad_out)
            if self.active:
                self.on_backward(i, layer, grad_out, grad_in)
            return grad_in
        return tapped_backward
