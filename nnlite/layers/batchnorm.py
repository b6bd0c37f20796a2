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

from ..validation import real
from ..ops import bn_input_grad, bn_normalize, bn_param_grads, bn_stats
from .base import Layer


class BatchNormalization(Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kw):
        super().__init__(**kw)
        self.momentum = real(momentum, "BatchNormalization momentum", lambda m: 0 <= m <= 1,
                             "a number in [0, 1]")
        self.epsilon = real(epsilon, "BatchNormalization epsilon", lambda e: e > 0,
                            "a number > 0")

    def build(self, input_shape):
        c = input_shape[-1]
        self.params["gamma"] = np.ones(c, self.dtype)
        self.params["beta"] = np.zeros(c, self.dtype)
        self.state["moving_mean"] = np.zeros(c, self.dtype)
        self.state["moving_variance"] = np.ones(c, self.dtype)

    def weight_shapes_for(self, input_shape):
        """gamma, beta (trained), moving mean and variance (state): each (C,)."""
        c = (int(input_shape[-1]),)
        return {"gamma": c, "beta": c, "moving_mean": c, "moving_variance": c}

    def statistics(self, batch=None):
        """-> (mean, inv_std) (C,) to normalise with: the batch's ``(mean, biased variance)``
        in training, which also move the moving averages; None: the moving averages."""
        if batch is not None:
            mean, var = batch
            m = self.momentum
            self.state["moving_mean"] *= m
            self.state["moving_mean"] += (1 - m) * mean
            self.state["moving_variance"] *= m
            self.state["moving_variance"] += (1 - m) * var
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        return mean, (1.0 / np.sqrt(var + self.epsilon)).astype(self.dtype)

    def forward(self, x, training=False):
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        # training: the batch's mean and biased variance (divide by M), as Keras
        mean, self._inv_std = self.statistics(bn_stats(x) if training else None)
        self._xhat, y = bn_normalize(x2, mean, self._inv_std, self.params["gamma"],
                                     self.params["beta"])
        self._training = training
        return y.reshape(x.shape)

    def backward(self, grad_out, need_input_grad=True):
        """dy (..., C) -> dx (..., C); with ``need_input_grad=False`` only dgamma and dbeta."""
        c = grad_out.shape[-1]
        dy = grad_out.reshape(-1, c)
        self.grads["gamma"], self.grads["beta"] = bn_param_grads(
            grad_out, self._xhat.reshape(grad_out.shape))          # summed per sample
        if not need_input_grad:
            return None
        scale = self.params["gamma"] * self._inv_std
        if not self._training:   # moving statistics are constants: a plain affine map
            return (dy * scale).reshape(grad_out.shape)
        dx = bn_input_grad(dy, self._xhat, scale, self.grads["gamma"], self.grads["beta"])
        return dx.reshape(grad_out.shape)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
