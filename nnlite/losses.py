"""Sparse categorical cross-entropy fused with softmax, on logits.

Forward (per sample, logits z, label k):   log p = z - max(z) - log(sum exp(z - max(z)))
                                           loss  = mean_n (-log p[n, k_n])
Backward: d loss / d z = (softmax(z) - onehot(k)) / N   — the softmax Jacobian and the log's
1/p cancel, which is why the fused form is both simpler and numerically stable.
"""
import numpy as np

from .errors import ConfigError


class SparseCategoricalCrossentropy:
    name = "sparse_categorical_crossentropy"

    def forward(self, logits, labels):
        """logits (N, K) float, labels (N,) int -> mean loss (Python float)."""
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        self._probs = exp / sum_exp
        self._labels = labels
        n = logits.shape[0]
        log_p = shifted[np.arange(n), labels] - np.log(sum_exp[:, 0])
        return float(-log_p.mean())

    def backward(self):
        """-> (N, K) gradient of the mean loss w.r.t. the logits: (p - onehot) / N."""
        n = self._probs.shape[0]
        grad = self._probs.copy()
        grad[np.arange(n), self._labels] -= 1.0
        grad /= n
        return grad


LOSSES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy}


def get(loss):
    if isinstance(loss, SparseCategoricalCrossentropy):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ConfigError(f"unknown loss {loss!r}; nnlite has {sorted(LOSSES)} "
                          "(on logits: models output logits, not probabilities)")
    return LOSSES[loss]()
