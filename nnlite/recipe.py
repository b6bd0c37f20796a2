"""A training recipe: which zoo model, data, preprocessing, optimiser schedule and
augmentation, in one frozen value. ``nnlite train``, the experiments and the Keras baseline all
train from a ``Recipe``, so the study's protocol and the tuned recipes exist once.

    from nnlite.recipe import Recipe, build_model, load_data, make_optimizer, steps_per_epoch
    recipe = Recipe(model="cnn", epochs=6, lr=1e-3, schedule="cosine", augment="affine",
                    preprocess="standardize")
    (x, y), (x_test, y_test) = load_data(recipe)       # (N, 28, 28, 1) float32, int64 labels
    model = build_model(recipe)
    model.compile(make_optimizer(recipe, steps_per_epoch(len(x), recipe)))

``STUDY`` is the study's protocol (Adam 1e-4, batch 32, 5 epochs, pixels / 255);
``TUNED[model]`` the recipe ``experiments/tuned.py`` chose for each model on validation
accuracy (experiments/results/tuned/<model>_choice.json).
"""
import dataclasses
import math
import numbers

import numpy as np

from . import zoo
from .datasets import CLASS_NAMES, load
from .errors import ConfigError
from .layers import Deskew, Rescaling
from .optimizers import Adam
from .preprocess import AUGMENTATIONS, deskew, scale01
from .schedules import CosineDecay, StepDecay
from .validation import non_negative_int, positive_int

MODELS = tuple(zoo.ZOO)
DATASETS = tuple(CLASS_NAMES)
SCHEDULES = ("constant", "cosine", "step")
PREPROCESS = ("scale", "standardize", "deskew", "raw")
COSINE_ALPHA = 0.01     # "cosine": decay over the whole run to 1 % of the rate
STEP_PARTS = 4          # "step": multiply the rate by STEP_FACTOR every quarter of the run
STEP_FACTOR = 0.5

# what the saved model file expects as input, per preprocessing: always [0, 1] images
INPUT_NOTES = {"scale": "[0, 1] images",
               "standardize": "[0, 1] images (standardised inside: a Rescaling layer)",
               "deskew": "[0, 1] images (deskewed inside: a Deskew layer)",
               "raw": "[0, 1] images (scaled to 0-255 inside: a Rescaling layer)"}


def _choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)}, got {value!r}")


def _real(value, name, ok, rule):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or not ok(value)):
        raise ConfigError(f"{name} must be {rule}, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One training run's settings. Defaults: the study's protocol.

    model: zoo name; preprocess: "scale" (pixels / 255), "standardize" (MNIST's mean/std),
    "deskew" (moments), "raw" (0-255 values); all but "scale" are layers inside the model,
    so every model file takes [0, 1] images;
    validation_split: the LAST fraction of the training set (Keras semantics);
    limit: use only the first N training images; width: VGG16 width multiplier;
    dropout: None = the zoo model's default (ann/cnn 0, vgg16 0.5)."""
    model: str = "cnn"
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-4
    schedule: str = "constant"
    augment: str = "none"
    preprocess: str = "scale"
    seed: int = 0
    dataset: str = "mnist"
    validation_split: float = 0.2
    limit: int | None = None
    width: float = 0.25
    dropout: float | None = None

    def __post_init__(self):
        for name, choices in (("model", MODELS), ("schedule", SCHEDULES),
                              ("augment", tuple(AUGMENTATIONS)), ("preprocess", PREPROCESS),
                              ("dataset", DATASETS)):
            _choice(getattr(self, name), name, choices)
        checked = {
            "epochs": positive_int(self.epochs, "epochs"),
            "batch_size": positive_int(self.batch_size, "batch_size"),
            "seed": non_negative_int(self.seed, "seed"),
            "lr": _real(self.lr, "lr", lambda v: v > 0, "a number > 0"),
            "validation_split": _real(self.validation_split, "validation_split",
                                      lambda v: 0 <= v < 1, "a number in [0, 1)"),
            "limit": None if self.limit is None else positive_int(self.limit, "limit"),
            "width": _real(self.width, "width", lambda v: 0 < v <= 4, "a number in (0, 4]"),
            "dropout": None if self.dropout is None else _real(
                self.dropout, "dropout", lambda v: 0 <= v < 1, "None or a number in [0, 1)"),
        }
        for name, value in checked.items():     # numpy / JSON numbers -> plain int, float
            object.__setattr__(self, name, value)

    def replace(self, **changes):
        """A copy with ``changes`` applied (and validated)."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ConfigError(f"unknown recipe field(s) {unknown}; the fields are {list(FIELDS)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """-> a JSON-able dict of every field (what run.json stores)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        """The inverse of ``to_dict``; a dict with unknown or missing fields is refused."""
        if not isinstance(d, dict):
            raise ConfigError(f"a recipe must be a dict with the fields {list(FIELDS)}, got "
                              f"{type(d).__name__}")
        unknown = sorted(str(k) for k in set(d) - set(FIELDS))
        missing = [k for k in FIELDS if k not in d]
        if unknown or missing:
            problems = ([f"unknown field(s) {unknown}"] if unknown else []) + (
                [f"missing field(s) {missing}"] if missing else [])
            raise ConfigError(f"not a recipe: {', '.join(problems)}")
        return cls(**d)


FIELDS = tuple(f.name for f in dataclasses.fields(Recipe))

STUDY = Recipe()
TUNED = {
    "ann": Recipe(model="ann", epochs=60, lr=1e-3, schedule="cosine", augment="affine+elastic",
                  preprocess="standardize", dropout=0.3),
    "cnn": Recipe(model="cnn", epochs=30, lr=1e-3, schedule="cosine", augment="affine",
                  preprocess="standardize", dropout=0.3),
    "vgg16": Recipe(model="vgg16", epochs=20, lr=5e-4, schedule="cosine", augment="affine",
                    preprocess="standardize", dropout=0.3),
    "vgg16_bn": Recipe(model="vgg16_bn", epochs=20, lr=1e-3, schedule="cosine",
                       augment="affine", preprocess="standardize", dropout=0.3),
}


# -- data ---------------------------------------------------------------------------------------
def prepare_images(x_uint8, preprocess="scale", inside_model=True):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1], what every model ``build_model``
    makes takes: its preprocessing is inside it. ``inside_model=False``: for a model WITHOUT
    those layers (files written before they existed, the Keras baselines), apply "deskew" or
    "raw" (0-255) to the images themselves ("standardize" is a layer on both engines)."""
    _choice(preprocess, "preprocess", PREPROCESS)
    if not inside_model and preprocess == "raw":
        return x_uint8[..., None].astype(np.float32)
    x = scale01(x_uint8[..., None])          # one float32 copy, scaled in place
    if inside_model or preprocess in ("scale", "standardize"):
        return x
    return deskew(x)


def load_data(recipe, inside_model=True):
    """-> (x_train, y_train), (x_test, y_test) prepared for ``recipe``: images as
    ``prepare_images`` (``inside_model`` passed on), int64 labels; the training set not yet
    split (``recipe.limit`` applied)."""
    (xtr, ytr), (xte, yte) = load(recipe.dataset)
    if recipe.limit:
        xtr, ytr = xtr[:recipe.limit], ytr[:recipe.limit]
    return ((prepare_images(xtr, recipe.preprocess, inside_model), ytr.astype(np.int64)),
            (prepare_images(xte, recipe.preprocess, inside_model), yte.astype(np.int64)))


def holds_preprocessing(model, preprocess):
    """Does ``model`` apply ``preprocess`` itself (so it takes [0, 1] images)? True for models
    ``build_model`` makes; False for older files trained on deskewed or 0-255 images, whose
    run.json names the preprocessing: feed those ``prepare_images(..., inside_model=False)``."""
    _choice(preprocess, "preprocess", PREPROCESS)
    first = model.layers[0] if model.layers else None
    if preprocess == "deskew":
        return isinstance(first, Deskew)
    if preprocess == "raw":
        return isinstance(first, Rescaling) and (first.scale, first.offset) == (255.0, 0.0)
    return True


def steps_per_epoch(n_images, recipe):
    """Optimizer steps per epoch for ``n_images`` training images before the validation split
    (the split keeps the first floor(n * (1 - validation_split)), as ``fit``)."""
    n_train = int(math.floor(n_images * (1.0 - recipe.validation_split)))
    return -(-n_train // recipe.batch_size)


# -- model and optimiser ------------------------------------------------------------------------
def model_options(recipe):
    """Keyword options for ``zoo.build(recipe.model, ...)``; ``baselines.models.build`` takes
    the same ones, so both engines build the recipe's model alike."""
    options = {"seed": recipe.seed, "standardize": recipe.preprocess == "standardize"}
    if recipe.model in ("vgg16", "vgg16_bn"):
        options["width"] = recipe.width
    if recipe.dropout is not None:
        options["dropout"] = recipe.dropout
    return options


def input_layers(preprocess):
    """The layers that put ``preprocess`` inside a model, before any standardisation:
    [Deskew()] for "deskew", [Rescaling(255)] for "raw" (the same numbers as feeding 0-255)."""
    _choice(preprocess, "preprocess", PREPROCESS)
    return {"deskew": [Deskew()], "raw": [Rescaling(255.0)]}.get(preprocess, [])


def build_model(recipe):
    """The recipe's zoo model (a ``Sequential``, not compiled), with the recipe's preprocessing
    inside (``input_layers``, ``model_options``) and its dataset's class names."""
    model = zoo.build(recipe.model, input_layers=input_layers(recipe.preprocess),
                      **model_options(recipe))
    model.class_names = CLASS_NAMES[recipe.dataset]
    return model


def learning_rate(recipe, steps_per_epoch):
    """Adam's learning rate: ``recipe.lr`` (constant) or a schedule of the optimizer step over
    all ``steps_per_epoch * recipe.epochs`` steps (``CosineDecay`` / ``StepDecay``)."""
    total = max(1, steps_per_epoch * recipe.epochs)
    if recipe.schedule == "cosine":
        return CosineDecay(recipe.lr, total, alpha=COSINE_ALPHA)
    if recipe.schedule == "step":
        return StepDecay(recipe.lr, max(1, total // STEP_PARTS), factor=STEP_FACTOR)
    return recipe.lr


def make_optimizer(recipe, steps_per_epoch):
    """Adam with the recipe's learning rate (see ``learning_rate``)."""
    return Adam(learning_rate(recipe, steps_per_epoch))


# -- text ---------------------------------------------------------------------------------------
def title(recipe):
    """One line naming the run, for plots."""
    return (f"{recipe.model} on {recipe.dataset}: Adam lr {recipe.lr:g} ({recipe.schedule}), "
            f"batch {recipe.batch_size}, preprocess {recipe.preprocess}, augment "
            f"{recipe.augment}, seed {recipe.seed}")


def input_note(preprocess):
    """What a model trained with ``preprocess`` expects as input, in words."""
    _choice(preprocess, "preprocess", PREPROCESS)
    return INPUT_NOTES[preprocess]
