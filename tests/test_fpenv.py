"""nnlite computes with subnormal floats read and written as zero (FTZ/DAZ, as TensorFlow's CPU
threads do), in its worker threads and inside fit/predict; the caller's thread gets its own
setting back afterwards. Also the optimisers never leave a subnormal weight behind."""
import numpy as np
import pytest

from nnlite.ops import fpenv, map_chunks
from nnlite.ops.update import adam_update, sgd_momentum_update

SUBNORMAL = np.float32(1e-39)
needs_flags = pytest.mark.skipif(not fpenv.available(), reason="FTZ/DAZ: x86-64 Linux only")


def _product():
    return float(np.multiply(SUBNORMAL, np.float32(1.0)))


@needs_flags
def test_flushed_inside_the_block_and_restored_after():
    assert _product() != 0.0                       # IEEE outside nnlite's work
    with fpenv.flushed_subnormals():
        assert _product() == 0.0
    assert _product() != 0.0


@needs_flags
def test_worker_threads_flush():
    from nnlite.ops import parallel
    assert parallel._executor().submit(_product).result() == 0.0
    with fpenv.flushed_subnormals():          # fit/predict: the calling thread runs chunks too
        assert map_chunks(lambda _: _product(), list(range(8))) == [0.0] * 8


@needs_flags
def test_train_step_called_on_its_own_flushes_and_restores():
    """Outside ``fit`` too (the drawing app's teach step): the step computes with FTZ/DAZ,
    and the caller's thread gets IEEE arithmetic back."""
    from nnlite import zoo
    from nnlite.callbacks import Observer

    class Arithmetic(Observer):
        def on_loss(self, loss, grad_logits):
            self.product = _product()
    model = zoo.build("ann", seed=0)
    model.compile("adam")
    seen = Arithmetic()
    model.add_observer(seen)
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    model.train_step(x, np.arange(8) % 10)
    assert seen.product == 0.0
    assert _product() != 0.0


def test_predict_restores_the_callers_arithmetic():
    from nnlite import zoo
    model = zoo.build("cnn", seed=0)
    model.predict(np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32))
    assert _product() != 0.0


def test_optimisers_flush_weights_that_would_be_subnormal():
    w = np.array([SUBNORMAL, 0.5, -SUBNORMAL, 2e-38], np.float32)
    adam_update(w, np.zeros(4, np.float32), np.zeros(4, np.float32), np.zeros(4, np.float32),
                np.float32(1e-3), 0.9, 0.999, np.float32(1e-7))
    assert w[0] == 0 and w[2] == 0 and w[1] == np.float32(0.5) and w[3] == np.float32(2e-38)
    w = np.array([SUBNORMAL, 0.5], np.float32)
    velocity = np.array([SUBNORMAL, 0.0], np.float32)
    sgd_momentum_update(w, np.zeros(2, np.float32), velocity, np.float32(0.1), np.float32(0.9),
                        False)
    assert w[0] == 0 and velocity[0] == 0 and w[1] == np.float32(0.5)
