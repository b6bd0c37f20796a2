"""nnlite vs Keras 3 (TensorFlow backend): same weights and batch -> same numbers.

Tolerances: ``baselines.parity.TOLERANCES``. Where float32 rounding, not the algorithm, decides
the outcome, the check runs in float64 in BOTH engines with the same tolerance (see
experiments/results/parity.md): Adam divides every gradient by its own magnitude, so a weight
whose true gradient is zero (the CNN's conv biases, cancelled by the BatchNormalization after
them) moves by +-lr times the sign of each engine's float32 rounding noise. In float64 that
noise is ~1e-14 and drowns in epsilon.

Float32 is still checked where rounding cannot decide the outcome: every forward pass, the ANN's
and VGG16's gradients and the ANN's Adam steps with the same tolerances, and the CNN's
gradients against the float64 reference (nnlite no less accurate than Keras).

Weights: BN layers get random gamma/beta/moving statistics, biases random values, kernels are
scaled so every layer's output has std 0.5 (``baselines.parity.make_pair``): logits of a real
size, so an absolute tolerance of 1e-4 tests something. Inputs are uniform random images: no
exact ties for MaxPool to break (TensorFlow does not promise which maximum of a tie gets the
gradient). VGG16 runs at width 0.125 (and 0.25 for the forward pass) with dropout 0 to stay
fast; dropout is identity at rate 0 in both engines.
"""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="parity tests compare against TensorFlow/Keras; "
                                              "install them with: pip install 'nnlite[keras]'")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3 (nnlite[keras])")

from baselines import parity as P   # noqa: E402  (needs TensorFlow, imported above)
from baselines import transfer      # noqa: E402
from nnlite import layers, zoo     # noqa: E402
from nnlite.errors import ConfigError   # noqa: E402

TOL = P.TOLERANCES
MODELS = {"ann": {}, "cnn": {}, "vgg16": {"width": 0.125, "dropout": 0.0}}


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def pair(name, dtype="float32", **extra):
    return P.make_pair(name, seed=0, dtype=dtype, **{**MODELS[name], **extra})


def batch(n, seed, dtype="float32"):
    x, y = P.test_batch(n, seed)
    return x.astype(dtype), y


# -- forward -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,extra", [("ann", {}), ("cnn", {}), ("vgg16", {}),
                                        ("vgg16", {"width": 0.25}),
                                        ("cnn", {"standardize": True})])
def test_forward_inference(name, extra):
    nn, k = pair(name, **extra)
    x, _ = batch(8, 1)
    assert nn.forward(x).std() > 0.1          # logits of a real size: the check is not vacuous
    assert P.forward_diff(nn, k, x, training=False) <= TOL["forward"]


def test_forward_inference_uses_the_nontrivial_bn_statistics():
    """The CNN's BN layers carry random gamma/beta/moving stats: resetting them changes the
    logits far beyond the tolerance, so the forward test above would catch a BN mix-up."""
    nn, k = pair("cnn")
    x, _ = batch(8, 1)
    logits = nn.forward(x)
    plain = P.with_dtype(nn, "float32")      # a copy, then BN back to Keras' initial values
    for layer in plain.layers:
        if isinstance(layer, layers.BatchNormalization):
            for key, value in (("gamma", 1), ("beta", 0), ("moving_mean", 0),
                               ("moving_variance", 1)):
                {**layer.params, **layer.state}[key][...] = value
    assert np.abs(plain.forward(x) - logits).max() > 100 * TOL["forward"]


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_training(name):
    nn, k = pair(name)
    x, _ = batch(8, 2)
    assert nn.forward(x, training=True).std() > 0.1
    nn, k = pair(name)
    assert P.forward_diff(nn, k, x, training=True) <= TOL["forward"]
    # both engines updated the BN moving statistics from the same batch statistics
    assert P.weight_state_diffs(nn, k)["bn_stats"] <= TOL["bn_stats_50"]


# -- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
def test_gradients_float64_every_weight(name):
    with P.keras_floatx("float64"):
        nn, k = pair(name, dtype="float64")
        x, y = batch(8, 3, "float64")
        result = P.gradient_diffs(nn, k, x, y)
    assert len(result["rows"]) == len(k.trainable_variables)
    for row in result["rows"]:
        assert row["worst_ratio"] <= 1.0, row
    # not 1e-12: Keras multiplies the L2 sum by its factor rounded to float32 (0.01 ->
    # 0.0099999998), a 2e-8 relative difference on the CNN's regularisation term
    assert result["loss_nnlite"] == pytest.approx(result["loss_keras"], rel=1e-7)


@pytest.mark.parametrize("name", ["ann", "vgg16"])
def test_gradients_float32_every_weight(name):
    nn, k = pair(name)
    x, y = batch(8, 3)
    for row in P.gradient_diffs(nn, k, x, y)["rows"]:
        assert row["worst_ratio"] <= 1.0, row


def test_cnn_float32_gradients_no_less_accurate_than_keras():
    """In float32 the CNN's gradients differ from Keras' by rounding (its conv biases have a true
    gradient of 0, so both engines return pure noise there). Measured against the float64
    gradient: over all weights nnlite's float32 error is no larger than Keras' own, and no
    single array's is more than 4x Keras' (small arrays make that ratio noisy: ~0.2-1.8 here)."""
    nn, k = pair("cnn")
    x, y = batch(8, 3)
    _, g_ref = P.nnlite_loss_and_grads(P.with_dtype(nn, "float64"), x.astype("float64"), y)
    _, g_nn = P.nnlite_loss_and_grads(nn, x, y)
    _, g_k = P.keras_loss_and_grads(k, x, y)

    def total_error(grads):
        return np.sqrt(sum(float(((g - r) ** 2).sum()) for g, r in zip(grads, g_ref)))
    assert total_error(g_nn) <= total_error(g_k)
    for name, ref, a, b in zip(P.weight_names(nn), g_ref, g_nn, g_k):
        err_nn, err_k = np.abs(a - ref).max(), np.abs(b - ref).max()
        assert err_nn <= 4 * err_k, (name, err_nn, err_k)


def test_regularization_loss_equal():
    nn, k = pair("cnn")
    ours, theirs = P.regularization_losses(nn, k)
    assert ours > 0
    assert ours == pytest.approx(theirs, rel=TOL["reg_loss_rel"])
    # and it is 0.01 * sum(kernel**2) over the three conv kernels, as Keras defines it
    kernels = [l.params["kernel"].astype(np.float64) for l in nn.layers
               if isinstance(l, layers.Conv2D)]
    assert ours == pytest.approx(0.01 * sum((w ** 2).sum() for w in kernels), rel=1e-6)


# -- Adam --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
def test_adam_one_and_fifty_steps_float64(name):
    """Same weights, same 50 batches, each engine's own training step: after step 1 every
    weight within 1e-6; after step 50 every weight within 1e-4 and BN statistics within 1e-5."""
    with P.keras_floatx("float64"):
        nn, k = pair(name, dtype="float64")
        batches = [batch(8, 100 + i, "float64") for i in range(50)]
        diffs = P.adam_diffs(nn, k, batches, lr=1e-3, after=(1, 50))
    assert diffs[1]["weights"] <= TOL["adam_1"]
    assert diffs[50]["weights"] <= TOL["adam_50"]
    assert diffs[50]["bn_stats"] <= TOL["bn_stats_50"]
    # the steps moved the weights far more than the tolerance: the comparison is not vacuous
    fresh, _ = pair(name, dtype="float64")
    moved = max(np.abs(a - b).max() for a, b in zip(nn.get_weights(), fresh.get_weights()))
    assert moved > 100 * TOL["adam_50"]


def test_adam_float32_ann():
    """In float32 too, for a model without zero-gradient weights or near-zero ReLU inputs at
    these batches (the CNN's conv biases before BN have a true gradient of 0; VGG16 meets ReLU
    inputs within rounding of 0; parity.md shows both): 1 step within 1e-6, 50 within 1e-4."""
    nn, k = pair("ann")
    diffs = P.adam_diffs(nn, k, [batch(8, 200 + i) for i in range(50)], lr=1e-4, after=(1, 50))
    assert diffs[1]["weights"] <= TOL["adam_1"]
    assert diffs[50]["weights"] <= TOL["adam_50"]


# -- transfer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,extra", [("ann", {"standardize": True, "dropout": 0.2}),
                                        ("cnn", {"standardize": True, "dropout": 0.3}),
                                        ("vgg16", {})])
def test_transfer_round_trips(name, extra):
    nn, _ = pair(name, **extra)
    k = transfer.to_keras(nn)
    back = transfer.from_keras(k)
    assert [type(l) for l in back.layers] == [type(l) for l in nn.layers]
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in nn.layers]
    for a, b in zip(back.get_weights(), nn.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = transfer.to_keras(back)
    assert [type(l) for l in again.layers] == [type(l) for l in k.layers]
    for a, b in zip(again.get_weights(), k.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_from_keras_reads_a_keras_built_baseline():
    from baselines import models as kmodels
    k = kmodels.cnn(seed=3, standardize=True)
    nn = transfer.from_keras(k)
    assert nn.count_params() == k.count_params() == zoo.cnn(standardize=True).count_params()
    assert isinstance(nn.layers[0], layers.Rescaling)
    x, _ = batch(8, 5)
    np.testing.assert_allclose(nn.predict(x), k.predict(x, verbose=0), atol=TOL["forward"])


@pytest.mark.parametrize("name,kw", [("ann", {}), ("cnn", {}), ("vgg16", {"width": 0.25})])
def test_baseline_architecture_matches_the_zoo(name, kw):
    from baselines import models as kmodels
    k, nn = kmodels.build(name, **kw), zoo.build(name, **kw)
    assert k.count_params() == nn.count_params()
    assert [type(l) for l in transfer.from_keras(k).layers] == [type(l) for l in nn.layers]


def test_untranslatable_layers_are_refused_by_name():
    k = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, use_bias=False, name="nob")])
    with pytest.raises(ConfigError, match="nob"):
        transfer.from_keras(k)
    k = keras.Sequential([keras.Input((4,)), keras.layers.LayerNormalization(name="ln")])
    with pytest.raises(ConfigError, match="ln"):
        transfer.from_keras(k)


# -- python -m baselines compare ---------------------------------------------------------------
def test_compare_cli_prints_the_table(capsys):
    from baselines import cli
    assert cli.main(["compare", "ann", "--steps", "2", "--batch-size", "4",
                     "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    for check in ("forward, inference", "forward, training", "gradients", "Adam(lr=0.001) 1 step",
                  "Adam 2 steps", "BN moving-stat"):
        assert check in out
    assert "FAIL" not in out and out.count(" ok") >= 7


def test_compare_cli_refuses_unknown_models(capsys):
    from baselines import cli
    assert cli.main(["compare", "resnet"]) == 2
    assert "MODEL must be ann, cnn, vgg16" in capsys.readouterr().err
