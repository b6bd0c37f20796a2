"""Optimisers. Each keeps one slot array per parameter and updates parameters IN PLACE.

Adam follows Keras 3 (keras/src/optimizers/adam.py) exactly, with t = step + 1:
    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) (1 - beta_1);   v += (g^2 - v) (1 - beta_2)
    w -= alpha * m / (sqrt(v) + epsilon)        <- epsilon on sqrt of the UNcorrected v
"""
import numpy as np

from .errors import ConfigError
from .ops import adam_update, sgd_momentum_update
from .validation import real


class Optimizer:
    def __init__(self, learning_rate):
        if not callable(learning_rate):
            learning_rate = real(learning_rate, "learning_rate", lambda v: v > 0,
                                 "a positive number or a schedule")
        self.learning_rate = learning_rate
        self.iterations = 0          # steps taken so far
        self.slots = None            # list (per parameter) of dicts of arrays

    def current_lr(self):
        lr = self.learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    def apply(self, params, grads):
        """Update every array in ``params`` in place from ``grads`` (same order)."""
        if self.slots is None:
            self.slots = [self.new_slots(p) for p in params]
        lr = self.current_lr()
        for p, g, s in zip(params, grads, self.slots):
            self.update(p.reshape(-1), np.ascontiguousarray(g, dtype=p.dtype).reshape(-1), s, lr)
        self.iterations += 1

    # state for checkpoints: iterations + every slot array
    def get_state(self):
        arrays = {}
        for i, s in enumerate(self.slots or []):
            for k, a in s.items():
                arrays[f"{i}/{k}"] = a
        return {"iterations": self.iterations}, arrays

    def set_state(self, meta, arrays, params):
        self.iterations = int(meta["iterations"])
        if arrays:
            self.slots = [self.new_slots(p) for p in params]
            for i, s in enumerate(self.slots):
                for k in s:
                    s[k][...] = arrays[f"{i}/{k}"]


class Adam(Optimizer):
    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2 = (real(b, f"Adam {name}", lambda v: 0 <= v < 1,
                                         "a number in [0, 1)")
                                    for b, name in ((beta_1, "beta_1"), (beta_2, "beta_2")))
        self.epsilon = real(epsilon, "Adam epsilon", lambda v: v > 0, "a number > 0")

    def new_slots(self, p):
        return {"m": np.zeros(p.size, p.dtype), "v": np.zeros(p.size, p.dtype)}

    def step_size(self, lr, t, dtype=np.float32):
        """alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), as ``update`` uses it at step t.

        As Keras: the bias corrections are computed in the weights' dtype from betas that went
        through float32 (Keras turns the Python floats into float32 tensors before casting
        them); in double precision this moves alpha by 7e-6 relative at t=1, which parity
        tests see."""
        cast = np.dtype(dtype).type
        b1, b2 = cast(np.float32(self.beta_1)), cast(np.float32(self.beta_2))
        return cast(lr) * np.sqrt(cast(1) - b2 ** cast(t)) / (cast(1) - b1 ** cast(t))

    def update(self, w, g, slots, lr):
        cast = w.dtype.type
        alpha = self.step_size(lr, self.iterations + 1, w.dtype)
        adam_update(w, g, slots["m"], slots["v"], cast(alpha), float(self.beta_1),
                    float(self.beta_2), cast(self.epsilon))   # 1 - beta in double, as Keras

    def get_config(self):
        return {"name": "adam", "learning_rate": _lr_config(self.learning_rate),
                "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class SGD(Optimizer):
    """w -= lr * g;  with momentum: v = momentum v - lr g;  w += v  (Nesterov: w += momentum v - lr g)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = real(momentum, "SGD momentum", lambda v: 0 <= v < 1, "a number in [0, 1)")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ConfigError(f"SGD nesterov must be True or False, got {nesterov!r}")
        self.nesterov = bool(nesterov)

    def new_slots(self, p):
        return {"velocity": np.zeros(p.size, p.dtype)} if self.momentum else {}

    def update(self, w, g, slots, lr):
        if self.momentum:
            cast = w.dtype.type
            sgd_momentum_update(w, g, slots["velocity"], cast(lr), cast(self.momentum),
                                self.nesterov)
        else:
            w -= w.dtype.type(lr) * g

    def get_config(self):
        return {"name": "sgd", "learning_rate": _lr_config(self.learning_rate),
                "momentum": self.momentum, "nesterov": self.nesterov}


def _lr_config(lr):
    return lr.get_config() if hasattr(lr, "get_config") else (lr if not callable(lr) else "callable")


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def get(opt):
    if isinstance(opt, Optimizer):
        return opt
    if isinstance(opt, str) and opt.lower() in OPTIMIZERS:
        return OPTIMIZERS[opt.lower()]()
    raise ConfigError(f"unknown optimizer {opt!r}; use nnlite.optimizers.Adam(...) or SGD(...)")
