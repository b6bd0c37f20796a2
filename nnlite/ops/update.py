"""Fused, in-place optimiser updates: one pass over memory instead of numpy's temporaries."""
import numba
import numpy as np


@numba.njit(cache=True)
def adam_update(w, g, m, v, alpha, beta_1, beta_2, epsilon):
    """Keras 3 Adam on flat arrays, in place (alpha already holds the bias corrections):

        m += (g - m) * (1 - beta_1);  v += (g*g - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)
    """
    one_m_b1 = 1.0 - beta_1
    one_m_b2 = 1.0 - beta_2
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_m_b1
        vi = v[i] + (gi * gi - v[i]) * one_m_b2
        m[i] = mi
        v[i] = vi
        w[i] -= alpha * mi / (np.sqrt(vi) + epsilon)


@numba.njit(cache=True)
def sgd_momentum_update(w, g, velocity, lr, momentum, nesterov):
    """Keras 3 SGD with momentum, in place: v = momentum*v - lr*g; w += v (or Nesterov)."""
    for i in range(w.size):
        vi = momentum * velocity[i] - lr * g[i]
        velocity[i] = vi
        if nesterov:
            w[i] += momentum * vi - lr * g[i]
        else:
            w[i] += vi
