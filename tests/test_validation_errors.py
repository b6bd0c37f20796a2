"""Guarantee 4: every public entry point refuses bad input with an NNLiteError subclass whose
message says what was expected and what was given -- never a NumPy traceback from inside.

Each case is (call, expected error class, a regex the message must match). The regexes check
that the message names BOTH the expectation and the offending value/shape/dtype.
"""
import os
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import nnlite
import nnlite.datasets
import nnlite.zoo
from nnlite import cli
from nnlite.errors import ConfigError, DataError, InputError, ModelFileError, NNLiteError
from nnlite.callbacks import Callback
from nnlite.layers import (BatchNormalization, Conv2D, Dense, Deskew, Dropout, Flatten, MaxPool2D,
                           ReLU, Rescaling)
from nnlite.optimizers import SGD, Adam
from nnlite.schedules import CosineDecay, StepDecay

HERE = os.path.dirname(os.path.abspath(__file__))
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
                    r"positive integers.*\(0, 3\)"),
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


def weights_with(index, value):
    weights = model().get_weights()
    weights[index] = value
    return weights


# -- arguments of constructors, compile and fit: types, NaN/Inf, shapes, absurd sizes ----------
ARGUMENT_CASES = {
    "Rescaling string": (lambda: Rescaling("x"), ConfigError,
                         r"Rescaling scale must be a finite number, got 'x'"),
    "Rescaling NaN scale": (lambda: Rescaling(float("nan")), ConfigError, r"scale.*got nan"),
    "Rescaling Inf offset": (lambda: Rescaling(1.0, np.inf), ConfigError, r"offset.*got inf"),
    "BatchNormalization momentum string": (lambda: BatchNormalization(momentum="a"),
                                           ConfigError, r"momentum must be a number in "
                                                        r"\[0, 1\], got 'a'"),
    "BatchNormalization momentum NaN": (lambda: BatchNormalization(momentum=float("nan")),
                                        ConfigError, r"momentum.*got nan"),
    "BatchNormalization epsilon NaN": (lambda: BatchNormalization(epsilon=float("nan")),
                                       ConfigError, r"epsilon must be a number > 0, got nan"),
    "BatchNormalization epsilon Inf": (lambda: BatchNormalization(epsilon=np.inf), ConfigError,
                                       r"epsilon.*got inf"),
    "Dropout seed float": (lambda: Dropout(0.5, seed=1.5), ConfigError, r"seed.*1.5"),
    "Dropout rate NaN": (lambda: Dropout(float("nan")), ConfigError, r"rate.*nan"),
    "Conv2D kernel string": (lambda: Conv2D(2, "33"), ConfigError, r"kernel_size.*'33'"),
    "Conv2D kernel float": (lambda: Conv2D(2, 2.5), ConfigError, r"kernel_size.*2.5"),
    "Conv2D strides pair of strings": (lambda: Conv2D(2, 3, strides=("1", "1")), ConfigError,
                                       r"strides.*\('1', '1'\)"),
    "Conv2D padding list": (lambda: Conv2D(2, 3, padding=["same"]), ConfigError,
                            r"'valid' or 'same'.*\['same'\]"),
    "MaxPool2D pool float": (lambda: MaxPool2D((2, 2.0)), ConfigError, r"pool_size.*2.0"),
    "Dense activation list": (lambda: Dense(2, activation=["relu"]), ConfigError,
                              r"activation must be a name.*\['relu'\]"),
    "Dense initializer name": (lambda: Dense(2, kernel_initializer="glorot"), ConfigError,
                               r"unknown initializer 'glorot'"),
    "Dense regularizer number": (lambda: Dense(2, kernel_regularizer=0.01), ConfigError,
                                 r"kernel_regularizer.*got 0.01"),
    "layer dtype garbage": (lambda: Dense(2, dtype="abc"), ConfigError, r"float32.*'abc'"),
    "Dense 10**12 units": (lambda: nnlite.Sequential([Dense(10 ** 12)], input_shape=(4,)),
                           ConfigError, r"would create 5,000,000,000,000 weights.*"
                                        r"2,147,483,648 allowed"),
    "Conv2D 10**9 filters": (lambda: nnlite.Sequential([Conv2D(10 ** 9, 3)],
                                                       input_shape=(8, 8, 1)),
                             ConfigError, r"would create 10,000,000,000 weights"),
    "Conv2D huge output": (lambda: nnlite.Sequential([Conv2D(2 ** 22, 1)],
                                                     input_shape=(28, 28, 1)),
                           ConfigError, r"would output 3,288,334,336 values per image"),
    "Sequential seed -1": (lambda: nnlite.Sequential([Dense(2)], seed=-1), ConfigError,
                           r"seed must be an integer >= 0, got -1"),
    "Sequential seed float": (lambda: nnlite.Sequential([Dense(2)], seed=1.5), ConfigError,
                              r"seed.*1.5"),
    "Sequential name": (lambda: nnlite.Sequential([Dense(2)], name=3), ConfigError,
                        r"name must be a string, got 3"),
    "Sequential one layer, no list": (lambda: nnlite.Sequential(Dense(2)), ConfigError,
                                      r"layers must be a list.*Dense"),
    "input_shape int": (lambda: nnlite.Sequential([Dense(2)], input_shape=4), ConfigError,
                        r"input_shape must be a tuple of positive integers.*got 4"),
    "input_shape float": (lambda: nnlite.Sequential([Dense(2)], input_shape=(2.5,)),
                          ConfigError, r"input_shape.*got \(2.5,\)"),
    "input_shape string": (lambda: nnlite.Sequential([Dense(2)], input_shape="33"),
                           ConfigError, r"input_shape.*got '33'"),
    "input_shape empty": (lambda: nnlite.Sequential([Dense(2)], input_shape=()), ConfigError,
                          r"input_shape.*got \(\)"),
    "class_names count": (lambda: nnlite.Sequential([Dense(2)], input_shape=(3,),
                                                    class_names=["cat"]),
                          ConfigError, r"class_names has 1 names but the model has 2 outputs"),
    "class_names not strings": (lambda: nnlite.Sequential([Dense(2)], class_names=[0, 1]),
                                ConfigError, r"class_names must be.*\[0, 1\]"),
    "Adam beta_1 NaN": (lambda: Adam(beta_1=float("nan")), ConfigError, r"beta_1.*nan"),
    "Adam epsilon string": (lambda: Adam(epsilon="1e-7"), ConfigError, r"epsilon.*'1e-7'"),
    "Adam learning rate string": (lambda: Adam("1e-3"), ConfigError,
                                  r"learning_rate must be a positive number or a schedule, "
                                  r"got '1e-3'"),
    "SGD nesterov string": (lambda: SGD(0.1, nesterov="yes"), ConfigError,
                            r"nesterov must be True or False, got 'yes'"),
    "SGD momentum Inf": (lambda: SGD(0.1, momentum=np.inf), ConfigError, r"momentum.*inf"),
    "StepDecay every float": (lambda: StepDecay(1e-3, 2.5), ConfigError, r"every.*2.5"),
    "CosineDecay NaN": (lambda: CosineDecay(float("nan"), 10), ConfigError, r"initial.*nan"),
    "CosineDecay alpha": (lambda: CosineDecay(1e-3, 10, alpha=2), ConfigError,
                          r"alpha must be a number in \[0, 1\], got 2"),
    "compile loss list": (lambda: model().compile(loss=["mse"]), ConfigError,
                          r"unknown loss \['mse'\]"),
    "compile metrics string": (lambda: model().compile(metrics="mae"), ConfigError,
                               r"unknown metrics \['mae'\]"),
    "compile metrics number": (lambda: model().compile(metrics=3), ConfigError,
                               r"unknown metrics 3"),
    "set_weights NaN": (lambda: model().set_weights(weights_with(1, [np.nan, 0])), InputError,
                        r"set_weights: array 1.*NaN/Inf"),
    "set_weights strings": (lambda: model().set_weights(weights_with(1, ["a", "b"])),
                            InputError, r"set_weights: array 1.*real numeric.*<U1"),
    "set_weights complex": (lambda: model().set_weights(weights_with(1, [1j, 0])), InputError,
                            r"array 1.*complex"),
    "set_weights not a list": (lambda: model().set_weights(np.zeros(4)), InputError,
                               r"expected a list of 4 arrays"),
    "fit checkpoint_path folder": (lambda: fit(checkpoint_path=HERE), ConfigError,
                                   r"checkpoint_path: .* is a folder; give a file path"),
    "fit checkpoint_path missing folder": (lambda: fit(checkpoint_path="/nonexistent/ck.npz"),
                                           ConfigError, r"the folder /nonexistent does not "
                                                        r"exist"),
    "fit checkpoint_path number": (lambda: fit(checkpoint_path=3), ConfigError,
                                   r"checkpoint_path must be a file path.*got 3"),
    "fit shuffle string": (lambda: fit(shuffle="yes"), ConfigError, r"shuffle.*'yes'"),
    "fit one callback, no list": (lambda: fit(callbacks=Callback()), ConfigError,
                                  r"callbacks must be a list"),
    "fit batch_transform": (lambda: fit(batch_transform=3), ConfigError,
                            r"batch_transform must be None or a function.*3"),
    "fit recalibrate_bn": (lambda: fit(recalibrate_bn="always"), ConfigError,
                           r"recalibrate_bn must be 'auto', True or False, got 'always'"),
    "l2 factor string": (lambda: nnlite.regularizers.l2("0.01"), ConfigError,
                         r"l2 factor must be a finite number >= 0, got '0.01'"),
    "Deskew on 3 channels": (lambda: Deskew()(np.zeros((1, 8, 8, 3))), InputError,
                             r"single-channel images.*\(batch, 8, 8, 3\)"),
}


ALL_CASES = {**MODEL_CASES, **LAYER_CASES, **CONFIG_CASES, **DATA_CASES, **ARGUMENT_CASES}


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


def test_numpy_scalars_and_lists_are_accepted_where_python_numbers_are():
    opt = Adam(np.float32(1e-3), beta_1=np.float64(0.9))
    assert opt.learning_rate == pytest.approx(1e-3) and isinstance(opt.learning_rate, float)
    SGD(np.float64(0.1), momentum=np.float32(0.5), nesterov=np.bool_(True))
    layers = [Rescaling(np.float32(0.5)), Conv2D(np.int64(2), (np.int32(3), 3), padding="same"),
              BatchNormalization(momentum=np.float64(0.9)), ReLU(), Flatten(),
              Dropout(np.float32(0.25), seed=np.int64(3)), Dense(np.int64(3))]
    m = nnlite.Sequential(layers, input_shape=[8, 8, np.int64(1)], seed=np.int64(4),
                          class_names=("a", "b", "c"))
    assert m.input_shape == (8, 8, 1) and m.class_names == ["a", "b", "c"]
    m.compile(opt, metrics="accuracy")                    # one name, as Keras allows
    assert m.metrics == ["accuracy"]
    m.fit(X, Y % 3, batch_size=np.int64(3), epochs=np.int64(1), verbose=0)
    m.set_weights([w.astype(np.float64) for w in m.get_weights()])   # cast, as Keras


def test_absurd_sizes_are_refused_before_allocating():
    tracemalloc.start()
    with pytest.raises(ConfigError, match="would create"):
        nnlite.Sequential([Flatten(), Dense(10 ** 9)], input_shape=(28, 28, 1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2 ** 20


def test_bad_checkpoint_path_fails_before_the_first_step():
    m = model()
    before = [w.copy() for w in m.get_weights()]
    with pytest.raises(ConfigError, match="is a folder"):
        m.fit(X, Y, epochs=1, verbose=0, checkpoint_path=HERE)
    assert m.optimizer.iterations == 0
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_failed_set_weights_changes_nothing():
    m = model()
    before = m.get_weights()
    with pytest.raises(InputError):
        m.set_weights(weights_with(3, np.full(4, np.inf)))
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


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
    (["train", "ann", "--epochs", "0", "--limit", "10"], r"--epochs: expected an integer >= 1"),
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
