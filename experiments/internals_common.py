"""Shared pieces of the internals experiments: MNIST subsets, the deep MLP, where results go."""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "internals")


def mnist_subset(n_train, n_val, seed=0):
    """(x_train, y_train), (x_val, y_val): n_train random MNIST training digits and the first
    n_val TEST digits (held out), as (N, 28, 28, 1) float32 in [0, 1]."""
    from nnlite.datasets import load_mnist
    (xtr, ytr), (xte, yte) = load_mnist()
    idx = np.random.default_rng(seed).permutation(len(xtr))[:n_train]
    prep = lambda a: (a[..., None] / 255.0).astype(np.float32)   # noqa: E731
    return (prep(xtr[idx]), ytr[idx]), (prep(xte[:n_val]), yte[:n_val])


def deep_mlp(activation, depth=10, width=64, kernel_initializer="glorot_uniform", seed=0):
    """Flatten -> (depth - 1) x Dense(width, activation) -> Dense(10): ``depth`` Dense layers."""
    from nnlite import Sequential
    from nnlite.layers import Dense, Flatten
    layers = [Flatten()] + [Dense(width, activation=activation, kernel_initializer=kernel_initializer,
                                  name=f"dense_{i + 1}") for i in range(depth - 1)]
    layers.append(Dense(10, kernel_initializer=kernel_initializer, name=f"dense_{depth}"))
    return Sequential(layers, input_shape=(28, 28, 1), seed=seed, name=f"mlp{depth}_{activation}")


def save_json(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1, default=float)
    return path


def out_path(name):
    os.makedirs(RESULTS, exist_ok=True)
    return os.path.join(RESULTS, name)
