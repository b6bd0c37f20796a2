import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tests read MNIST through the project's own data-directory setting; default to the
# shared copy beside the repo when the caller did not set it.
os.environ.setdefault("NNLITE_DATA_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data"))


@pytest.fixture(scope="session")
def mnist():
    """Real MNIST as uint8 ((x_train, y_train), (x_test, y_test)); skipped if absent."""
    from nnlite.datasets import load_mnist
    from nnlite.errors import DataError
    try:
        return load_mnist()
    except DataError as exc:
        pytest.skip(f"MNIST not available: {exc}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
