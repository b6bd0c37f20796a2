"""``nnlite evaluate MODEL_FILE``: score a model on a test set or on a folder of drawn digits.

Prints the loss (including L2 terms, as Keras), the accuracy and a per-class precision /
recall / F1 table (scikit-learn), and writes into ``--out`` (default: ``eval-DATASET`` beside
the model file): ``metrics.json``, ``confusion.png`` and ``mistakes.png`` (the most confidently
wrong images, titled true->predicted (probability)).

``--images DIR`` scores a folder of user-drawn digits instead of the test set. Format (the
drawing app saves exactly this):
    DIR/<label>_<anything>.png   e.g. 7_20261125-031501_0.png
    - <label> is the true digit 0-9, the first character of the file name, followed by "_";
    - the image is 28x28, 8-bit grayscale (mode "L"; RGB/RGBA are converted to gray),
      WHITE digit on BLACK background, i.e. already MNIST-style (see
      nnlite.preprocess.drawing.drawing_to_mnist); pixel values 0-255 are divided by 255.
    Other files are ignored; a .png that breaks these rules is an error naming the file.

Input preprocessing follows ``run.json`` beside the model file if there is one (written by
``nnlite train``), else ``--preprocess`` (default ``scale``: pixels / 255).
"""
import json
import os
import re
import sys

LABELLED_PNG = re.compile(r"^([0-9])_.*\.png$", re.IGNORECASE)


def register(sub):
    p = sub.add_parser("evaluate", help="test loss/accuracy, per-class report, confusion matrix",
                       description=__doc__.split("\n\n", 1)[1],
                       formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("model_file", metavar="MODEL_FILE", help="a model .npz written by nnlite")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist",
                   help="test set to score (default mnist)")
    p.add_argument("--images", metavar="DIR", help="score a folder of <label>_*.png drawings "
                   "instead of the test set (format above)")
    p.add_argument("--preprocess", choices=["auto", "scale", "deskew", "raw"], default="auto",
                   help="input preprocessing (default auto: run.json beside the model, else "
                        "scale)")
    p.add_argument("--out", help="folder for metrics.json and the PNGs")
    p.add_argument("--gallery", type=int, default=32, help="mistakes shown (default 32)")
    p.set_defaults(func=_main)


def _main(args):
    from ..errors import InputError
    from ..saving import load_model
    model = load_model(args.model_file)
    model.compile()
    preprocess = _preprocess_choice(args.model_file, args.preprocess)
    if args.images:
        x_uint8, y, names = read_labelled_pngs(args.images)
        source = f"{len(y)} drawings in {args.images}"
        default_out = "eval-images"
    else:
        from ..datasets import load
        _, (x_uint8, y) = load(args.dataset)
        source = f"{args.dataset} test set ({len(y)} images)"
        default_out = f"eval-{args.dataset}"
    if len(y) == 0:
        raise InputError(f"{args.images}: no <label>_*.png files found")
    from .train import prepare_images
    x = prepare_images(x_uint8, preprocess)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.model_file)),
                                   default_out)
    class_names = _class_names(args.dataset if not args.images else "mnist")
    metrics = evaluate_arrays(model, x, y, out, class_names, gallery=args.gallery)
    print(f"{os.path.basename(args.model_file)} on {source} (preprocess: {preprocess})")
    print(f"test loss {metrics['loss']:.4f}   test accuracy {metrics['accuracy']:.4f} "
          f"({metrics['accuracy'] * 100:.2f} %, {metrics['errors']} errors)")
    print(metrics["report_text"])
    print(f"wrote {out}/metrics.json, confusion.png, mistakes.png", file=sys.stderr)


def _preprocess_choice(model_file, choice):
    if choice != "auto":
        return choice
    run = os.path.join(os.path.dirname(os.path.abspath(model_file)), "run.json")
    if os.path.isfile(run):
        try:
            with open(run) as fh:
                pre = json.load(fh)["config"]["preprocess"]
            return "scale" if pre == "standardize" else pre
        except (ValueError, KeyError, TypeError):
            pass
    return "scale"


def _class_names(dataset):
    if dataset == "fashion-mnist":
        return ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                "Bag", "Boot"]
    return [str(i) for i in range(10)]


def evaluate_arrays(model, x, y, out=None, class_names=None, gallery=32):
    """Score a compiled model on prepared images x (N, 28, 28, 1) and labels y (N,).

    Returns a dict (loss, accuracy, errors, per_class, confusion, report_text, predictions
    (N,) int array); with ``out``
    also writes metrics.json, confusion.png and mistakes.png there."""
    import numpy as np
    from sklearn.metrics import classification_report, confusion_matrix
    from ..activations import softmax
    y = np.asarray(y, dtype=np.int64)
    logits = model.predict(x)
    probs = softmax(logits.astype(np.float64))
    pred = probs.argmax(1)
    # the same numbers as model.evaluate (mean cross-entropy + L2 terms), without a 2nd pass
    loss = float(model.loss.forward(logits, y)) + float(model.regularization_loss())
    acc = float(np.mean(pred == y))
    labels = list(range(probs.shape[1]))
    names = class_names or [str(i) for i in labels]
    report = classification_report(y, pred, labels=labels, target_names=names, digits=4,
                                   output_dict=True, zero_division=0)
    text = classification_report(y, pred, labels=labels, target_names=names, digits=4,
                                 zero_division=0)
    cm = confusion_matrix(y, pred, labels=labels)
    wrong = np.flatnonzero(pred != y)
    worst = wrong[np.argsort(-probs[wrong, pred[wrong]])][:gallery]
    metrics = {"loss": float(loss), "accuracy": float(acc), "errors": int(len(wrong)),
               "n": int(len(y)),
               "per_class": {n: {k: float(report[n][k]) for k in ("precision", "recall",
                                                                  "f1-score", "support")}
                             for n in names},
               "confusion": cm.tolist(), "report_text": text,
               "most_confident_mistakes": [{"index": int(i), "true": int(y[i]),
                                            "pred": int(pred[i]),
                                            "prob": float(probs[i, pred[i]])} for i in worst]}
    predictions = pred
    if out:
        from ..plots import plot_confusion, plot_gallery
        from ..saving import atomic_write
        os.makedirs(out, exist_ok=True)
        atomic_write(os.path.join(out, "metrics.json"),
                     lambda fh: fh.write(json.dumps(metrics, indent=1).encode()))
        plot_confusion(cm, os.path.join(out, "confusion.png"), names,
                       title=f"confusion matrix: accuracy {acc * 100:.2f} % on {len(y)} images")
        shown = x[worst]
        if shown.size and (shown.max() > 1.5):      # raw 0-255 inputs: show on [0, 1]
            shown = shown / 255.0
        plot_gallery(shown, y[worst], pred[worst], probs[worst, pred[worst]],
                     os.path.join(out, "mistakes.png"), names)
    return dict(metrics, predictions=predictions)     # predictions (N,) are not in the JSON


def read_labelled_pngs(folder):
    """-> (uint8 images (N, 28, 28), labels (N,), file names) from DIR/<label>_*.png."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError
    from ..errors import InputError
    if not os.path.isdir(folder):
        raise InputError(f"--images: {folder} is not a folder")
    images, labels, names = [], [], []
    for name in sorted(os.listdir(folder)):
        match = LABELLED_PNG.match(name)
        if not match:
            continue
        path = os.path.join(folder, name)
        try:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("L"), dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as exc:
            raise InputError(f"{path}: not a readable PNG ({exc})") from None
        if arr.shape != (28, 28):
            raise InputError(f"{path}: expected a 28x28 image, got {arr.shape[1]}x{arr.shape[0]}"
                             " (save drawings with nnlite.preprocess.drawing_to_mnist)")
        images.append(arr)
        labels.append(int(match.group(1)))
        names.append(name)
    if not images:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), []
    return np.stack(images), np.array(labels, np.int64), names
