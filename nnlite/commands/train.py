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
(a Rescaling layer INSIDE the model applies MNIST's mean/std, so the file still takes [0, 1]),
``deskew`` (moments-based, applied to the data: the model file then expects deskewed [0, 1]
images), ``raw`` (0-255 floats: the model file expects 0-255). ``nnlite evaluate`` reads the
choice from ``run.json`` beside the model file.

Examples:
    nnlite train cnn --out runs/cnn-study                  # the study's protocol (5 epochs)
    nnlite train cnn --epochs 10 --lr 1e-3 --schedule cosine --augment affine \
        --preprocess standardize --out runs/cnn-tuned      # the tuned CNN recipe
    nnlite train cnn --out runs/cnn-tuned --resume         # continue after Ctrl+C
"""
import json
import os
import sys

from ..callbacks import Callback

PREPROCESS = ("scale", "standardize", "deskew", "raw")
SCHEDULES = ("constant", "cosine", "step")


def register(sub):
    from ..preprocess.transforms import AUGMENTATIONS
    p = sub.add_parser(
        "train", help="train ann / cnn / vgg16 and write model, history, curves",
        description=__doc__.split("\n\n", 1)[1], formatter_class=_formatter())
    p.add_argument("model", choices=["ann", "cnn", "vgg16"], help="zoo model to train")
    p.add_argument("--epochs", type=int, default=5, help="number of epochs (default 5)")
    p.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4, "
                   "the study's)")
    p.add_argument("--schedule", choices=SCHEDULES, default="constant",
                   help="learning-rate schedule over all steps: cosine (to 1%% of lr), step "
                        "(halve every 1/4 of the run), constant (default)")
    p.add_argument("--augment", choices=sorted(AUGMENTATIONS), default="none",
                   help="on-the-fly augmentation of training batches (default none)")
    p.add_argument("--preprocess", choices=PREPROCESS, default="scale",
                   help="input preprocessing, see above (default scale)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout, "
                   "augmentation (default 0)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    p.add_argument("--validation-split", type=float, default=0.2,
                   help="last fraction of the training set held out (default 0.2)")
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N training images (quick runs, tests)")
    p.add_argument("--width", type=float, default=0.25, help="vgg16 width multiplier "
                   "(default 0.25; 1.0 is the full VGG16)")
    p.add_argument("--dropout", type=float, default=None,
                   help="dropout rate (ann/cnn: before the last Dense, default 0; vgg16: "
                        "default 0.5)")
    p.add_argument("--out", default=None, help="output folder (default runs/MODEL-seedSEED)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint.npz (its run.json "
                        "recipe is used; other options are ignored)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_main)


def _formatter():
    import argparse
    return argparse.RawDescriptionHelpFormatter


def _main(args):
    from ..errors import ConfigError
    out = args.out or os.path.join("runs", f"{args.model}-seed{args.seed}")
    if args.resume:
        config = read_run_config(out)
        print(f"resuming {config['model']} in {out} (recipe from run.json)", file=sys.stderr)
    else:
        config = {k: getattr(args, k) for k in (
            "model", "epochs", "batch_size", "lr", "schedule", "augment", "preprocess", "seed",
            "dataset", "validation_split", "limit", "width", "dropout")}
        if config["epochs"] < 1 or config["batch_size"] < 1:
            raise ConfigError("--epochs and --batch-size must be >= 1")
    result = run(config, out, resume=args.resume, verbose=0 if args.quiet else 1)
    h = result["history"]
    print(f"{config['model']}: {len(h['loss'])} epochs, train acc {h['acc'][-1]:.4f}"
          + (f", val acc {h['val_acc'][-1]:.4f}" if h.get("val_acc") else "")
          + f", {sum(h['seconds']):.0f} s; wrote {out}/model.npz, history.csv, curves.png")
    if config["preprocess"] in ("deskew", "raw"):
        print(f"note: this model expects {_input_note(config['preprocess'])}; "
              "`nnlite evaluate` applies it from run.json", file=sys.stderr)


def read_run_config(out):
    from ..errors import ConfigError
    path = os.path.join(out, "run.json")
    if not os.path.isfile(os.path.join(out, "checkpoint.npz")) or not os.path.isfile(path):
        raise ConfigError(f"--resume: {out} has no checkpoint.npz and run.json to resume from")
    with open(path) as fh:
        return json.load(fh)["config"]


def _input_note(preprocess):
    return {"scale": "[0, 1] images", "standardize": "[0, 1] images (standardised inside)",
            "deskew": "DESKEWED [0, 1] images (nnlite.preprocess.deskew)",
            "raw": "RAW 0-255 images"}[preprocess]


# -- the recipe, reusable by experiments --------------------------------------------------------
def prepare_images(x_uint8, preprocess):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) as the recipe's model expects."""
    import numpy as np
    from ..preprocess import deskew, scale01
    x = x_uint8[..., None]
    if preprocess == "raw":
        return x.astype(np.float32)
    x = scale01(x)
    return deskew(x) if preprocess == "deskew" else x


def load_data(config):
    """-> (x_train, y_train), (x_test, y_test) prepared for the recipe (train not yet split)."""
    from ..datasets import load
    (xtr, ytr), (xte, yte) = load(config["dataset"])
    if config.get("limit"):
        xtr, ytr = xtr[:config["limit"]], ytr[:config["limit"]]
    return ((prepare_images(xtr, config["preprocess"]), ytr.astype("int64")),
            (prepare_images(xte, config["preprocess"]), yte.astype("int64")))


def build_model(config):
    from .. import zoo
    kw = {"seed": config["seed"], "standardize": config["preprocess"] == "standardize"}
    if config["model"] == "vgg16":
        kw["width"] = config.get("width", 0.25)
    if config.get("dropout") is not None:
        kw["dropout"] = config["dropout"]
    return zoo.build(config["model"], **kw)


def make_optimizer(config, steps_per_epoch):
    from ..optimizers import Adam
    from ..schedules import CosineDecay, StepDecay
    total = max(1, steps_per_epoch * config["epochs"])
    lr = config["lr"]
    if config["schedule"] == "cosine":
        lr = CosineDecay(lr, total, alpha=0.01)
    elif config["schedule"] == "step":
        lr = StepDecay(lr, max(1, total // 4), factor=0.5)
    return Adam(lr)


def run(config, out, resume=False, verbose=1, data=None, weights_dir=None):
    """Train per ``config`` and write model.npz, history.csv/json, curves.png, run.json in
    ``out``. ``data`` = ((x_train, y_train), (x_test, y_test)) skips loading. ``weights_dir``
    puts model.npz and checkpoint.npz elsewhere (experiments keep large files out of the
    results folder). Returns {"model", "history", "config"}."""
    from ..preprocess import make_augment
    from ..training import split_validation
    weights_dir = weights_dir or out
    for folder in (out, weights_dir):
        os.makedirs(folder, exist_ok=True)
    (xtr, ytr), _ = data if data is not None else load_data(config)
    (x, y), (xv, yv) = split_validation(xtr, ytr, config["validation_split"]) \
        if config["validation_split"] else ((xtr, ytr), (None, None))
    model = build_model(config)
    model.compile(make_optimizer(config, -(-len(x) // config["batch_size"])))
    with open(os.path.join(out, "run.json"), "w") as fh:
        json.dump({"config": config, "input": _input_note(config["preprocess"]),
                   "params": model.count_params()}, fh, indent=1)
    ckpt = os.path.join(weights_dir, "checkpoint.npz")
    writer = _HistoryWriter(out, config)
    model.fit(x, y, batch_size=config["batch_size"], epochs=config["epochs"],
              validation_data=(xv, yv) if xv is not None else None, callbacks=[writer],
              verbose=verbose, checkpoint_path=ckpt, resume=ckpt if resume else None,
              batch_transform=make_augment(config["augment"]))
    model.save(os.path.join(weights_dir, "model.npz"))
    history = writer.rows(model)
    _write_history(out, history)
    from ..plots import plot_history
    plot_history(history, os.path.join(out, "curves.png"), title=_title(config))
    return {"model": model, "history": history, "config": config}


_RENAME = {"loss": "loss", "accuracy": "acc", "val_loss": "val_loss",
           "val_accuracy": "val_acc", "lr": "lr", "seconds": "seconds"}


class _HistoryWriter(Callback):
    """Rewrite history.csv/json after every epoch (so a killed run keeps its curve so far)."""

    def __init__(self, out, config):
        self.out, self.config = out, config

    def rows(self, model):
        h = model.history.history
        return {new: [float(v) for v in h[old]] for old, new in _RENAME.items() if old in h}

    def on_epoch_end(self, epoch, logs=None):
        _write_history(self.out, self.rows(self.model))


def _write_history(out, history):
    import csv
    from ..saving import atomic_write
    keys = list(history)
    n = len(history["loss"])
    atomic_write(os.path.join(out, "history.json"),
                 lambda fh: fh.write(json.dumps(history, indent=1).encode()))
    with open(os.path.join(out, "history.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch"] + keys)
        for i in range(n):
            w.writerow([i + 1] + [f"{history[k][i]:.6g}" for k in keys])


def _title(c):
    return (f"{c['model']} on {c['dataset']}: Adam lr {c['lr']:g} ({c['schedule']}), batch "
            f"{c['batch_size']}, preprocess {c['preprocess']}, augment {c['augment']}, "
            f"seed {c['seed']}")
