"""The model zoo, the train/evaluate tools and augmentation inside fit (small data only)."""
import json
import os

import numpy as np
import pytest

from nnlite import Sequential, load_model, optimizers, zoo
from nnlite.callbacks import Callback
from nnlite.cli import main as cli
from nnlite.preprocess import Augment, scale01
from nnlite.recipe import build_model

KERAS_PARAMS = {"ann": 468_874, "cnn": 265_906, "vgg16": 1_021_882}


@pytest.mark.parametrize("name", sorted(KERAS_PARAMS))
def test_zoo_param_counts_equal_keras(name):
    model = zoo.build(name, seed=0)
    assert model.count_params() == KERAS_PARAMS[name]
    x = np.zeros((2, 28, 28, 1), np.float32)
    assert model.predict(x).shape == (2, 10)            # logits, one row per image


def test_full_vgg16_param_count_equals_keras():
    assert zoo.vgg16(width=1.0, seed=0).count_params() == 14_913_226


def test_standardize_layer_adds_no_params_and_changes_the_input():
    plain, std = zoo.ann(seed=3), zoo.ann(seed=3, standardize=True)
    assert std.count_params() == plain.count_params()
    x = np.full((1, 28, 28, 1), 0.5, np.float32)
    assert not np.allclose(plain.predict(x), std.predict(x))


@pytest.fixture(scope="module")
def small(mnist):
    (x, y), (xt, yt) = mnist
    return (scale01(x[:640, :, :, None]), y[:640].astype(np.int64),
            scale01(xt[:300, :, :, None]), yt[:300].astype(np.int64))


class _InterruptAt(Callback):
    """Simulates Ctrl+C after a given batch of a given epoch."""

    def __init__(self, epoch, batch):
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def _augmented_ann():
    model = zoo.ann(seed=5, dropout=0.2)
    model.compile(optimizers.Adam(1e-3))
    return model


def test_resumed_augmented_run_equals_uninterrupted_one(small, tmp_path):
    x, y, _, _ = small
    aug = Augment(shift=2, rotation=10, scale=0.1, elastic_alpha=8, elastic_sigma=3)
    kw = dict(batch_size=64, epochs=2, validation_split=0.25, verbose=0, batch_transform=aug)
    ref = _augmented_ann()
    ref.fit(x, y, **kw)

    ckpt = str(tmp_path / "ck.npz")
    first = _augmented_ann()
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, checkpoint_path=ckpt, callbacks=[_InterruptAt(1, 2)], **kw)
    resumed = _augmented_ann()
    hist = resumed.fit(x, y, checkpoint_path=ckpt, resume=ckpt, **kw)
    for a, b in zip(ref.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hist.history["loss"] == ref.history.history["loss"]


def test_batch_transform_sees_only_training_batches_and_must_keep_shape(small):
    x, y, _, _ = small
    seen = []

    def spy(xb, rng):
        seen.append(len(xb))
        return xb

    model = _augmented_ann()
    model.fit(x[:200], y[:200], batch_size=50, epochs=1, validation_split=0.5, verbose=0,
              batch_transform=spy)
    assert seen == [50, 50]                    # 100 training images; validation untouched
    from nnlite.errors import ConfigError
    with pytest.raises(ConfigError, match="shape"):
        model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0,
                  batch_transform=lambda xb, rng: xb[:, :14])


def test_train_save_evaluate_round_trip(small, tmp_path):
    from nnlite.commands.evaluate import evaluate_arrays
    from nnlite.commands.train import run
    from tests.test_models import _recipe
    x, y, xt, yt = small
    cfg = _recipe(model="cnn", epochs=1, lr=1e-3, augment="affine", preprocess="standardize")
    result = run(cfg, str(tmp_path), verbose=0, data=((x[:320], y[:320]), (xt, yt)))
    for f in ("model.npz", "history.csv", "history.json", "curves.png", "run.json"):
        assert os.path.isfile(tmp_path / f), f
    hist = json.loads((tmp_path / "history.json").read_text())
    assert set(hist) == {"loss", "acc", "val_loss", "val_acc", "lr", "seconds"}
    loaded = load_model(tmp_path / "model.npz")
    loaded.compile()
    np.testing.assert_array_equal(loaded.predict(xt), result["model"].predict(xt))
    metrics = evaluate_arrays(loaded, xt, yt, str(tmp_path / "eval"))
    assert metrics["accuracy"] == pytest.approx(float(np.mean(loaded.predict(xt).argmax(1) == yt)))
    assert metrics["errors"] == int(np.sum(loaded.predict(xt).argmax(1) != yt))
    assert np.array(metrics["confusion"]).sum() == len(yt)
    for f in ("metrics.json", "confusion.png", "mistakes.png"):
        assert os.path.isfile(tmp_path / "eval" / f)


def _recipe(**kw):
    from nnlite.recipe import Recipe
    return Recipe(model="ann", epochs=1, lr=1e-3, schedule="cosine").replace(**kw)


def test_cli_train_resume_and_evaluate(mnist, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "ann", "--epochs", "1", "--limit", "500", "--lr", "1e-3", "--augment",
            "affine", "--preprocess", "deskew", "--quiet", "--out", out]
    assert cli(args) == 0
    assert cli(["train", "ann", "--out", out, "--resume", "--quiet"]) == 0   # already done
    capsys.readouterr()
    assert cli(["evaluate", os.path.join(out, "model.npz"), "--out", str(tmp_path / "ev")]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert "preprocess: deskew" in printed           # read from run.json beside the model
    assert f"test accuracy {metrics['accuracy']:.4f}" in printed
    assert metrics["n"] == 10_000


def test_cli_evaluate_images_folder(mnist, tmp_path, capsys):
    from PIL import Image
    _, (xt, yt) = mnist
    model = zoo.ann(seed=0)
    model.save(tmp_path / "m.npz")
    folder = tmp_path / "drawn"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(xt[i]).save(folder / f"{yt[i]}_drawing{i}.png")
    (folder / "notes.txt").write_text("ignored")
    assert cli(["evaluate", str(tmp_path / "m.npz"), "--images", str(folder),
                "--out", str(tmp_path / "ev")]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["n"] == 12
    assert "12 drawings" in capsys.readouterr().out
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(folder / "3_big.png")
    assert cli(["evaluate", str(tmp_path / "m.npz"), "--images", str(folder)]) == 2
    assert "3_big.png" in capsys.readouterr().err


# -- BatchNormalization statistics after short runs --------------------------------------------
def test_short_cnn_run_no_longer_scores_at_chance(mnist):
    """40 steps at momentum 0.99 leave BN's moving variance ~67 % its initial 1: without the
    re-estimation the CNN fits its batches and scores at chance on validation."""
    (x, y), _ = mnist
    x, y = scale01(x[:1600, :, :, None]), y[:1600].astype(np.int64)
    scores = {}
    for option in ("auto", False):
        model = zoo.cnn(seed=0)
        model.compile(optimizers.Adam(1e-3))
        history = model.fit(x, y, batch_size=32, epochs=1, validation_split=0.2, verbose=0,
                            recalibrate_bn=option)
        scores[option] = history.history["val_accuracy"][-1]
        assert (history.bn_recalibration is None) == (option is False)
    assert scores[False] < 0.2                          # the failure this guards against
    assert scores["auto"] > 0.7
    assert model.evaluate(x[1280:], y[1280:])[1] == scores[False]   # logs score the model


def test_recalibration_sets_the_exact_statistics_layer_by_layer(rng):
    from nnlite.layers import BatchNormalization, Conv2D, Dense, Flatten, ReLU
    from nnlite.recalibration import recalibrate
    model = nnlite_model([Conv2D(3, 3), BatchNormalization(), ReLU(), Flatten(), Dense(4),
                          BatchNormalization()], (6, 6, 1))
    x = rng.random((50, 6, 6, 1)).astype(np.float32)
    assert recalibrate(model, x, max_images=40) == 40
    picks = x[np.unique(np.linspace(0, 49, 40).astype(int))]
    h = model.layers[0].forward(picks).reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(model.layers[1].state["moving_mean"], h.mean(0), rtol=1e-5)
    np.testing.assert_allclose(model.layers[1].state["moving_variance"], h.var(0), rtol=1e-5)
    for layer in model.layers[:5]:                      # the input of the second BN, as
        picks = layer.forward(picks)                    # inference computes it
    np.testing.assert_allclose(model.layers[5].state["moving_variance"],
                               picks.astype(np.float64).var(0), rtol=1e-5)


def test_auto_leaves_long_runs_and_models_without_batchnorm_alone(rng):
    from nnlite.layers import BatchNormalization, Dense
    from nnlite.recalibration import STALE_SHARE, after_fit, stale_share
    model = nnlite_model([Dense(4), BatchNormalization(), Dense(2)], (3,))
    model.compile(optimizers.Adam(1e-3))
    x = rng.random((20, 3)).astype(np.float32)
    model.optimizer.iterations = 1000                   # 0.99 ** 1000 = 4e-5
    assert stale_share(model, 1000) < STALE_SHARE and after_fit(model, x, "auto") is None
    assert after_fit(model, x, True)["images"] == 20    # True: always
    model.optimizer.iterations = 10
    assert stale_share(model, 10) > STALE_SHARE and after_fit(model, x, False) is None
    plain = nnlite_model([Dense(2)], (3,))
    plain.compile()
    assert after_fit(plain, x, True) is None


def nnlite_model(layers, input_shape):
    from nnlite import Sequential
    return Sequential(layers, input_shape=input_shape, seed=0)


# -- model files carry their preprocessing and class names --------------------------------------
def test_deskew_layer_computes_what_preprocess_deskew_computes(mnist):
    from nnlite.layers import Deskew
    from nnlite.preprocess import deskew
    _, (xt, _) = mnist
    x = scale01(xt[:64, :, :, None])
    np.testing.assert_array_equal(Deskew()(x), deskew(x))
    np.testing.assert_array_equal(Deskew()(x[:1]), deskew(x[:1]))            # one image
    np.testing.assert_allclose(Deskew(dtype="float64")(x), deskew(x), rtol=0, atol=0)


def test_copied_model_file_keeps_its_preprocessing_and_class_names(small, tmp_path):
    """A deskew-trained model scored from a copy without run.json beside it scores the same:
    the file holds its Deskew layer (no run.json needed) and its class names."""
    import shutil
    from nnlite.commands.train import run
    x, y, xt, yt = small
    result = run(_recipe(preprocess="deskew"), str(tmp_path / "run"), verbose=0,
                 data=((x, y), (xt, yt)))
    copy = tmp_path / "elsewhere" / "model.npz"
    copy.parent.mkdir()
    shutil.copy(tmp_path / "run" / "model.npz", copy)
    loaded = load_model(copy)
    assert type(loaded.layers[0]).__name__ == "Deskew"
    assert loaded.class_names == [str(i) for i in range(10)]
    np.testing.assert_array_equal(loaded.predict(xt), result["model"].predict(xt))
    scores = {}
    for where in (tmp_path / "run" / "model.npz", copy):
        assert cli(["evaluate", str(where), "--out", str(where.parent / "ev")]) == 0
        scores[where] = json.loads((where.parent / "ev" / "metrics.json").read_text())
    assert len({s["accuracy"] for s in scores.values()}) == 1


def test_old_model_files_still_get_their_preprocessing_from_run_json(mnist, tmp_path, capsys):
    """A file without a Deskew layer whose run.json says "deskew" (written before the layer
    existed) is still fed deskewed images by ``nnlite evaluate``."""
    from nnlite.preprocess import deskew
    from nnlite.recipe import Recipe, holds_preprocessing
    old = zoo.ann(seed=0)
    assert not holds_preprocessing(old, "deskew") and holds_preprocessing(old, "scale")
    old.save(tmp_path / "model.npz")
    (tmp_path / "run.json").write_text(json.dumps(
        {"config": Recipe(model="ann", preprocess="deskew").to_dict()}))
    assert cli(["evaluate", str(tmp_path / "model.npz"), "--out", str(tmp_path / "ev")]) == 0
    assert "preprocess: deskew" in capsys.readouterr().out
    _, (xt, yt) = mnist
    expected = np.mean(old.predict(deskew(scale01(xt[..., None]))).argmax(1) == yt)
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(expected)


# -- predict: what the pass size changes ---------------------------------------------------------
@pytest.mark.parametrize("name", ["ann", "cnn"])
def test_predict_pass_size_changes_only_the_last_bits(mnist, name):
    """Sequential.predict's docstring: passes of 1 and of 300 images give logits within
    2e-6 of the largest |logit| (measured: 4e-7), and the same classes."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models",
                        f"{name}.npz")
    if not os.path.isfile(path):
        pytest.skip(f"{path} not trained")
    model = load_model(path)
    _, (xt, _) = mnist
    x = scale01(xt[:300, :, :, None])
    one, many = model.predict(x, batch_size=1), model.predict(x, batch_size=300)
    assert np.abs(one - many).max() <= 2e-6 * np.abs(many).max()
    np.testing.assert_array_equal(one.argmax(1), many.argmax(1))


def test_observers_that_want_input_gradients_work_on_a_deskew_model(small):
    """Deskew has no dL/dx; a model whose observers ask for every input gradient (GradientStats,
    traces) asks Deskew for none, and the weights are those of a plain step."""
    from nnlite.inspect import GradientStats
    x, y, _, _ = small
    weights = []
    for callbacks in ([], [GradientStats(every=1)]):
        model = build_model(_recipe(preprocess="deskew"))
        model.compile(optimizers.Adam(1e-3))
        model.fit(x[:64], y[:64], batch_size=32, verbose=0, callbacks=callbacks)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_evaluate_names_a_models_extra_outputs_and_refuses_too_few(tmp_path):
    # a model with more outputs than the dataset has classes (the app's reader: 10 digits,
    # "not a digit", "touching digits") is scored and plotted; one with fewer is refused
    from nnlite.commands.evaluate import evaluate_arrays
    from nnlite.datasets import CLASS_NAMES
    from nnlite.errors import InputError
    from nnlite.layers import Dense, Flatten
    rng = np.random.default_rng(0)
    x = rng.random((40, 28, 28, 1), dtype=np.float32)
    y = np.arange(40) % 10
    wide = Sequential([Flatten(), Dense(12)], input_shape=(28, 28, 1), seed=0)
    wide.compile()
    metrics = evaluate_arrays(wide, x, y, str(tmp_path / "wide"), CLASS_NAMES["mnist"], gallery=4)
    assert list(metrics["per_class"])[-2:] == ["output 10", "output 11"]
    assert np.array(metrics["confusion"]).shape == (12, 12)
    assert (tmp_path / "wide" / "confusion.png").is_file()
    narrow = Sequential([Flatten(), Dense(3)], input_shape=(28, 28, 1), seed=0)
    narrow.compile()
    with pytest.raises(InputError, match="3 outputs but the labels go up to 9"):
        evaluate_arrays(narrow, x, y, None, CLASS_NAMES["mnist"])
