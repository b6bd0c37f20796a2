"""Guarantee 4: every public entry point refuses bad input with an NNLiteError subclass whose
message says what was expected and what was given -- never a NumPy traceback from inside.

Each case is (call, expected error class, a regex the message must match). The regexes check
that the message names BOTH the expectation and the offending value/shape/dtype.
"""
import re
import subprocess
import sys

import numpy as np
import pytest

import nnlite
import nnlite.datasets
import nnlite.zoo
from nnlite import cli
from nnlite.errors import ConfigError, DataError, InputError, ModelFileError, NNLiteError
from nnlite.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU,
                           Rescaling)

RNG = np.random.default_rng(0)
X = RNG.random((6, 8, 8, 1), dtype=np.float32)
Y = np.array([0, 1, 2, 3, 0, 1])


def model():
    m = nnlite.Sequential([Conv2D(2, 3, padding="same"), ReLU(), Flatten(), Dense(4)],
                          input_shape=(8, 8, 1), seed=0)
    return m.compile(nnlite.optimizers.Adam(1e-3))


def fit(x=X, y=Y, **kw):
    kw.setdefault("verbose", 0)
    return model().fit(x, y, **kw)


def with_nan(a, value=np.nan):
    a = a.copy()
    a.flat[3] = value
    return a


ragged = [[0.1, 0.2], [0.3]]

# -- Sequential: fit / evaluate / predict -------------------------------------------------------
MODEL_CASES = {
    "x rank": (lambda: fit(X[..., 0]), InputError, r"expected 4 dimensions.*got shape \(6, 8, 8\)"),
    "x channels": (lambda: fit(np.repeat(X, 3, -1)), InputError,
                   r"expected shape \(batch, 8, 8, 1\), got \(6, 8, 8, 3\)"),
    "x height/width": (lambda: model().predict(X[:, :7]), InputError,
                       r"expected shape \(batch, 8, 8, 1\), got \(6, 7, 8, 1\)"),
    "x strings": (lambda: model().predict(X.astype(str)), InputError, r"real numeric.*dtype <U"),
    "x bool": (lambda: model().predict(X > 0.5), InputError, r"real numeric.*dtype bool"),
    "x complex": (lambda: model().predict(X + 1j), InputError, r"real numeric.*complex"),
    "x object": (lambda: model().predict(X.astype(object)), InputError, r"dtype object"),
    "x ragged": (lambda: model().predict(ragged), InputError, r"could not be turned into an array"),
    "x empty": (lambda: model().predict(X[:0]), InputError, r"empty.*\(0, 8, 8, 1\)"),
    "x NaN": (lambda: fit(with_nan(X)), InputError, r"1 NaN/Inf value.*must be finite"),
    "x Inf": (lambda: model().predict(with_nan(X, np.inf)), InputError, r"NaN/Inf"),
    "x scalar": (lambda: model().predict(3.0), InputError, r"expected 4 dimensions.*shape \(\)"),
    "y out of range": (lambda: fit(y=Y + 2), InputError,
                       r"labels must lie in \[0, 3\].*from 2 to 5"),
    "y negative": (lambda: fit(y=Y - 1), InputError, r"\[0, 3\].*from -1 to 2"),
    "y non-integer": (lambda: fit(y=Y + 0.5), InputError, r"whole numbers"),
    "y NaN": (lambda: fit(y=with_nan(Y.astype(float))), InputError, r"whole numbers"),
    "y strings": (lambda: fit(y=Y.astype(str)), InputError, r"integer labels.*dtype <U"),
    "y one-hot": (lambda: fit(y=np.eye(4)[Y]), InputError, r"shape \(6, 4\).*one-hot"),
    "x/y length": (lambda: fit(y=Y[:5]), InputError, r"5 labels but x has 6 samples"),
    "evaluate x/y length": (lambda: model().evaluate(X, Y[:4]), InputError,
                            r"4 labels but x has 6 samples"),
    "batch_size 0": (lambda: fit(batch_size=0), ConfigError, r"batch_size must be a positive.*0"),
    "batch_size float": (lambda: fit(batch_size=2.5), ConfigError, r"positive integer.*2.5"),
    "predict batch_size": (lambda: model().predict(X, batch_size=-1), ConfigError, r"-1"),
    "epochs negative": (lambda: fit(epochs=-1), ConfigError, r"epochs must be an integer >= 0.*-1"),
    "epochs string": (lambda: fit(epochs="3"), ConfigError, r"epochs.*'3'"),
    "validation_split 1": (lambda: fit(validation_split=1.0), ConfigError,
                           r"validation_split must be in \[0, 1\), got 1.0"),
    "validation_split string": (lambda: fit(validation_split="0.2"), ConfigError,
                                r"validation_split.*'0.2'"),
    "validation_split leaves nothing": (lambda: fit(validation_split=0.9), InputError,
                                        r"leaves 0 training and 6 validation"),
    "validation_data not a pair": (lambda: fit(validation_data=X), InputError,
                                   r"pair \(x_val, y_val\), got ndarray"),
    "validation_data shape": (lambda: fit(validation_data=(X[..., 0], Y)), InputError,
                              r"validation_data x: expected 4 dimensions"),
    "not compiled": (lambda: nnlite.Sequential([Dense(2)], input_shape=(3,)).fit(
        np.ones((1, 3)), [0]), ConfigError, r"call model.compile"),
    "unbuilt model, ragged x": (lambda: nnlite.Sequential([Dense(2)]).predict(ragged),
                                InputError, r"could not be turned into an array"),
    "unbuilt model, 1-D x": (lambda: nnlite.Sequential([Dense(2)]).predict(np.ones(3)),
                             InputError, r"expected a batch \(N, ...\), got shape \(3,\)"),
    "unbuilt model, strings": (lambda: nnlite.Sequential([Dense(2)]).predict(
        np.array([["a", "b"]])), InputError, r"real numeric"),
}

# -- layers called directly ----------------------------------------------------------------------
def built(layer, shape):
    layer(np.zeros((1,) + shape, np.float32))
    return layer


LAYER_CASES = {
    "Dense: wrong features": (lambda: built(Dense(3), (4,))(np.ones((2, 5))), InputError,
                              r"built for inputs of shape \(batch, 4\), got \(batch, 5\)"),
    "Dense: images": (lambda: Dense(3)(np.ones((2, 4, 4, 1))), InputError,
                      r"2-D inputs \(batch, features\).*Flatten.*\(batch, 4, 4, 1\)"),
    "Conv2D: no channel axis": (lambda: Conv2D(2, 3)(np.ones((2, 8, 8))), InputError,
                                r"NHWC.*got inputs of shape \(batch, 8, 8\)"),
    "Conv2D: wrong channels": (lambda: built(Conv2D(2, 3), (8, 8, 1))(np.ones((2, 8, 8, 3))),
                               InputError, r"\(batch, 8, 8, 1\), got \(batch, 8, 8, 3\)"),
    "Conv2D: kernel bigger than image": (lambda: Conv2D(2, 5)(np.ones((1, 3, 3, 1))),
                                         InputError, r"does not fit inputs of shape \(3, 3, 1\)"),
    "MaxPool2D: pool bigger than image": (lambda: MaxPool2D(4)(np.ones((1, 2, 2, 1))),
                                          InputError, r"does not fit"),
    "BatchNormalization: wrong channels": (
        lambda: built(BatchNormalization(), (4, 4, 2))(np.ones((2, 4, 4, 3))), InputError,
        r"got \(batch, 4, 4, 3\)"),
    "layer: strings": (lambda: ReLU()(np.array([["a"]])), InputError, r"real numeric.*<U1"),
    "layer: NaN": (lambda: Rescaling(2.0)(with_nan(X)), InputError, r"NaN/Inf"),
    "layer: scalar": (lambda: Flatten()(1.0), InputError, r"expected a batch.*scalar"),
    "layer: ragged": (lambda: Dense(2)(ragged), InputError, r"could not be turned into an array"),
}

# -- configuration --------------------------------------------------------------------------------
CONFIG_CASES = {
    "Dense units 0": (lambda: Dense(0), ConfigError, r"Dense units must be a positive.*0"),
    "Dense units string": (lambda: Dense("10"), ConfigError, r"'10'"),
    "Dense activation": (lambda: Dense(3, activation="relux"), ConfigError,
                         r"unknown activation 'relux'"),
    "Conv2D kernel": (lambda: Conv2D(2, (3, 3, 3)), ConfigError, r"kernel_size.*\(3, 3, 3\)"),
    "Conv2D padding": (lambda: Conv2D(2, 3, padding="full"), ConfigError, r"'valid' or 'same'.*'full'"),
    "Dropout rate 1": (lambda: Dropout(1.0), ConfigError, r"\[0, 1\), got 1.0"),
    "Dropout rate string": (lambda: Dropout("0.5"), ConfigError, r"rate.*'0.5'"),
    "BatchNormalization momentum": (lambda: BatchNormalization(momentum=2), ConfigError,
                                    r"momentum.*\[0, 1\], got 2"),
    "layer dtype": (lambda: Dense(2, dtype="float16"), ConfigError, r"float32.*float16"),
    "layer name": (lambda: Dense(2, name=["x"]), ConfigError, r"name must be a string.*\['x'\]"),
    "Sequential.add non-layer": (lambda: nnlite.Sequential([np.ones(3)]), ConfigError,
                                 r"expects an nnlite Layer, got ndarray"),
    "input_shape": (lambda: nnlite.Sequential([Dense(2)], input_shape=(0, 3)), ConfigError,
                    r"positive sizes.*\(0, 3\)"),
    "learning rate": (lambda: nnlite.optimizers.Adam(-1.0), ConfigError, r"positive.*-1.0"),
    "learning rate NaN": (lambda: nnlite.optimizers.SGD(float("nan")), ConfigError, r"nan"),
    "optimizer name": (lambda: model().compile("adamw"), ConfigError, r"unknown optimizer 'adamw'"),
    "loss name": (lambda: model().compile(loss="mse"), ConfigError, r"unknown loss 'mse'"),
    "zoo name": (lambda: nnlite.zoo.build("resnet"), ConfigError, r"unknown model 'resnet'"),
}

# -- preprocessing and datasets ---------------------------------------------------------------
def _preprocess_cases():
    from nnlite.preprocess import deskew, scale01, standardize
    return {
        "scale01 strings": (lambda: scale01(np.array([["a"]])), InputError, r"dtype"),
        "deskew rank": (lambda: deskew(np.ones(5)), InputError, r"\(N, H, W\).*\(5,\)"),
        "standardize std": (lambda: standardize(X, std=0), ConfigError, r"std must be > 0, got 0"),
    }


DATA_CASES = {
    "unknown dataset": (lambda: nnlite.datasets.load("cifar"), DataError,
                        r"unknown dataset 'cifar'; choose from"),
    "missing folder": (lambda: nnlite.datasets.load_mnist("/nonexistent/folder"), DataError,
                       r"/nonexistent/folder.*missing: train-images-idx3-ubyte"),
    "model file missing": (lambda: nnlite.load_model("/nonexistent/model.npz"), ModelFileError,
                           r"not found: /nonexistent/model.npz"),
}


ALL_CASES = {**MODEL_CASES, **LAYER_CASES, **CONFIG_CASES, **DATA_CASES}


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_bad_input_raises_a_named_nnlite_error(name):
    call, error, message = ALL_CASES[name]
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name", ["scale01 strings", "deskew rank", "standardize std"])
def test_preprocessing_refuses_bad_input(name):
    call, error, message = _preprocess_cases()[name]
    with pytest.raises(error, match=message):
        call()


def test_errors_form_one_hierarchy():
    for cls in (InputError, ConfigError, DataError, ModelFileError, nnlite.NonFiniteError,
                nnlite.ChecksumError, nnlite.errors.DivergenceError):
        assert issubclass(cls, NNLiteError)
    # callers may also catch them by their Python meaning
    assert issubclass(InputError, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(nnlite.ChecksumError, DataError)
    assert issubclass(nnlite.NonFiniteError, FloatingPointError)


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_bad_model_path_is_a_clean_error_with_exit_code_2(tmp_path):
    """End to end, in a fresh process: message on stderr, exit code 2, no traceback."""
    bad = tmp_path / "not-a-model.npz"
    bad.write_bytes(b"definitely not a zip file")
    for path in (str(tmp_path / "missing.npz"), str(bad)):
        proc = subprocess.run([sys.executable, "-m", "nnlite", "evaluate", path],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("nnlite evaluate: error: ")
        assert path in proc.stderr


@pytest.mark.parametrize("argv,pattern", [
    (["data", "info", "mnist", "--path", "/nonexistent/dir"], r"mnist not found.*/nonexistent/dir"),
    (["train", "ann", "--resume", "--out", "/nonexistent/run"], r"no checkpoint.npz"),
    (["train", "ann", "--epochs", "0", "--limit", "10"], r"epochs must be a positive integer"),
])
def test_cli_user_errors_exit_2_without_traceback(argv, pattern, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(pattern, err, re.S), err


def test_the_same_layer_instance_twice_is_refused():
    from nnlite.layers import Dense
    dense = Dense(4)
    with pytest.raises(nnlite.ConfigError, match="already in this model"):
        nnlite.Sequential([dense, dense])


def test_fit_calls_on_batch_begin_and_end_in_pairs():
    from nnlite.callbacks import Callback
    from nnlite.layers import Dense

    class Recorder(Callback):
        def __init__(self):
            self.events = []

        def on_batch_begin(self, batch, logs=None):
            self.events.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.events.append(("end", batch))
    model = nnlite.Sequential([Dense(2)], input_shape=(3,), seed=0)
    model.compile(nnlite.optimizers.SGD(0.1))
    rec = Recorder()
    model.fit(np.zeros((5, 3), np.float32), np.zeros(5, int), batch_size=2, verbose=0,
              callbacks=[rec])
    assert rec.events == [("begin", 0), ("end", 0), ("begin", 1), ("end", 1), ("begin", 2), ("end", 2)]
