"""BatchNormalization over the last (channel) axis, Keras semantics.

Training: mean and BIASED variance over every axis but the last (N, or N*H*W for images);
    xhat = (x - mean) / sqrt(var + eps);  y = gamma * xhat + beta
    moving = moving * momentum + batch_stat * (1 - momentum)
Inference: the same with moving_mean / moving_variance.
Backward (training), with M = number of values per channel:
    dgamma = sum(dy * xhat);  dbeta = sum(dy)
    dx = gamma / sqrt(var + eps) * (dy - dbeta/M - xhat * dgamma/M)
"""
import numpy as np

from ..errors import ConfigError
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

    def forward(self, x, training=False):
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        if training:
            mean = x2.mean(axis=0)
            var = x2.var(axis=0)              # biased (divide by M), as Keras
            m = self.momentum
            self.state["moving_mean"] *= m
            self.state["moving_mean"] += (1 - m) * mean
            self.state["moving_variance"] *= m
            self.state["moving_variance"] += (1 - m) * var
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        self._inv_std = (1.0 / np.sqrt(var + self.epsilon)).astype(self.dtype)
        self._xhat = (x2 - mean) * self._inv_std
        self._training = training
        return (self._xhat * self.params["gamma"] + self.params["beta"]).reshape(x.shape)

    def backward(self, grad_out):
        c = grad_out.shape[-1]
        dy = grad_out.reshape(-1, c)
        self.grads["gamma"] = (dy * self._xhat).sum(axis=0)
        self.grads["beta"] = dy.sum(axis=0)
        scale = self.params["gamma"] * self._inv_std
        if not self._training:   # moving statistics are constants: a plain affine map
            return (dy * scale).reshape(grad_out.shape)
        m = dy.shape[0]
        dx = scale * (dy - self.grads["beta"] / m - self._xhat * (self.grads["gamma"] / m))
        return dx.reshape(grad_out.shape)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
