"""The training recipe: one frozen Recipe, validated, stored in run.json, read by nnlite train,
the experiments and the Keras baseline alike."""
import dataclasses
import glob
import json
import os

import numpy as np
import pytest

from nnlite.cli import main as cli
from nnlite.commands.train import write_history
from nnlite.errors import ConfigError
from nnlite.layers import Deskew, Dropout, Rescaling
from nnlite.preprocess import deskew
from nnlite.recipe import (COSINE_ALPHA, FIELDS, STEP_FACTOR, STEP_PARTS, STUDY, TUNED, Recipe,
                           build_model, holds_preprocessing, input_note, learning_rate,
                           make_optimizer, model_options, prepare_images, steps_per_epoch, title)
from nnlite.schedules import CosineDecay, StepDecay
from nnlite.training import split_validation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "experiments", "results")


def test_the_defaults_are_the_study_protocol():
    assert STUDY == Recipe()
    assert STUDY.to_dict() == {
        "model": "cnn", "epochs": 5, "batch_size": 32, "lr": 1e-4, "schedule": "constant",
        "augment": "none", "preprocess": "scale", "seed": 0, "dataset": "mnist",
        "validation_split": 0.2, "limit": None, "width": 0.25, "dropout": None}
    assert FIELDS == tuple(STUDY.to_dict())


@pytest.mark.parametrize("field,value", [
    ("model", "resnet"), ("model", 3), ("epochs", 0), ("epochs", 2.5), ("epochs", True),
    ("batch_size", -1), ("lr", 0), ("lr", float("nan")), ("lr", "1e-3"), ("lr", True),
    ("schedule", "linear"), ("augment", "rotate"), ("preprocess", "whiten"), ("seed", -1),
    ("dataset", "cifar10"), ("validation_split", 1.0), ("validation_split", -0.1),
    ("limit", 0), ("limit", 10.0), ("width", 0), ("width", 8), ("dropout", 1.0),
    ("dropout", -0.5), ("schedule", ["cosine"]),
])
def test_a_bad_field_is_a_config_error_naming_it(field, value):
    with pytest.raises(ConfigError, match=rf"^{field} must be"):
        Recipe(**{field: value})
    with pytest.raises(ConfigError, match=rf"^{field} must be"):
        STUDY.replace(**{field: value})


def test_numbers_are_normalised_to_plain_python_types():
    r = Recipe(epochs=np.int64(3), lr=1, seed=np.int32(2), validation_split=0, width=1)
    assert (type(r.epochs), type(r.lr), type(r.seed), type(r.validation_split),
            type(r.width)) == (int, float, int, float, float)
    assert json.loads(json.dumps(r.to_dict())) == r.to_dict()


def test_replace_copies_refuses_unknown_fields_and_recipes_are_frozen():
    r = STUDY.replace(model="ann", epochs=2)
    assert (r.model, r.epochs, STUDY.model, STUDY.epochs) == ("ann", 2, "cnn", 5)
    with pytest.raises(ConfigError, match=r"unknown recipe field\(s\) \['learning_rate'\]"):
        STUDY.replace(learning_rate=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.epochs = 3


@pytest.mark.parametrize("recipe", [STUDY, *TUNED.values(), Recipe(limit=600, dropout=0.0)])
def test_to_dict_from_dict_round_trip_through_json(recipe):
    assert Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe


@pytest.mark.parametrize("corrupt,pattern", [
    (lambda d: {**d, "learning_rate": 1e-3}, r"unknown field\(s\) \['learning_rate'\]"),
    (lambda d: {k: v for k, v in d.items() if k != "epochs"}, r"missing field\(s\) \['epochs'\]"),
    (lambda d: {**d, "epochs": "5"}, r"epochs must be a positive integer"),
    (lambda d: {**d, "preprocess": None}, r"preprocess must be one of"),
    (lambda d: list(d.items()), r"a recipe must be a dict"),
    (lambda d: None, r"a recipe must be a dict"),
])
def test_from_dict_refuses_a_corrupt_recipe_with_a_config_error(corrupt, pattern):
    with pytest.raises(ConfigError, match=pattern):
        Recipe.from_dict(corrupt(STUDY.to_dict()))


def test_every_stored_run_and_result_reads_back_as_a_recipe():
    paths = glob.glob(os.path.join(RESULTS, "**", "run.json"), recursive=True)
    assert paths, "experiments/results holds run.json files"
    for path in paths:
        with open(path) as fh:
            Recipe.from_dict(json.load(fh)["config"])


@pytest.mark.parametrize("model", sorted(TUNED))
def test_tuned_recipes_are_the_ones_the_study_chose(model):
    """TUNED[model] is the recipe experiments/tuned.py chose on validation accuracy."""
    with open(os.path.join(RESULTS, "tuned", f"{model}_choice.json")) as fh:
        choice = json.load(fh)
    assert Recipe.from_dict(choice["config"]) == TUNED[model]
    with open(os.path.join(RESULTS, "tuned", choice["chosen"], "run.json")) as fh:
        assert Recipe.from_dict(json.load(fh)["config"]) == TUNED[model]


# -- what the recipe builds ---------------------------------------------------------------------
@pytest.mark.parametrize("n,split,batch", [(60_000, 0.2, 32), (600, 0.2, 32), (1000, 0.0, 64),
                                           (777, 0.13, 10)])
def test_steps_per_epoch_counts_the_batches_fit_runs(n, split, batch):
    recipe = Recipe(validation_split=split, batch_size=batch)
    x = np.zeros(n)
    n_train = len(split_validation(x, x, split)[0][0]) if split else n
    assert steps_per_epoch(n, recipe) == -(-n_train // batch)


def test_learning_rate_per_schedule():
    assert learning_rate(STUDY, 100) == STUDY.lr
    cosine = learning_rate(Recipe(schedule="cosine", epochs=3, lr=1e-3), 100)
    assert isinstance(cosine, CosineDecay)
    assert (cosine.decay_steps, cosine.alpha) == (300, COSINE_ALPHA)
    assert cosine(300) == pytest.approx(1e-3 * COSINE_ALPHA)
    step = learning_rate(Recipe(schedule="step", epochs=2, lr=1e-3), 100)
    assert isinstance(step, StepDecay)
    assert (step.every, step.factor) == (200 // STEP_PARTS, STEP_FACTOR)
    for recipe in TUNED.values():
        assert make_optimizer(recipe, 10).get_config()["learning_rate"]["alpha"] == COSINE_ALPHA


def test_build_model_reads_preprocess_dropout_width_and_seed():
    ann = build_model(TUNED["ann"])
    assert isinstance(ann.layers[0], Rescaling)
    assert sum(isinstance(layer, Dropout) for layer in ann.layers) == 2
    assert not isinstance(build_model(STUDY.replace(model="ann")).layers[0], Rescaling)
    assert build_model(Recipe(model="vgg16")).count_params() == 1_021_882
    assert (build_model(Recipe(model="vgg16", width=0.125)).count_params()
            < build_model(Recipe(model="vgg16")).count_params())
    a, b = build_model(Recipe(model="ann", seed=3)), build_model(Recipe(model="ann", seed=3))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert "width" not in model_options(Recipe(model="cnn"))


def test_prepare_images_per_preprocess():
    """Models hold their preprocessing, so they all take [0, 1] images; models without those
    layers (older files, Keras) get it applied to the images themselves."""
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    scaled = prepare_images(x, "scale")
    for pre in ("scale", "standardize", "deskew", "raw"):
        out = prepare_images(x, pre)
        assert out.shape == (2, 28, 28, 1) and out.dtype == np.float32, pre
        np.testing.assert_array_equal(out, scaled)
        assert input_note(pre).startswith("[0, 1] images")
    assert prepare_images(x, "raw", inside_model=False).max() == 255.0
    np.testing.assert_array_equal(prepare_images(x, "deskew", inside_model=False),
                                  deskew(scaled))
    np.testing.assert_array_equal(prepare_images(x, "standardize", inside_model=False), scaled)
    with pytest.raises(ConfigError, match="preprocess must be one of"):
        prepare_images(x, "whiten")


@pytest.mark.parametrize("pre,first", [("deskew", Deskew), ("raw", Rescaling)])
def test_build_model_puts_deskew_and_raw_inside_the_model(pre, first):
    model = build_model(Recipe(model="ann", preprocess=pre))
    assert isinstance(model.layers[0], first) and holds_preprocessing(model, pre)
    assert model.class_names == [str(i) for i in range(10)]
    plain = build_model(Recipe(model="ann"))
    assert not holds_preprocessing(plain, pre)            # an older file trained on it
    assert holds_preprocessing(plain, "scale") and holds_preprocessing(plain, "standardize")
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    outside = prepare_images(x, pre, inside_model=False)
    # the layer computes what the data preprocessing computed (raw: x/255*255 ~ x)
    np.testing.assert_allclose(model.layers[0](prepare_images(x, pre)), outside, rtol=1e-6,
                               atol=1e-6 * outside.max())
    fashion = build_model(Recipe(model="ann", dataset="fashion-mnist"))
    assert fashion.class_names[0] == "T-shirt"


def test_title_names_the_recipe():
    assert title(TUNED["cnn"]) == ("cnn on mnist: Adam lr 0.001 (cosine), batch 32, preprocess "
                                   "standardize, augment affine, seed 0")


def test_history_is_written_as_json_and_csv(tmp_path):
    history = {"loss": [1.0, 0.5], "acc": [0.5, 0.75], "seconds": [1.25, 1.0]}
    write_history(str(tmp_path), history)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert (tmp_path / "history.csv").read_text().splitlines() == [
        "epoch,loss,acc,seconds", "1,1,0.5,1.25", "2,0.5,0.75,1"]


# -- the Keras side reads the same recipe -------------------------------------------------------
def test_the_keras_baseline_has_no_recipe_constants_of_its_own():
    import baselines.train as kt
    for name in ("COSINE_ALPHA", "SEED_PROTOCOL", "TUNED_PROTOCOLS"):
        assert not hasattr(kt, name), name
    assert kt.TUNED is TUNED and kt.learning_rate is learning_rate


@pytest.mark.parametrize("recipe", [TUNED["cnn"], Recipe(schedule="step", epochs=3), STUDY])
def test_keras_and_nnlite_use_the_same_learning_rate_at_every_step(recipe):
    pytest.importorskip("keras", reason="needs Keras 3 (nnlite[keras])")
    from baselines.train import keras_learning_rate
    spe = steps_per_epoch(600, recipe)
    ours, theirs = learning_rate(recipe, spe), keras_learning_rate(recipe, spe)
    if not callable(ours):
        assert theirs == ours
        return
    for step in (0, 1, spe - 1, spe, 2 * spe + 3, recipe.epochs * spe, recipe.epochs * spe + 9):
        assert float(theirs(step)) == pytest.approx(ours(step), rel=1e-6), step


# -- the command line ---------------------------------------------------------------------------
def test_train_help_lists_the_recipe_flags(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--lr", "--schedule", "--augment", "--preprocess",
                 "--seed", "--dataset", "--validation-split", "--limit", "--width", "--dropout",
                 "--resume"):
        assert flag in out


def test_cli_train_stores_the_recipe_and_resume_refuses_a_corrupt_one(mnist, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["train", "ann", "--epochs", "1", "--limit", "600", "--lr", "1e-3", "--schedule",
                "cosine", "--quiet", "--out", str(out)]) == 0
    stored = json.loads((out / "run.json").read_text())
    assert stored["config"] == Recipe(model="ann", epochs=1, limit=600, lr=1e-3,
                                      schedule="cosine").to_dict()
    for f in ("model.npz", "history.csv", "history.json", "curves.png", "checkpoint.npz"):
        assert (out / f).is_file(), f
    assert cli(["train", "ann", "--out", str(out), "--resume", "--quiet"]) == 0
    capsys.readouterr()
    stored["config"]["epochs"] = "one"
    (out / "run.json").write_text(json.dumps(stored))
    assert cli(["train", "ann", "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "run.json: not a run.json written by nnlite train" in err
    assert "epochs must be a positive integer" in err and "Traceback" not in err
