"""Optimisers. Each keeps one slot array per parameter and updates parameters IN PLACE.

Adam follows Keras 3 (keras/src/optimizers/adam.py) exactly, with t = step + 1:
    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) (1 - beta_1);   v += (g^2 - v) (1 - beta_2)
    w -= alpha * m / (sqrt(v) + epsilon)        <- epsilon on sqrt of the UNcorrected v
"""
import math

import numpy as np

from .errors import ConfigError
from .ops import adam_update, sgd_momentum_update


class Optimizer:
    def __init__(self, learning_rate):
        if not callable(learning_rate):
            if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate)
                    and learning_rate > 0):
                raise ConfigError(f"learning_rate must be a positive number or a schedule, "
                                  f"got {learning_rate!r}")
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
        if not (0 <= beta_1 < 1 and 0 <= beta_2 < 1 and epsilon > 0):
            raise ConfigError("Adam needs 0 <= beta_1, beta_2 < 1 and epsilon > 0")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def new_slots(self, p):
        return {"m": np.zeros(p.size, p.dtype), "v": np.zeros(p.size, p.dtype)}

    def update(self, w, g, slots, lr):
        # As Keras: the bias corrections are computed in w's dtype from betas that went through
        # float32 (Keras turns the Python floats into float32 tensors before casting them); in
        # double precision this moves alpha by 7e-6 relative at t=1, which parity tests see.
        cast = w.dtype.type
        t = cast(self.iterations + 1)
        b1, b2 = cast(np.float32(self.beta_1)), cast(np.float32(self.beta_2))
        alpha = cast(lr) * np.sqrt(cast(1) - b2 ** t) / (cast(1) - b1 ** t)
        adam_update(w, g, slots["m"], slots["v"], cast(alpha), float(self.beta_1),
                    float(self.beta_2), cast(self.epsilon))   # 1 - beta in double, as Keras

    def get_config(self):
        return {"name": "adam", "learning_rate": _lr_config(self.learning_rate),
                "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class SGD(Optimizer):
    """w -= lr * g;  with momentum: v = momentum v - lr g;  w += v  (Nesterov: w += momentum v - lr g)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        if not 0 <= momentum < 1:
            raise ConfigError(f"SGD momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

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
