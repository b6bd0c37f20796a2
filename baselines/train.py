"""Train a Keras baseline under the study's protocol, with the same data as nnlite's experiments.

Data pipeline (shared with nnlite's side of ``experiments/parity.py``): MNIST from nnlite's
verified IDX reader, pixels / 255 as float32 (N, 28, 28, 1), labels int64; ``fit`` with
``validation_split=0.2`` keeps the LAST 12,000 of the 60,000 training images for validation
(48,000 train), shuffled per epoch; the 10,000 test images are used once, at the end.

Seed protocol: Adam lr 1e-4, batch 32, 5 epochs.
Tuned protocol (``TUNED_PROTOCOLS``): each model's recipe chosen by ``experiments/tuned.py`` on
validation accuracy: Adam with Keras' cosine decay over all steps (to 1 % of the rate), the
standardise layer inside the model, dropout, and random affine (+ elastic for the ANN)
augmentation of every training batch, computed by nnlite's ``Augment`` for both engines so the
two see the same kind of data.

    python -m baselines.train cnn --seed 0 --out results/keras_cnn_s0.json
"""
import argparse
import json
import os
import time

import numpy as np

SEED_PROTOCOL = {"learning_rate": 1e-4, "batch_size": 32, "epochs": 5, "validation_split": 0.2}
# experiments/results/tuned/<model>_choice.json: the chosen recipes
TUNED_PROTOCOLS = {
    "ann": dict(SEED_PROTOCOL, learning_rate=1e-3, epochs=12, schedule="cosine",
                augment="affine+elastic", standardize=True, dropout=0.2),
    "cnn": dict(SEED_PROTOCOL, learning_rate=1e-3, epochs=6, schedule="cosine",
                augment="affine", standardize=True),
    "vgg16": dict(SEED_PROTOCOL, learning_rate=5e-4, epochs=5, schedule="cosine",
                  augment="affine", standardize=True, dropout=0.3),
}
COSINE_ALPHA = 0.01     # as nnlite.commands.train.make_optimizer


def model_options(protocol):
    """The protocol's options for the model builders (both engines take the same keywords)."""
    options = {"standardize": bool(protocol.get("standardize", False))}
    if protocol.get("dropout") is not None:
        options["dropout"] = protocol["dropout"]
    return options


def steps_per_epoch(n_images, protocol):
    n_train = int(np.floor(n_images * (1.0 - protocol["validation_split"])))  # as split_validation
    return -(-n_train // protocol["batch_size"])


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
        """Wall-clock seconds of each epoch (training + validation, as nnlite's history)."""

        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._t0)
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


def train_keras(name, seed, data, model_kwargs=None, protocol=SEED_PROTOCOL, verbose=0):
    """Build the Keras model ``name``, train it under ``protocol``; returns (model, record)."""
    import keras

    from nnlite.preprocess import make_augment
    from .models import build, compile_model
    (xtr, ytr), (xte, yte) = data
    lr = protocol["learning_rate"]
    if protocol.get("schedule", "constant") == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            lr, steps_per_epoch(len(xtr), protocol) * protocol["epochs"], alpha=COSINE_ALPHA)
    model = compile_model(build(name, seed=seed, **model_options(protocol),
                                **(model_kwargs or {})), lr)
    keras.utils.set_random_seed(int(seed))      # also fixes the shuffling and dropout masks
    timer = _epoch_timer()
    augment = make_augment(protocol.get("augment", "none"))
    if augment is None:
        hist = model.fit(xtr, ytr, batch_size=protocol["batch_size"], epochs=protocol["epochs"],
                         validation_split=protocol["validation_split"], shuffle=True,
                         callbacks=[timer], verbose=verbose)
    else:       # validation = the last fraction, as validation_split (which needs arrays)
        from nnlite.training import split_validation
        (xt, yt), (xv, yv) = split_validation(xtr, ytr, protocol["validation_split"])
        batches = _augmented_batches(xt, yt, protocol["batch_size"], augment, int(seed))
        hist = model.fit(batches, epochs=protocol["epochs"], callbacks=[timer],
                         validation_data=(xv, yv), verbose=verbose)
    test_loss, test_acc = model.evaluate(xte, yte, batch_size=256, verbose=0)
    h = hist.history
    record = {"engine": "keras", "model": name, "seed": int(seed), "model_kwargs": model_kwargs or {},
              "protocol": dict(protocol), "history": {
                  "loss": h["loss"], "accuracy": h["accuracy"], "val_loss": h["val_loss"],
                  "val_accuracy": h["val_accuracy"], "seconds": timer.seconds},
              "test_loss": float(test_loss), "test_accuracy": float(test_acc)}
    return model, record


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a Keras baseline (seed protocol: Adam 1e-4, "
                                            "batch 32, 5 epochs, 48k/12k/10k).")
    p.add_argument("model", choices=["ann", "cnn", "vgg16"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=float, default=0.25, help="VGG16 width (default 0.25)")
    p.add_argument("--epochs", type=int, default=SEED_PROTOCOL["epochs"])
    p.add_argument("--lr", type=float, default=SEED_PROTOCOL["learning_rate"])
    p.add_argument("--batch-size", type=int, default=SEED_PROTOCOL["batch_size"])
    p.add_argument("--out", help="write the run's record (history, test accuracy) as JSON here")
    p.add_argument("--save", help="save the trained Keras model here (.keras)")
    args = p.parse_args(argv)
    protocol = dict(SEED_PROTOCOL, epochs=args.epochs, learning_rate=args.lr,
                    batch_size=args.batch_size)
    kwargs = {"width": args.width} if args.model == "vgg16" else {}
    model, record = train_keras(args.model, args.seed, mnist_arrays(), kwargs, protocol,
                                verbose=1)
    print(f"{args.model} seed {args.seed}: test accuracy {record['test_accuracy']:.4f}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(record, fh, indent=1)
    if args.save:
        model.save(args.save)


if __name__ == "__main__":
    main()
