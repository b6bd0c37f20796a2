"""The model zoo, the train/evaluate tools and augmentation inside fit (small data only)."""
import json
import os

import numpy as np
import pytest

from nnlite import load_model, optimizers, zoo
from nnlite.callbacks import Callback
from nnlite.cli import main as cli
from nnlite.preprocess import Augment, scale01

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
