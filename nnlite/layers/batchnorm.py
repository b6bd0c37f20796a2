"""BatchNormalization over the last (channel) axis, Keras semantics.

Training: mean and BIASED variance over every axis but the last (N, or N*H*W for images);
    xhat = (x - mean) / sqrt(var + eps);  y = gamma * xhat + beta
    moving = moving * momentum + batch_stat * (1 - momentum)
Inference: the same with moving_mean / moving_variance.
Backward (training), with M = number of values per channel:
    dgamma = sum(dy * xhat);  dbeta = sum(dy)
    dx = gamma / sqrt(var + eps) * (dy - dbeta/M - xhat * dgamma/M)
Each line above is one Numba loop in ``nnlite/ops/batchnorm.py`` (two passes over memory where
NumPy's mean/var/normalise/scale would make five or more).
"""
import numpy as np

from ..errors import ConfigError
from ..ops import bn_input_grad, bn_normalize, bn_param_grads, bn_stats
from .base import Layer


class BatchNormalization(Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kw):
        super().__init__(**kw)
        if not 0.0 <= momentum <= 1.0:
            raise ConfigError(f"BatchNormalization momentum must be in [0, 1], got {momentum}")
        if not epsilon > 0:
            raise ConfigError(f"BatchNormalization epsilon must be > 0, got {epsilon}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build(self, input_shape):
        c = input_shape[-1]
        self.params["gamma"] = np.ones(c, self.dtype)
        self.params["beta"] = np.zeros(c, self.dtype)
        self.state["moving_mean"] = np.zeros(c, self.dtype)
        self.state["moving_variance"] = np.ones(c, self.dtype)

    def count_params_for(self, input_shape):
        """4 C: gamma, beta (trained) and the moving mean and variance (state)."""
        return 4 * int(input_shape[-1])

    def forward(self, x, training=False):
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        if training:
            mean, var = bn_stats(x2)          # biased variance (divide by M), as Keras
            m = self.momentum
            self.state["moving_mean"] *= m
            self.state["moving_mean"] += (1 - m) * mean
            self.state["moving_variance"] *= m
            self.state["moving_variance"] += (1 - m) * var
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        self._inv_std = (1.0 / np.sqrt(var + self.epsilon)).astype(self.dtype)
        self._xhat, y = bn_normalize(x2, mean, self._inv_std, self.params["gamma"],
                                     self.params["beta"])
        self._training = training
        return y.reshape(x.shape)

    def backward(self, grad_out, need_input_grad=True):
        """dy (..., C) -> dx (..., C); with ``need_input_grad=False`` only dgamma and dbeta."""
        c = grad_out.shape[-1]
        dy = grad_out.reshape(-1, c)
        self.grads["gamma"], self.grads["beta"] = bn_param_grads(dy, self._xhat)
        if not need_input_grad:
            return None
        scale = self.params["gamma"] * self._inv_std
        if not self._training:   # moving statistics are constants: a plain affine map
            return (dy * scale).reshape(grad_out.shape)
        dx = bn_input_grad(dy, self._xhat, scale, self.grads["gamma"], self.grads["beta"])
        return dx.reshape(grad_out.shape)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
