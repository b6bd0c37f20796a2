"""The README's pictures of the app, made headless from committed drawings:

    python -m apps.screenshots --out-dir docs/images      # seconds; needs models/ and MNIST

app_explain.png      a drawing from apps/data/writers.npz that the CNN misreads, in the explain
                     view, with the right digit as the expected class
app_teach.png        the same drawing after the teach view taught the right digit
app_not_a_digit.png  the first letter of apps/data/nondigits.npz read as "not a digit"

Every drawing is replayed as mouse events into the real app, run in a temporary folder (its
my_models/ and my_digits/ vanish afterwards).
"""
import argparse
import os
import tempfile

from . import synth
from .demo import stroke_events
from .draw import App
from .make_sets import DATA_DIR


def _draw(app, drawing):
    """Replay ``drawing`` (made for a canvas of its size) as mouse events on the app's canvas."""
    scale = app.canvas.size / drawing.size
    app.do("clear")
    app.set_brush(max(4, round(drawing.brush * scale)))
    app.play(stroke_events([s * scale for s in drawing.strokes], app.view.canvas_rect.topleft))
    while app.autopilot:
        app.step()
        app.pump()
    app.read()


def first_misread(app, drawings):
    """The first drawing the app reads as one wrong digit (left on the canvas)."""
    for d in drawings:
        _draw(app, d)
        labels = app.reading.labels if app.reading is not None else []
        if len(labels) == 1 and labels[0] is not None and labels[0] != int(d.label):
            return d
    raise SystemExit("every writer drawing is read right: nothing to teach")


def first_refused_letter(app, drawings):
    """The first letter the app reads as "not a digit" (left on the canvas)."""
    for d in drawings:
        if d.kind.startswith("letter"):
            _draw(app, d)
            if app.reading is not None and app.reading.labels == [None]:
                return d
    raise SystemExit("no letter is read as 'not a digit'")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default="models")
    p.add_argument("--out-dir", default=os.path.join("docs", "images"))
    args = p.parse_args(argv)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    out_dir, models_dir, home = (os.path.abspath(args.out_dir), os.path.abspath(args.models_dir),
                                 os.getcwd())
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)             # the app's default folders, my_models/ and my_digits/
        app = App(models_dir=models_dir)
        try:
            letter = first_refused_letter(
                app, synth.load_set(os.path.join(DATA_DIR, "nondigits.npz")))
            app.say(f"{letter.kind} (apps/data/nondigits.npz)")
            app.screenshot(os.path.join(out_dir, "app_not_a_digit.png"))
            writers = synth.load_set(os.path.join(DATA_DIR, "writers.npz"))
            drawing = first_misread(app, writers)
            app.do("explain")
            app.explainer.choose(int(drawing.label))
            app.say(f"explain: the CNN read {app.reading.number}; the drawing is a "
                    f"{drawing.label} ({drawing.kind.split()[-1]} font, apps/data/writers.npz)")
            app.screenshot(os.path.join(out_dir, "app_explain.png"))
            app.do("teach")
            app.teaching.start(int(drawing.label))
            while app.teaching.state == "running":
                app.step()
            app.screenshot(os.path.join(out_dir, "app_teach.png"))
        finally:
            app.pg.quit()
            os.chdir(home)
    for name in ("app_explain.png", "app_teach.png", "app_not_a_digit.png"):
        print(os.path.join(args.out_dir, name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
