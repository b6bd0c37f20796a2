"""Train a Keras baseline from an ``nnlite.recipe.Recipe``: the same recipe object, read field
by field, that ``nnlite train`` and the experiments train from.

What the Keras side takes from the recipe:
- the model: ``baselines.models.build(recipe.model, **nnlite.recipe.model_options(recipe))``,
  the same keywords as ``nnlite.zoo`` (seed, the standardise layer, width, dropout);
- the learning rate: ``nnlite.recipe.learning_rate`` translated to Keras' schedule with the
  same parameters (cosine: ``CosineDecay`` to ``COSINE_ALPHA`` of the rate; step:
  ``ExponentialDecay(staircase=True)``), so both engines use the same rate at every step;
- batch size, epochs, ``validation_split`` (the LAST fraction, Keras semantics), seed, and the
  augmentation, computed by nnlite's ``Augment`` for both engines.

Recipes: ``nnlite.recipe.STUDY`` (the seed protocol: Adam 1e-4, batch 32, 5 epochs) and
``nnlite.recipe.TUNED[model]`` (chosen by ``experiments/tuned.py`` on validation accuracy).

Data: ``mnist_arrays`` is the pipeline both engines share in ``experiments/parity.py``: MNIST
from nnlite's verified IDX reader, pixels / 255 as float32 (N, 28, 28, 1), int64 labels; the
command line below uses ``nnlite.recipe.load_data(recipe, inside_model=False)``: the Keras models
have no Deskew or 0-255 Rescaling layer, so that preprocessing is applied to the images.

    python -m baselines.train cnn --seed 0 --out results/keras_cnn_s0.json
    python -m baselines.train cnn --tuned --out results/keras_cnn_tuned_s0.json
"""
import argparse
import os
import time

import numpy as np

from nnlite.files import write_json
from nnlite.preprocess import make_augment
from nnlite.recipe import (STUDY, TUNED, learning_rate, load_data, model_options,
                           steps_per_epoch)
from nnlite.schedules import CosineDecay, StepDecay
from nnlite.training import split_validation


def keras_learning_rate(recipe, steps_per_epoch):
    """``nnlite.recipe.learning_rate(recipe, steps_per_epoch)`` as a Keras rate or schedule."""
    import keras
    rate = learning_rate(recipe, steps_per_epoch)
    if isinstance(rate, CosineDecay):
        return keras.optimizers.schedules.CosineDecay(rate.initial, rate.decay_steps,
                                                      alpha=rate.alpha)
    if isinstance(rate, StepDecay):
        return keras.optimizers.schedules.ExponentialDecay(rate.initial, rate.every,
                                                           rate.factor, staircase=True)
    return rate


def mnist_arrays(loader=None):
    """((x_train, y_train), (x_test, y_test)): float32 (N, 28, 28, 1) in [0, 1], int64 labels."""
    from nnlite.datasets import load_mnist
    (xtr, ytr), (xte, yte) = (loader or load_mnist)()

    def prep(x, y):
        return (x.reshape(-1, 28, 28, 1).astype(np.float32) / np.float32(255.0),
                y.astype(np.int64))
    return prep(xtr, ytr), prep(xte, yte)


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall-clock and CPU seconds (this process, all threads) of each epoch (training +
        validation, as nnlite's history)."""

        def on_train_begin(self, logs=None):
            self.seconds, self.cpu_seconds = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._t0, self._c0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._t0)
            self.cpu_seconds.append(time.process_time() - self._c0)
    return EpochTimer()


def _augmented_batches(x, y, batch_size, augment, seed):
    """A Keras PyDataset: shuffled batches of (x, y), every batch passed through nnlite's
    ``augment(xb, rng)`` (the same transform nnlite's ``fit(batch_transform=...)`` applies)."""
    import keras

    class AugmentedBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.order_rng = np.random.default_rng(seed)
            self.augment_rng = np.random.default_rng(seed + 1)
            self.on_epoch_end()

        def __len__(self):
            return -(-len(x) // batch_size)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            return augment(x[idx], self.augment_rng), y[idx]

        def on_epoch_end(self):
            self.order = self.order_rng.permutation(len(x))
    return AugmentedBatches()


def train_keras(recipe, data, verbose=0):
    """Build ``recipe``'s model in Keras and train it on ``data`` = ((x_train, y_train),
    (x_test, y_test)) (training set not yet split); returns (model, record)."""
    import keras

    from .models import build, compile_model
    (xtr, ytr), (xte, yte) = data
    model = compile_model(build(recipe.model, **model_options(recipe)),
                          keras_learning_rate(recipe, steps_per_epoch(len(xtr), recipe)))
    keras.utils.set_random_seed(recipe.seed)    # also fixes the shuffling and dropout masks
    timer = _epoch_timer()
    augment = make_augment(recipe.augment)
    if augment is None:
        hist = model.fit(xtr, ytr, batch_size=recipe.batch_size, epochs=recipe.epochs,
                         validation_split=recipe.validation_split, shuffle=True,
                         callbacks=[timer], verbose=verbose)
    else:       # validation = the last fraction, as validation_split (which needs arrays)
        (xt, yt), (xv, yv) = split_validation(xtr, ytr, recipe.validation_split)
        batches = _augmented_batches(xt, yt, recipe.batch_size, augment, recipe.seed)
        hist = model.fit(batches, epochs=recipe.epochs, callbacks=[timer],
                         validation_data=(xv, yv), verbose=verbose)
    test_loss, test_acc = model.evaluate(xte, yte, batch_size=256, verbose=0)
    h = hist.history
    record = {"engine": "keras", "model": recipe.model, "seed": recipe.seed,
              "recipe": recipe.to_dict(), "history": {
                  "loss": h["loss"], "accuracy": h["accuracy"], "val_loss": h["val_loss"],
                  "val_accuracy": h["val_accuracy"], "seconds": timer.seconds,
                  "cpu_seconds": timer.cpu_seconds},
              "test_loss": float(test_loss), "test_accuracy": float(test_acc)}
    return model, record


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a Keras baseline under the study's protocol "
                                            "(nnlite.recipe.STUDY) or a tuned recipe.")
    p.add_argument("model", choices=sorted(TUNED))
    p.add_argument("--tuned", action="store_true",
                   help="the model's tuned recipe (nnlite.recipe.TUNED) instead of the study's")
    p.add_argument("--seed", type=int, default=STUDY.seed)
    p.add_argument("--width", type=float, help=f"VGG16 width (default {STUDY.width})")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--lr", type=float, help="override the recipe's learning rate")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--out", help="write the run's record (history, test accuracy) as JSON here")
    p.add_argument("--save", help="save the trained Keras model here (.keras)")
    args = p.parse_args(argv)
    recipe = TUNED[args.model] if args.tuned else STUDY.replace(model=args.model)
    overrides = {"seed": args.seed, "width": args.width, "epochs": args.epochs, "lr": args.lr,
                 "batch_size": args.batch_size}
    recipe = recipe.replace(**{k: v for k, v in overrides.items() if v is not None})
    model, record = train_keras(recipe, load_data(recipe, inside_model=False), verbose=1)
    print(f"{recipe.model} seed {recipe.seed}: test accuracy {record['test_accuracy']:.4f}")
    if args.out:
        write_json(os.path.abspath(args.out), record)
    if args.save:
        model.save(args.save)


if __name__ == "__main__":
    main()
