"""The two kinds of hook a training run calls, as explicit objects (as Keras does):

- ``Callback``: ``fit`` calls it at train, epoch and batch boundaries (``History`` is one).
- ``Observer``: ``Sequential`` calls it inside a step, after each layer's forward and backward,
  after the loss, and around the optimizer's update. Observers only look: the arrays they
  receive are the engine's own and must not be changed, so attaching one changes no number
  (``tests/test_internals.py`` checks the weights stay bit-identical).

``nnlite.inspect.GradientStats`` is both: a callback that attaches itself as an observer.
"""
import contextlib


class Callback:
    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class History(Callback):
    """``history.history`` maps each metric to its per-epoch values; ``history.epoch`` lists
    the epoch indices; ``bn_recalibration`` says whether fit re-estimated BatchNormalization's
    statistics at its end (a dict, see nnlite/recalibration.py) or not (None)."""
    bn_recalibration = None

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def to_dict(self):
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}


class Observer:
    """Watches one model's passes; attach with ``model.add_observer(obs)`` or
    ``with model.observing(obs): ...``. Every method is optional.

    on_forward(index, layer, x, y, training)   after layer ``index`` computed y from x
    on_backward(index, layer, grad_out, grad_in)
                                               after its backward; grad_in (dL/dx) is None for
                                               the lowest layer with weights in a training step,
                                               which skips it, unless ``wants_input_grads``
    on_loss(loss, grad_logits)                 after the loss and dL/dlogits of a training step
    before_update(pairs, grads)                before the optimizer's update: pairs is
    after_update(pairs, grads)                 [(layer, key)], grads the aligned gradients
                                               (regularisation included)
    """
    # True: a training step computes dL/dx down to the input even below the lowest layer with
    # weights (learners' traces show it); the weights' numbers do not change either way.
    wants_input_grads = False

    def on_forward(self, index, layer, x, y, training): ...
    def on_backward(self, index, layer, grad_out, grad_in): ...
    def on_loss(self, loss, grad_logits): ...
    def before_update(self, pairs, grads): ...
    def after_update(self, pairs, grads): ...


class Observable:
    """What calls observers: ``Sequential`` is one. ``notify(event, *args)`` calls that method
    of every attached observer, in the order they were attached."""

    def __init__(self):
        self.observers = []

    def add_observer(self, observer):
        """Call ``observer`` (an ``Observer``) from now on."""
        if observer not in self.observers:
            self.observers.append(observer)

    def remove_observer(self, observer):
        if observer in self.observers:
            self.observers.remove(observer)

    @contextlib.contextmanager
    def observing(self, *observers):
        """``with model.observing(obs): ...`` attaches observers for the block only."""
        for o in observers:
            self.add_observer(o)
        try:
            yield self
        finally:
            for o in observers:
                self.remove_observer(o)

    def notify(self, event, *args):
        for o in self.observers:
            getattr(o, event)(*args)


__all__ = ["Callback", "History", "Observer", "Observable"]
