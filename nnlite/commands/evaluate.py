"""``nnlite evaluate MODEL_FILE``: score a model on a test set or on a folder of drawn digits.

Prints the loss (including L2 terms, as Keras), the accuracy and a per-class precision /
recall / F1 table (laid out as scikit-learn's ``classification_report``), and writes
``metrics.json``, ``confusion.png`` and ``mistakes.png`` (the most confidently wrong images,
titled true->predicted (probability)) into a new folder ``runs/eval-MODEL-SOURCE-TIME``, or into
``--out DIR`` (which must be new or empty, unless ``--overwrite``). Nothing is written beside
the model file, and no evaluation overwrites another.

``--images DIR`` scores a folder of user-drawn digits instead of the test set. Format (the
drawing app saves exactly this):
    DIR/<label>_<anything>.png   e.g. 7_20261125-031501_0.png
    - <label> is the true digit 0-9, the first character of the file name, followed by "_";
    - the image is 28x28, 8-bit grayscale (mode "L"; RGB/RGBA are converted to gray),
      WHITE digit on BLACK background, i.e. already MNIST-style (see
      nnlite.preprocess.drawing.drawing_to_mnist); pixel values 0-255 are divided by 255.
    Other files are ignored; a .png that breaks these rules is an error naming the file.

Model files take [0, 1] images and carry their preprocessing (Deskew, Rescaling layers) and
class names. For older files trained on deskewed or 0-255 images, the preprocessing follows
``run.json`` beside the model file if there is one, else ``--preprocess``.
"""
import argparse
import json
import os
import re
import sys
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..activations import softmax
from ..datasets import CLASS_NAMES, load
from ..errors import InputError
from ..files import fresh_folder, read_at_most, write_json
from ..loading import load_model
from ..plots import plot_confusion, plot_gallery
from ..recipe import holds_preprocessing, prepare_images
from .arguments import non_negative_int
from .common import prepare_out

LABELLED_PNG = re.compile(r"^([0-9])_.*\.png$", re.IGNORECASE)


def register(sub):
    p = sub.add_parser("evaluate", help="test loss/accuracy, per-class report, confusion matrix",
                       description=__doc__.split("\n\n", 1)[1],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_file", metavar="MODEL_FILE", help="a model .npz written by nnlite")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist",
                   help="test set to score (default mnist)")
    p.add_argument("--images", metavar="DIR", help="score a folder of <label>_*.png drawings "
                   "instead of the test set (format above)")
    p.add_argument("--preprocess", choices=["auto", "scale", "deskew", "raw"], default="auto",
                   help="input preprocessing (default auto: run.json beside the model, else "
                        "scale)")
    p.add_argument("--out", metavar="DIR", help="folder for metrics.json and the PNGs (default: "
                   "a new folder runs/eval-MODEL-SOURCE-TIME)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into an --out folder that already holds files")
    p.add_argument("--gallery", type=non_negative_int, default=32,
                   help="mistakes shown (default 32; 0: none)")
    p.set_defaults(func=_main)


def _main(args):
    existed = bool(args.out) and os.path.isdir(args.out)
    out = (prepare_out(args.out, "--out", overwrite=args.overwrite) if args.out else
           fresh_folder("runs", f"eval-{_stem(args.model_file)}-"
                                f"{'images' if args.images else args.dataset}"))
    try:
        _evaluate(args, out)
    except BaseException:
        if not existed and not os.listdir(out):
            os.rmdir(out)                  # a failed evaluation leaves no empty folder behind
        raise


def _stem(model_file):
    """A folder-name-safe name for a model file: models/cnn.npz -> cnn; runs/x/model.npz -> x."""
    path = os.path.abspath(model_file)
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem == "model":
        stem = os.path.basename(os.path.dirname(path)) or stem
    return re.sub(r"[^\w.-]+", "_", stem)[:60] or "model"


def _evaluate(args, out):
    model = load_model(args.model_file)
    model.compile()
    preprocess = _preprocess_choice(args.model_file, args.preprocess)
    if args.images:
        x_uint8, y, names = read_labelled_pngs(args.images)
        source = f"{len(y)} drawings in {args.images}"
    else:
        _, (x_uint8, y) = load(args.dataset)
        source = f"{args.dataset} test set ({len(y)} images)"
    if len(y) == 0:
        raise InputError(f"--images: no <label>_*.png files found in {args.images}")
    x = prepare_images(x_uint8, preprocess, inside_model=holds_preprocessing(model, preprocess))
    class_names = model.class_names or CLASS_NAMES[args.dataset if not args.images else "mnist"]
    metrics = evaluate_arrays(model, x, y, out, class_names, gallery=args.gallery)
    print(f"{os.path.basename(args.model_file)} on {source} (preprocess: {preprocess})")
    print(f"test loss {metrics['loss']:.4f}   test accuracy {metrics['accuracy']:.4f} "
          f"({metrics['accuracy'] * 100:.2f} %, {metrics['errors']} errors)")
    print(metrics["report_text"])
    print(f"wrote {out}/metrics.json, confusion.png"
          + (", mistakes.png" if args.gallery else ""), file=sys.stderr)


def _preprocess_choice(model_file, choice):
    if choice != "auto":
        return choice
    run = os.path.join(os.path.dirname(os.path.abspath(model_file)), "run.json")
    if os.path.isfile(run):
        try:
            with open(run, "rb") as fh:          # a run.json is small: 1 MB at most is read
                pre = json.loads(read_at_most(fh, 1 << 20))["config"]["preprocess"]
            return "scale" if pre == "standardize" else pre
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            pass                                 # not nnlite's run.json: the default
    return "scale"


def evaluate_arrays(model, x, y, out=None, class_names=None, gallery=32):
    """Score a compiled model on prepared images x (N, 28, 28, 1) and labels y (N,).

    Returns a dict (loss, accuracy, errors, per_class, confusion, report_text, predictions
    (N,) int array); with ``out`` also writes metrics.json, confusion.png and (gallery > 0)
    mistakes.png there."""
    y = np.asarray(y, dtype=np.int64)
    logits = model.predict(x)
    probs = softmax(logits.astype(np.float64))
    pred = probs.argmax(1)
    names = _output_names(class_names, probs.shape[1], int(y.max(initial=0)) + 1)
    # the same numbers as model.evaluate (mean cross-entropy + L2 terms), without a 2nd pass
    loss = float(model.loss.forward(logits, y)) + float(model.regularization_loss())
    acc = float(np.mean(pred == y))
    cm = confusion_matrix(y, pred, probs.shape[1])
    report, text = classification_report(cm, names)
    wrong = np.flatnonzero(pred != y)
    worst = wrong[np.argsort(-probs[wrong, pred[wrong]])][:gallery]
    metrics = {"loss": float(loss), "accuracy": float(acc), "errors": int(len(wrong)),
               "n": int(len(y)),
               "per_class": {n: report[n] for n in names},
               "confusion": cm.tolist(), "report_text": text,
               "most_confident_mistakes": [{"index": int(i), "true": int(y[i]),
                                            "pred": int(pred[i]),
                                            "prob": float(probs[i, pred[i]])} for i in worst]}
    predictions = pred
    if out:
        os.makedirs(out, exist_ok=True)
        write_json(os.path.join(out, "metrics.json"), metrics)
        plot_confusion(cm, os.path.join(out, "confusion.png"), names,
                       title=f"confusion matrix: accuracy {acc * 100:.2f} % on {len(y)} images")
        if gallery:
            shown = x[worst]
            if shown.size and (shown.max() > 1.5):      # raw 0-255 inputs: show on [0, 1]
                shown = shown / 255.0
            plot_gallery(shown, y[worst], pred[worst], probs[worst, pred[worst]],
                         os.path.join(out, "mistakes.png"), names)
    return dict(metrics, predictions=predictions)     # predictions (N,) are not in the JSON


def _output_names(class_names, n_outputs, n_labels):
    """One name per model output: the dataset's class names, then "output <i>" for outputs
    beyond them (a model may have extra classes, e.g. "not a digit")."""
    if n_labels > n_outputs:
        raise InputError(f"the model has {n_outputs} outputs but the labels go up to "
                         f"{n_labels - 1}: it was not trained for this dataset")
    names = list(class_names or [])[:n_outputs]
    return names + [f"output {i}" for i in range(len(names), n_outputs)]


def confusion_matrix(y, pred, n_classes):
    """(K, K) int64 counts: row = true class, column = predicted class (labels outside 0..K-1
    are left out)."""
    keep = (y >= 0) & (y < n_classes) & (pred >= 0) & (pred < n_classes)
    counts = np.bincount(y[keep] * n_classes + pred[keep], minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def classification_report(cm, names, digits=4):
    """Per-class precision, recall, F1 and support from a confusion matrix, plus accuracy and
    the macro and support-weighted averages -> (dict name -> {precision, recall, f1-score,
    support}, the same as a text table). A ratio with a zero denominator is 0."""
    cm = np.asarray(cm, dtype=np.float64)
    tp, support, predicted = np.diag(cm), cm.sum(1), cm.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / (precision + recall), 0.0)
    total = support.sum()
    rows = {n: {"precision": p, "recall": r, "f1-score": f, "support": s}
            for n, p, r, f, s in zip(names, precision, recall, f1, support)}
    rows["macro avg"] = {"precision": precision.mean(), "recall": recall.mean(),
                         "f1-score": f1.mean(), "support": total}
    weights = support / total if total else np.zeros_like(support)
    rows["weighted avg"] = {"precision": precision @ weights, "recall": recall @ weights,
                            "f1-score": f1 @ weights, "support": total}
    report = {n: {k: float(v) for k, v in r.items()} for n, r in rows.items()}
    accuracy = tp.sum() / total if total else 0.0
    width = max(len("weighted avg"), digits, *(len(n) for n in names))
    line = "{:>%ds}  {:>9.%df} {:>9.%df} {:>9.%df} {:>9d}" % (width, digits, digits, digits)
    text = [f"{'':>{width}s}  {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}", ""]
    text += [line.format(n, r["precision"], r["recall"], r["f1-score"], int(r["support"]))
             for n, r in rows.items() if n not in ("macro avg", "weighted avg")]
    text += ["", f"{'accuracy':>{width}s}  {'':>9} {'':>9} {accuracy:>9.{digits}f} "
                 f"{int(total):>9d}"]
    text += [line.format(n, rows[n]["precision"], rows[n]["recall"], rows[n]["f1-score"],
                         int(total)) for n in ("macro avg", "weighted avg")]
    return report, "\n".join(text) + "\n"


def read_labelled_pngs(folder):
    """-> (uint8 images (N, 28, 28), labels (N,), file names) from DIR/<label>_*.png."""
    if not os.path.isdir(folder):
        raise InputError(f"--images: {folder} is not a folder")
    images, labels, names = [], [], []
    for name in sorted(os.listdir(folder)):
        match = LABELLED_PNG.match(name)
        if not match:
            continue
        path = os.path.join(folder, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as im:
                    if im.size != (28, 28):      # from the header, before decoding anything
                        raise InputError(
                            f"{path}: expected a 28x28 image, got {im.size[0]}x{im.size[1]} "
                            "(save drawings with nnlite.preprocess.drawing_to_mnist)")
                    arr = np.asarray(im.convert("L"), dtype=np.uint8)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputError(f"{path}: refused, its header claims a huge image ({exc})") from None
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{path}: not a readable PNG ({exc})") from None
        images.append(arr)
        labels.append(int(match.group(1)))
        names.append(name)
    if not images:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), []
    return np.stack(images), np.array(labels, np.int64), names
