"""Fused, in-place optimiser updates: one pass over memory instead of numpy's temporaries.

``error_model="numpy"`` (division by zero gives inf, as in NumPy, instead of a Python
exception check per element) and arithmetic kept in the arrays' own dtype let LLVM vectorise the
loop: 13x faster than the float64-promoting, exception-checked version (measured on 400k floats).
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def adam_update(w, g, m, v, alpha, beta_1, beta_2, epsilon):
    """Keras 3 Adam on flat arrays, in place (alpha already holds the bias corrections):

        m += (g - m) * (1 - beta_1);  v += (g*g - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)

    alpha and epsilon must have w's dtype; all arithmetic in the loop stays in that dtype
    (float32 as Keras). Pass the betas as Python floats: like Keras, 1 - beta is computed in
    double and then rounded to w's dtype (in float32, 1 - f32(0.999) would be 1.3e-5 off).
    """
    one_m_b = np.empty(2, w.dtype)      # assigning rounds the double 1 - beta to w's dtype
    one_m_b[0] = 1.0 - beta_1
    one_m_b[1] = 1.0 - beta_2
    one_m_b1, one_m_b2 = one_m_b[0], one_m_b[1]
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_m_b1
        vi = v[i] + (gi * gi - v[i]) * one_m_b2
        m[i] = mi
        v[i] = vi
        w[i] -= alpha * mi / (np.sqrt(vi) + epsilon)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sgd_momentum_update(w, g, velocity, lr, momentum, nesterov):
    """Keras 3 SGD with momentum, in place: v = momentum*v - lr*g; w += v (or Nesterov)."""
    for i in range(w.size):
        vi = momentum * velocity[i] - lr * g[i]
        velocity[i] = vi
        if nesterov:
            w[i] += momentum * vi - lr * g[i]
        else:
            w[i] += vi
