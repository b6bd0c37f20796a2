"""``python -m apps``: the drawing app (pygame). Draw digits or a whole number and watch the
ANN, CNN and VGG16 read them: prediction, probabilities, the 28x28 image the model sees, latency.

Keys: mouse draws (right click clears), C clear, Z / Ctrl+Z undo, [ and ] brush size,
1 2 3 choose ANN / CNN / VGG16 (4, 5, ...: their Keras versions, one for each
MODELS_DIR/keras/<name>.keras present when Keras is installed), F the CNN's feature maps,
S save the drawing to your own test set (then type the true digits, or Enter to keep the
prediction), Esc quit.

``--demo 2026 --screenshot out.png`` draws the digits by itself (strokes traced from random
MNIST test digits of those classes), lets the app read them, saves the window and exits; it
works without a display (SDL_VIDEODRIVER=dummy is set when there is none).
"""
import argparse
import os
import sys

from nnlite.datasets import load_mnist
from nnlite.errors import ConfigError, InputError, NNLiteError

from .demo import number_strokes, stroke_events
from .draw import DEFAULT_BRUSH, App

PROG = "python -m apps"


def build_parser():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default="models",
                   help="folder with ann.npz, cnn.npz, vgg16.npz (default: models)")
    p.add_argument("--model", default="cnn",
                   help="model shown first: ann, cnn, vgg16 (default cnn)")
    p.add_argument("--save-dir", default="my_digits",
                   help="where S saves labelled drawings (default: my_digits); score them with "
                        "`nnlite evaluate MODEL --images DIR`")
    p.add_argument("--brush", type=int, default=None, help="brush width in px (default 34)")
    p.add_argument("--features", action="store_true", help="start with the feature maps shown")
    p.add_argument("--demo", metavar="DIGITS",
                   help="draw these digits by itself, e.g. 2026 (needs MNIST for the strokes)")
    p.add_argument("--seed", type=int, default=0, help="which test digits the demo traces")
    p.add_argument("--screenshot", metavar="PNG",
                   help="save the window to this PNG and exit (after the demo, if any)")
    return p


def run(args):
    """Open the app as ``args`` say; with ``--screenshot``, save the window and return."""
    if args.demo is not None and (not args.demo.isdigit() or not 1 <= len(args.demo) <= 8):
        raise InputError(f"--demo: expected 1 to 8 digits such as 2026, got {args.demo!r}")
    if args.brush is not None and not 1 <= args.brush <= 200:
        raise InputError(f"--brush: expected a width in 1..200 px, got {args.brush}")
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
    app = App(models_dir=args.models_dir, save_dir=args.save_dir, model=args.model,
              brush=args.brush or DEFAULT_BRUSH, features=args.features)
    if args.demo:
        queue_demo(app, args.demo, test_set, args.seed)
    if args.screenshot:
        while app.autopilot:
            app.pump()
            app.step()
        app.pump()
        app.read()
        app.screenshot(args.screenshot)
        print(f"read {app.reading.number if app.reading else 'nothing'} with "
              f"{app.slot.label}; wrote {args.screenshot}")
        app.pg.quit()
        return 0
    app.run()
    return 0


def queue_demo(app, digits, test_set, seed):
    """Queue the mouse events that write ``digits`` with strokes traced from ``test_set``."""
    x_test, y_test = test_set
    strokes, brush = number_strokes(digits, x_test, y_test, app.canvas.size, seed=seed)
    app.set_brush(brush)
    app.play(stroke_events(strokes, app.view.canvas_rect.topleft))
    app.say(f"demo: drawing {digits} from MNIST test digits")


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except NNLiteError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
