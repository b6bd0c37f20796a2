"""nnlite: a small, fast, correct NumPy + Numba neural-network engine.

    import nnlite
    from nnlite.layers import Dense, Flatten
    model = nnlite.Sequential([Flatten(), Dense(128, activation="relu"), Dense(10)],
                              input_shape=(28, 28, 1), seed=0)
    model.compile(nnlite.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, validation_split=0.2)

The package's floors (what may import what) are in docs/architecture.md.
"""
# first, before the heavy imports: a Ctrl+C while the `nnlite` command starts prints one line
from .commands.common import quiet_startup_interrupt

quiet_startup_interrupt()

from . import (callbacks, datasets, initializers, inspect, layers, losses, optimizers,
               regularizers, schedules, zoo)
from .errors import (ChecksumError, ConfigError, DataError, InputError, ModelFileError,
                     NNLiteError, NonFiniteError, ResumeError)
from .loading import load_model
from .sequential import Sequential

__version__ = "0.1.0"

__all__ = ["Sequential", "load_model", "layers", "optimizers", "losses", "initializers",
           "regularizers", "schedules", "callbacks", "datasets", "inspect", "zoo",
           "NNLiteError", "InputError", "ConfigError", "DataError", "ChecksumError",
           "ModelFileError", "NonFiniteError", "ResumeError"]
