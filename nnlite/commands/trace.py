"""``nnlite trace``: one training step, printed.

    nnlite trace cnn                           a batch of MNIST test digits, layer by layer
    nnlite trace cnn --image my_7.png --label 7   your own digit, the same transcript
    nnlite trace --tiny                        a 2-3-2 network: every value of the step

The image is read with Pillow as grey, inverted when it is dark ink on a light background
(MNIST is white ink on black), and turned into an MNIST-style 28x28 digit by
``nnlite.preprocess.drawing_to_mnist`` (``--mnist-style``: it already is one).
"""
import os
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from .. import datasets
from ..errors import ConfigError, InputError
from ..files import atomic_write, write_json
from ..inspect import format_values, record_step, tiny_model, trace
from ..loading import load_model
from ..optimizers import Adam
from ..preprocess import drawing_to_mnist
from ..zoo import build
from .arguments import int_range, non_negative_int, positive_float

MODELS = ("ann", "cnn", "vgg16")
IMAGE_FORMATS = ("PNG", "JPEG", "BMP")
MAX_IMAGE_BYTES = 64 << 20          # a digit's picture; a larger file is refused unread
MAX_IMAGE_PIXELS = 40_000_000       # width x height, from the header, before decoding
WORKING_SIDE = 1024                 # larger images are shrunk first: 20 px is all MNIST keeps
SHADES = " .:-=+*#%@"               # ink 0 .. 1, for the picture of the 28x28 input


def register(sub):
    p = sub.add_parser(
        "trace", help="run ONE training step and print forward/backward/update, layer by layer",
        description="Run one training step (Adam, sparse cross-entropy) and print a transcript: "
                    "each layer's forward output shape and mean/std/min/max, the loss and "
                    "dL/dlogits, each layer's backward gradient shapes and norms, then the size "
                    "of every parameter's update. The step runs on a batch of MNIST test "
                    "digits, or on your own digit (--image, --label). --tiny instead prints "
                    "EVERY value of one step of a 2-3-2 network, as worked by hand in "
                    "docs/backprop.md.",
        epilog="Examples: `nnlite trace cnn`, `nnlite trace ann --batch-size 8`, "
               "`nnlite trace models/cnn.npz --image my_digit.png --label 7`, "
               "`nnlite trace --tiny`. A model file is never modified.")
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help="ann, cnn or vgg16 (fresh weights), or the path of a saved .npz model")
    p.add_argument("--model-file", metavar="PATH", help="a saved .npz model (as MODEL)")
    p.add_argument("--image", metavar="PATH",
                   help="trace one step on this digit picture (PNG, JPEG or BMP, any size)")
    p.add_argument("--label", type=non_negative_int, metavar="N",
                   help="the digit the image shows (its class index)")
    p.add_argument("--mnist-style", action="store_true",
                   help="the image is already an MNIST-style 28x28 digit: use its pixels as "
                        "they are (still inverted if dark ink on light)")
    p.add_argument("--save-input", metavar="PATH",
                   help="also write the 28x28 input the model sees as a PNG")
    p.add_argument("--tiny", action="store_true",
                   help="trace the 2-3-2 network of docs/backprop.md, every value printed")
    p.add_argument("--digits", type=int_range(2, 17), default=4, metavar="N",
                   help="significant digits of --tiny's numbers (default 4)")
    p.add_argument("--batch-size", type=int_range(1, 10000), metavar="N",
                   help="MNIST test digits in the batch (default 32)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="weights seed for zoo models (default 0)")
    p.add_argument("--learning-rate", type=positive_float,
                   help="Adam learning rate (default 0.001; 0.01 with --tiny)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    p.set_defaults(func=_run)


def _run(args):
    if args.tiny:
        return _run_tiny(args)
    model = _model(args)
    if args.image is not None:
        x, y, notes = _image_batch(args, model)
    else:
        if args.label is not None or args.mnist_style or args.save_input:
            raise ConfigError("--label, --mnist-style and --save-input go with --image PATH")
        x, y, notes = *_test_batch(32 if args.batch_size is None else args.batch_size), None
    model.compile(Adam(1e-3 if args.learning_rate is None else args.learning_rate))
    if notes is not None:
        before = model.predict_proba(x)[0]
        print(f"Before the step: the model reads a {before.argmax()} (p = {before.max():.4f}); "
              f"p[{y[0]}] = {before[y[0]]:.4f}\n")
    result = trace(model, x, y)
    if notes is not None:
        after = model.predict_proba(x)[0]
        print(f"\nAfter the step: p[{y[0]}] = {after[y[0]]:.4f} (was {before[y[0]]:.4f}); "
              f"the model reads a {after.argmax()} (p = {after.max():.4f})")
    if args.json:
        write_json(args.json, {**result.to_dict(), **({"image": notes} if notes else {})})


def _run_tiny(args):
    others = (args.model, args.model_file, args.image, args.label, args.save_input,
              args.batch_size, args.mnist_style or None)
    if any(a is not None for a in others):
        raise ConfigError("--tiny traces its own 2-3-2 network on its own input: give it no "
                          "MODEL, --image, --label or --batch-size")
    model, x, y = tiny_model() if args.learning_rate is None else tiny_model(args.learning_rate)
    values = record_step(model, x, y)
    print(format_values(values, digits=args.digits))
    if args.json:
        write_json(args.json, values.to_dict())


def _model(args):
    """A fresh zoo model (MODEL is ann, cnn or vgg16) or a saved one (a path)."""
    if args.model and args.model_file:
        raise ConfigError("give MODEL or --model-file, not both")
    if args.model in MODELS:
        return build(args.model, seed=args.seed)
    path = args.model_file or args.model
    if path is None:
        raise ConfigError("name a model (ann, cnn, vgg16) or a model file: nnlite trace MODEL")
    if not os.path.exists(path):
        raise ConfigError(f"{path!r} is neither a zoo model ({', '.join(MODELS)}) nor an "
                          "existing model file")
    return load_model(path)


def _test_batch(n):
    """The first n MNIST test digits as ((n, 28, 28, 1) float32 in [0, 1], (n,) labels).

    Reads only the two small test files (checksummed); falls back to load_mnist for its
    error message when they are not found.
    """
    for folder in datasets.candidate_dirs("mnist"):
        files = [datasets._find_file(folder, datasets.FILES[k]) for k in ("x_test", "y_test")]
        if all(files):
            x, y = (datasets.read_idx(f, datasets.SHA256["mnist"][os.path.basename(f).split(".gz")[0]])
                    for f in files)
            break
    else:
        (_, _), (x, y) = datasets.load_mnist()
    return (x[:n, :, :, None] / 255.0).astype("float32"), y[:n]


# -- your own digit ----------------------------------------------------------------------------
def _image_batch(args, model):
    """-> (x (1, *input_shape) float32, y (1,), notes): the image as the model's input."""
    if args.label is None:
        raise ConfigError("--image needs --label N: the digit the image shows")
    classes = model.output_shape[-1]
    if not 0 <= args.label < classes:
        raise InputError(f"--label must be a class of this model, 0..{classes - 1}; "
                         f"got {args.label}")
    if int(np.prod(model.input_shape)) != 28 * 28:
        raise InputError(f"this model takes inputs of shape {model.input_shape}; a digit "
                         "image becomes 28x28 pixels")
    digit, notes = read_digit(args.image, args.mnist_style)
    print("\n".join(notes + [_picture(digit), ""]))
    if args.save_input:
        pixels = np.round(digit * 255).astype(np.uint8)
        atomic_write(args.save_input, lambda fh: Image.fromarray(pixels).save(fh, format="PNG"))
    return digit.reshape((1,) + tuple(model.input_shape)), np.array([args.label]), notes


def read_digit(path, mnist_style=False):
    """-> (float32 (28, 28) in [0, 1], white ink on black; notes: what was done, in words)."""
    grey, notes = _read_grey(path)
    background = int(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))
    if background > 127:
        grey, background = 255 - grey, 255 - background
        notes.append(f"  dark ink on a light background (border median {255 - background} "
                     "of 255): inverted to MNIST's white ink on black")
    if mnist_style:
        if grey.shape != (28, 28):
            raise InputError(f"{path}: --mnist-style needs a 28x28 image, got "
                             f"{grey.shape[1]}x{grey.shape[0]}")
        return (grey / np.float32(255)).astype(np.float32), notes
    low, high = background, int(grey.max())
    if high - low < 32:
        raise InputError(f"{path}: no digit found: the picture is all one shade "
                         f"(grey {low} to {high} of 255)")
    if low > 0 or high < 255:       # a photo: grey paper, faint ink
        grey = np.clip((grey.astype(np.float32) - low) * (255 / (high - low)), 0, 255)
        grey = np.round(grey).astype(np.uint8)
        notes.append(f"  levels stretched: background grey {low} -> 0, brightest ink "
                     f"{high} -> 255")
    digit = drawing_to_mnist(grey)
    if digit is None:
        raise InputError(f"{path}: no digit found (no pixel brighter than the background)")
    notes.append("  made MNIST-style (nnlite.preprocess.drawing_to_mnist): the ink's box scaled "
                 "to 20 px on its longer side, its centre of mass put at the centre of 28x28")
    return digit, notes


def _read_grey(path):
    """The image at ``path`` as uint8 (H, W), refused with an InputError when it is missing,
    not an image, too large, or undecodable. Transparent backgrounds: ink = opacity."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: " + ("is not a file" if os.path.exists(path) else
                                        "no such file"))
    size = os.path.getsize(path)
    if size == 0 or size > MAX_IMAGE_BYTES:
        raise InputError(f"{path}: {size} bytes; a digit image has 1 to {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=IMAGE_FORMATS) as im:
                width, height = im.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise InputError(f"{path}: {width}x{height} pixels is over nnlite's limit "
                                     f"of {MAX_IMAGE_PIXELS:,} (a decompression bomb?)")
                notes = [f"Image {path}: {width}x{height} pixels, {im.format} {im.mode}"]
                im.draft("L", (WORKING_SIDE, WORKING_SIDE))     # JPEG: decode at 1/2..1/8
                if max(im.size) > WORKING_SIDE:
                    im.thumbnail((WORKING_SIDE, WORKING_SIDE))
                    notes.append(f"  shrunk to {im.size[0]}x{im.size[1]} first")
                if "A" in im.getbands() or "transparency" in im.info:
                    alpha = np.asarray(im.convert("RGBA").getchannel("A"))
                    if alpha.min() < alpha.max():
                        notes.append("  transparent background: the ink is read from the "
                                     "opacity (alpha channel)")
                        return alpha.copy(), notes
                return np.asarray(im.convert("L")).copy(), notes
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image nnlite reads ({', '.join(IMAGE_FORMATS)})") \
            from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{path}: refused, too many pixels (a decompression bomb?): {exc}") \
            from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: cannot decode the image: {exc}") from None


def _picture(digit):
    """The 28x28 input as text, two characters per pixel (more ink, denser character)."""
    idx = np.clip((digit * len(SHADES)).astype(int), 0, len(SHADES) - 1)
    edge = "  +" + "-" * 56 + "+"
    rows = ["  |" + "".join(SHADES[i] * 2 for i in row) + "|" for row in idx]
    return "\n".join(["What the model sees (28x28, MNIST-style):", edge, *rows, edge])
