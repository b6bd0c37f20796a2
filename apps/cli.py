"""``python -m apps``: the drawing app (pygame). Draw digits or a whole number and watch the
ANN, CNN and VGG16 read them: prediction, probabilities, the 28x28 image the model sees, latency.

Keys: mouse draws (right click clears), C clear, Z / Ctrl+Z undo, [ and ] brush size,
1 2 3 choose ANN / CNN / VGG16 (4, 5, ...: their Keras versions, one for each
MODELS_DIR/keras/<name>.keras present when Keras is installed), F the CNN's feature maps,
E explain the selected digit (then 0-9: the digit you expected), T teach the model the right
digit (saved to --taught-dir, never to MODELS_DIR), a click on a digit's thumbnail selects it,
S save the drawing to your own test set (then type the true digits, or Enter to keep the
prediction), Esc quit. Letters, symbols, shapes and dots read as "not a digit".

``--demo 2026 --screenshot out.png`` draws the digits by itself (strokes traced from random
MNIST test digits of those classes), lets the app read them, saves the window and exits; it
works without a display (SDL_VIDEODRIVER=dummy is set when there is none).
"""
import argparse
import os
import sys

from nnlite.commands.arguments import ArgumentParser, int_range, non_negative_int
from nnlite.commands.common import CommandErrors, check_writable_folder
from nnlite.datasets import load_mnist
from nnlite.errors import ConfigError, InputError

from .demo import number_strokes, stroke_events
from .draw import DEFAULT_BRUSH, App
from .model_slots import NNLITE_MODELS

PROG = "python -m apps"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_CHOICES = [key for key, _ in NNLITE_MODELS] + [f"keras-{key}" for key, _ in NNLITE_MODELS]


def demo_digits(text):
    """--demo: 1 to 8 digits such as 2026."""
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 8):
        raise argparse.ArgumentTypeError(f"expected 1 to 8 digits such as 2026, got {text!r}")
    return text


def build_parser():
    p = ArgumentParser(prog=PROG, description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default=os.path.join(ROOT, "models"),
                   help="folder with ann.npz, cnn.npz, vgg16.npz (default: this checkout's "
                        "models/)")
    p.add_argument("--model", default="cnn", choices=MODEL_CHOICES,
                   help="model shown first (default cnn)")
    p.add_argument("--save-dir", default="my_digits",
                   help="where S saves labelled drawings (default: my_digits); score them with "
                        "`nnlite evaluate MODEL --images DIR`")
    p.add_argument("--brush", type=int_range(1, 200), default=None,
                   help="brush width in px, 1..200 (default 34)")
    p.add_argument("--features", action="store_true", help="start with the feature maps shown")
    p.add_argument("--explain", action="store_true",
                   help="with --screenshot: show the explain view of the last digit")
    p.add_argument("--expected", type=int_range(0, 9), default=None,
                   help="with --explain: the digit you expected (default: the runner-up)")
    p.add_argument("--teach", type=int_range(0, 9), default=None, metavar="DIGIT",
                   help="with --screenshot: teach the model that the last digit is DIGIT")
    p.add_argument("--taught-dir", default="my_models",
                   help="where T saves taught models, <model>-taught-<n>.npz (default: "
                        "my_models; never the models folder)")
    p.add_argument("--demo", metavar="DIGITS", type=demo_digits,
                   help="draw these digits by itself, e.g. 2026 (needs MNIST for the strokes)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="which test digits the demo traces")
    p.add_argument("--screenshot", metavar="PNG",
                   help="save the window to this PNG and exit (after the demo, if any)")
    return p


def run(args):
    """Open the app as ``args`` say; with ``--screenshot``, save the window and return."""
    models_dir = check_models_dir(args.models_dir)
    if args.screenshot:                 # refused now, not after the demo has drawn
        if os.path.isdir(args.screenshot):
            raise InputError(f"--screenshot: {args.screenshot} is a folder; give a .png file name")
        check_writable_folder(os.path.dirname(os.path.abspath(args.screenshot)), "--screenshot")
    if args.screenshot and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")   # headless: render off-screen
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import cv2  # noqa: F401
        import pygame  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"the drawing app needs pygame and OpenCV: pip install 'nnlite[app]' "
                          f"({exc})") from None
    test_set = None
    if args.demo:       # before the window opens: a missing MNIST is reported cleanly
        _, test_set = load_mnist()
    app = App(models_dir=models_dir, save_dir=args.save_dir, model=args.model,
              brush=args.brush or DEFAULT_BRUSH, features=args.features,
              taught_dir=args.taught_dir)
    if args.demo:
        queue_demo(app, args.demo, test_set, args.seed)
    if args.screenshot:
        try:
            while app.autopilot:
                app.pump()
                app.step()
            app.pump()
            app.read()
            show_view(app, args)
            try:
                app.screenshot(args.screenshot)
            except app.pg.error as exc:          # pygame's own error type: not an OSError
                raise InputError(f"--screenshot: cannot write {args.screenshot} ({exc})") from None
        finally:
            app.pg.quit()
        print(f"read {app.reading.number if app.reading else 'nothing'} with "
              f"{app.slot.label}; wrote {args.screenshot}")
        return 0
    app.run()
    return 0


def check_models_dir(folder):
    """The absolute models folder; refused if missing. With no model file in it, say where the
    app looked (the app still opens and says so on screen)."""
    folder = os.path.abspath(folder)
    if not os.path.isdir(folder):
        raise ConfigError(f"--models-dir: there is no folder {folder}")
    names = [f"{key}.npz" for key, _ in NNLITE_MODELS]
    if not any(os.path.isfile(os.path.join(folder, name)) for name in names):
        print(f"{PROG}: note: no model file ({', '.join(names)}) in {folder}; train one with "
              "`nnlite train cnn` and copy its model.npz there, or pass --models-dir",
              file=sys.stderr)
    return folder


def show_view(app, args):
    """--explain / --teach: open that view on the drawing (teaching runs to the end)."""
    if args.explain:
        app.do("explain")
        if args.expected is not None:
            app.explainer.choose(args.expected)
    if args.teach is not None and app.reading is not None:
        app.do("teach")
        app.teaching.start(args.teach)
        while app.teaching.state == "running":
            app.step()


def queue_demo(app, digits, test_set, seed):
    """Queue the mouse events that write ``digits`` with strokes traced from ``test_set``."""
    x_test, y_test = test_set
    strokes, brush = number_strokes(digits, x_test, y_test, app.canvas.size, seed=seed)
    app.set_brush(brush)
    app.play(stroke_events(strokes, app.view.canvas_rect.topleft))
    app.say(f"demo: drawing {digits} from MNIST test digits")


def main(argv=None):
    """Run ``python -m apps`` -> exit code (2: refused, with the reason on stderr)."""
    errors = CommandErrors(PROG)
    with errors:
        return run(build_parser().parse_args(argv))
    return errors.exit_code
