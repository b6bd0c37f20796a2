r"""``nnlite train MODEL``: train a zoo model (ann, cnn, vgg16) on MNIST or Fashion-MNIST.

Writes into ``--out DIR``:
    model.npz        the trained model (pickle-free; input (N, 28, 28, 1), returns logits)
    history.csv/json per epoch: loss, acc, val_loss, val_acc, lr, seconds
    curves.png       loss and accuracy curves
    run.json         the full recipe (so ``--resume`` and ``nnlite evaluate`` can read it)
    checkpoint.npz   resumable checkpoint, updated every epoch and on Ctrl+C

Data: the training set's LAST ``--validation-split`` fraction is the validation set (Keras
semantics: 60,000 -> 48,000 train / 12,000 validation); the test set is never looked at here.

Preprocessing (``--preprocess``): ``scale`` (pixels / 255, the default), ``standardize``
(MNIST's mean/std), ``deskew`` (moments-based), ``raw`` (0-255 values). All but ``scale`` are
layers INSIDE the model (Rescaling, Deskew), so every model file takes [0, 1] images.

Examples:
    nnlite train cnn --out runs/cnn-study                  # the study's protocol (5 epochs)
    nnlite train cnn --epochs 6 --lr 1e-3 --schedule cosine --augment affine \
        --preprocess standardize --out runs/cnn-tuned      # the tuned CNN recipe
    nnlite train cnn --out runs/cnn-tuned --resume         # continue after Ctrl+C

Nothing is overwritten by accident: a --out folder that already holds files is refused, unless
--resume (continue the run it holds) or --overwrite (start again, replacing its files).
"""
import argparse
import json
import os
import sys

from ..callbacks import Callback
from ..errors import ConfigError
from ..files import write_csv, write_json
from ..plots import plot_history
from ..preprocess import AUGMENTATIONS, make_augment
from ..recipe import (DATASETS, FIELDS, MODELS, PREPROCESS, SCHEDULES, STUDY, Recipe,
                      build_model, input_note, load_data, make_optimizer, steps_per_epoch, title)
from ..training import split_validation
from .arguments import fraction, non_negative_int, positive_float, positive_int
from .common import prepare_out


def register(sub):
    p = sub.add_parser(
        "train", help="train ann / cnn / vgg16 and write model, history, curves",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=MODELS, help="zoo model to train")
    p.add_argument("--epochs", type=positive_int, default=STUDY.epochs,
                   help=f"number of epochs (default {STUDY.epochs})")
    p.add_argument("--batch-size", type=positive_int, default=STUDY.batch_size,
                   help=f"batch size (default {STUDY.batch_size})")
    p.add_argument("--lr", type=positive_float, default=STUDY.lr,
                   help=f"Adam learning rate (default {STUDY.lr:g}, the study's)")
    p.add_argument("--schedule", choices=SCHEDULES, default=STUDY.schedule,
                   help="learning-rate schedule over all steps: cosine (to 1%% of lr), step "
                        "(halve every 1/4 of the run), constant (default)")
    p.add_argument("--augment", choices=sorted(AUGMENTATIONS), default=STUDY.augment,
                   help="on-the-fly augmentation of training batches (default none)")
    p.add_argument("--preprocess", choices=PREPROCESS, default=STUDY.preprocess,
                   help="input preprocessing, see above (default scale)")
    p.add_argument("--seed", type=non_negative_int, default=STUDY.seed,
                   help="seed for weights, shuffling, dropout, augmentation (default 0)")
    p.add_argument("--dataset", choices=DATASETS, default=STUDY.dataset)
    p.add_argument("--validation-split", type=fraction, default=STUDY.validation_split,
                   help="last fraction of the training set held out (default 0.2)")
    p.add_argument("--limit", type=positive_int, default=STUDY.limit,
                   help="use only the first N training images (quick runs, tests)")
    p.add_argument("--width", type=positive_float, default=STUDY.width,
                   help="vgg16 width multiplier (default 0.25; 1.0 is the full VGG16)")
    p.add_argument("--dropout", type=fraction, default=STUDY.dropout,
                   help="dropout rate (ann/cnn: before the last Dense, default 0; vgg16: "
                        "default 0.5)")
    p.add_argument("--out", default=None, help="output folder (default runs/MODEL-seedSEED)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its checkpoint.npz (its run.json "
                            "recipe is used; other options are ignored)")
    again.add_argument("--overwrite", action="store_true",
                       help="start again in an --out folder that already holds a run, "
                            "replacing its files")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_main)


def _main(args):
    out = args.out or os.path.join("runs", f"{args.model}-seed{args.seed}")
    if args.resume:
        recipe = read_run_recipe(out)
        print(f"resuming {recipe.model} in {out} (recipe from run.json)", file=sys.stderr)
    else:
        recipe = Recipe(**{field: getattr(args, field) for field in FIELDS})
        check_new_run(out, args.overwrite)
    try:
        result = run(recipe, out, resume=args.resume, verbose=0 if args.quiet else 1)
    except KeyboardInterrupt:
        if os.path.isfile(os.path.join(out, "checkpoint.npz")):
            print(f"to continue: nnlite train {recipe.model} --out {out} --resume",
                  file=sys.stderr)
        raise
    h = result["history"]
    print(f"{recipe.model}: {len(h['loss'])} epochs, train acc {h['acc'][-1]:.4f}"
          + (f", val acc {h['val_acc'][-1]:.4f}" if h.get("val_acc") else "")
          + f", {sum(h['seconds']):.0f} s; wrote {out}/model.npz, history.csv, curves.png")


# the files ``run`` writes into --out; --overwrite removes these (and nothing else) first
RUN_FILES = ("model.npz", "checkpoint.npz", "run.json", "history.csv", "history.json",
             "curves.png")
MAX_RUN_JSON_BYTES = 1 << 20


def check_new_run(out, overwrite=False):
    """Refuse to start a new run in a folder that holds files, saying what to add: --resume
    for an interrupted run, --overwrite to start again. With ``overwrite``, remove the previous
    run's files. Then create ``out`` and check it is writable, before any data is loaded."""
    interrupted = (os.path.isfile(os.path.join(out, "checkpoint.npz"))
                   and not os.path.isfile(os.path.join(out, "model.npz")))
    if interrupted and not overwrite:
        raise ConfigError(f"--out: {out} holds an interrupted run (checkpoint.npz, no model.npz "
                          "yet): add --resume to continue it, or --overwrite to start again")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise ConfigError(f"--out: {out} already holds files ({', '.join(_listing(out))}): add "
                          "--overwrite to replace them, --resume to continue the run, or choose "
                          "another --out")
    if overwrite and os.path.isdir(out):
        for name in RUN_FILES:
            path = os.path.join(out, name)
            if os.path.isfile(path) or os.path.islink(path):
                os.unlink(path)
    prepare_out(out, "--out", overwrite=True)


def _listing(folder, most=4):
    names = sorted(os.listdir(folder))
    return names[:most] + ([f"{len(names) - most} more"] if len(names) > most else [])


def read_run_recipe(out):
    """The ``Recipe`` stored in ``out/run.json`` by ``run`` (for ``--resume``)."""
    path = os.path.join(out, "run.json")
    if not os.path.isfile(os.path.join(out, "checkpoint.npz")) or not os.path.isfile(path):
        raise ConfigError(f"--resume: {out} has no checkpoint.npz and run.json to resume from")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RUN_JSON_BYTES + 1)
        if len(raw) > MAX_RUN_JSON_BYTES:
            raise ValueError(f"over {MAX_RUN_JSON_BYTES} bytes")
        stored = json.loads(raw.decode("utf-8"))
        return Recipe.from_dict(stored["config"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # ConfigError: ValueError
        raise ConfigError(f"--resume: {path}: not a run.json written by nnlite train "
                          f"({type(exc).__name__}: {exc}); start again with --overwrite") from None


def run(recipe, out, resume=False, verbose=1, data=None, weights_dir=None, callbacks=()):
    """Train ``recipe`` and write model.npz, history.csv/json, curves.png, run.json in ``out``.

    data: ((x_train, y_train), (x_test, y_test)) as ``load_data(recipe)`` returns; skips
    loading. weights_dir: put model.npz and checkpoint.npz there instead (experiments keep
    large files out of the results folder). callbacks: more ``Callback`` objects for ``fit``
    (the experiments time each epoch's CPU). Returns {"model", "history", "recipe"}."""
    weights_dir = weights_dir or out
    for folder in (out, weights_dir):
        os.makedirs(folder, exist_ok=True)
    (xtr, ytr), _ = data if data is not None else load_data(recipe)
    (x, y), (xv, yv) = split_validation(xtr, ytr, recipe.validation_split) \
        if recipe.validation_split else ((xtr, ytr), (None, None))
    model = build_model(recipe)
    model.compile(make_optimizer(recipe, steps_per_epoch(len(xtr), recipe)))
    write_json(os.path.join(out, "run.json"), {
        "config": recipe.to_dict(), "input": input_note(recipe.preprocess),
        "params": model.count_params()})
    ckpt = os.path.join(weights_dir, "checkpoint.npz")
    model.fit(x, y, batch_size=recipe.batch_size, epochs=recipe.epochs,
              validation_data=(xv, yv) if xv is not None else None,
              callbacks=[HistoryFiles(out), *callbacks], verbose=verbose, checkpoint_path=ckpt,
              resume=ckpt if resume else None, batch_transform=make_augment(recipe.augment))
    model.save(os.path.join(weights_dir, "model.npz"))
    history = history_rows(model.history.history)
    write_history(out, history)
    plot_history(history, os.path.join(out, "curves.png"), title=title(recipe))
    return {"model": model, "history": history, "recipe": recipe}


# fit's history keys -> the short names of history.csv/json and plot_history
HISTORY_KEYS = {"loss": "loss", "accuracy": "acc", "val_loss": "val_loss",
                "val_accuracy": "val_acc", "lr": "lr", "seconds": "seconds"}


def history_rows(fit_history):
    """``model.history.history`` -> {short name: [float per epoch]}."""
    return {short: [float(v) for v in fit_history[key]]
            for key, short in HISTORY_KEYS.items() if key in fit_history}


def write_history(out, history):
    """Write ``history`` ({name: [value per epoch]}) as out/history.json and out/history.csv
    (one row per epoch, numbers to 6 significant digits), each atomically."""
    write_json(os.path.join(out, "history.json"), history)
    rows = [{"epoch": i + 1, **{k: f"{v[i]:.6g}" for k, v in history.items()}}
            for i in range(len(history["loss"]))]
    write_csv(os.path.join(out, "history.csv"), rows, fieldnames=["epoch", *history])


class HistoryFiles(Callback):
    """Rewrite history.csv/json after every epoch, so a killed run keeps its curve so far."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_epoch_end(self, epoch, logs=None):
        write_history(self.out, history_rows(self.model.history.history))
