"""nnlite's drawing app: draw digits (or a whole number) and watch a model read them.

    python -m apps                  # from the repository's root; or: make draw
    python -m apps --demo 2026 --screenshot out.png   # draws by itself, saves the window, exits

The app is a plain object driven by pygame events, so tests (and the demo) drive the real thing
by posting events; ``run`` is only the loop around it:

    app = App(models_dir="models")
    app.handle(event)   # one event: mouse (event.pos, never polled), keys, clicks, quit
    app.step()          # time-based work: live prediction (throttled), demo playback
    app.render()        # draw the window
    app.tick()          # = handle every queued event, step, render

Reading a drawing: ``apps.recognize`` (the one reading function, also used by the tests and
the measuring scripts) finds the digits left to right, splits touching ones, lets the chosen
model read them and says "not a digit" for letters, symbols, shapes, scribbles and dots.
The explain (E) and teach (T) views live in ``apps.modes``; mouse and keys are routed to
the App's actions by ``apps.controls``.
"""
import os
import time
from collections import deque

from . import view
from .canvas import Canvas
from .controls import Controls
from .model_slots import discover, first_ready
from .modes import ExplainMode, SaveMode, TeachMode
from .reading import Reading, focus_index
from .recognize import load_reader_files

UNSURE_BELOW = 0.6      # a max probability under this shows "unsure"
LIVE_INTERVAL = 0.12    # seconds between live predictions while a stroke is being drawn
DEFAULT_BRUSH = 34      # px on the 448 canvas: a digit drawn to fill it (about 320 px tall) then
                        # has MNIST's stroke width (about 0.11 of its height) after scaling
BRUSH_RANGE = (4, 120)


class App(Controls):
    def __init__(self, models_dir="models", save_dir="my_digits", model="cnn",
                 canvas_size=448, brush=DEFAULT_BRUSH, features=False, taught_dir="my_models"):
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame
        self.pg = pygame
        pygame.display.init()     # not pygame.init(): no audio device is needed (or present)
        pygame.font.init()
        self.screen = pygame.display.set_mode(view.WINDOW)
        pygame.display.set_caption("nnlite: draw digits")
        self.view = view.View(self.screen, canvas_size)
        self.canvas = Canvas(canvas_size)
        self.brush = int(brush)
        self.save_dir = save_dir
        self.unsure_below = UNSURE_BELOW
        self.panel = "features" if features else "reading"   # or "explain", "teach"
        self.features, self.features_error = [], None
        self.explainer, self.teaching = ExplainMode(self), TeachMode(self, taught_dir)
        self.saving = SaveMode(self)
        self.reader_model, self.calibration = load_reader_files(models_dir)
        self.reading, self.focus = None, 0
        self.message = None            # (text, "info" | "error")
        self.focus_pinned = False      # the selected digit was clicked (kept while reading)
        self.running = True
        self.dirty = False             # canvas changed since the last reading
        self.last_read = 0.0
        self.autopilot = deque()       # demo events still to post
        self.slots = discover(models_dir)
        for slot in self.slots:
            if slot.kind == "nnlite":
                slot.load()
        self.slot = first_ready(self.slots, model)
        broken = [s.error for s in self.slots if s.error]
        if broken:
            self.say("; ".join(broken), "error")

    @property
    def show_features(self):
        return self.panel == "features"

    # -- actions (keys and buttons) --------------------------------------------------------------
    def do(self, action):
        if action == "clear":
            self.canvas.clear()
            self.focus_pinned = False
            self.read()
        elif action == "undo":
            if self.canvas.undo():
                self.read()
        elif action in ("features", "explain"):
            self.panel = "reading" if self.panel == action else action
            self.read()
        elif action == "teach":
            if self.teaching.ask():
                self.panel = "teach"
        elif action == "save":
            self.saving.ask()
        elif action.startswith("model:"):
            self.select(int(action.split(":")[1]))

    def select(self, index):
        if not 0 <= index < len(self.slots):
            return
        self.slot = self.slots[index]
        if not self.slot.ready and not self.slot.error:
            self.say(f"loading {self.slot.label}...")
            self.render()                 # show "loading" before a slow (Keras) import
            self.pg.display.flip()
            self.slot.load()
        if self.slot.error:
            self.say(self.slot.error, "error")
        else:
            self.say(f"model: {self.slot.label}")
        self.read()

    def select_digit(self, index):
        """Make digit ``index`` of the reading the one the panels show (a thumbnail click)."""
        if self.reading is not None and 0 <= index < len(self.reading.digits):
            self.focus, self.focus_pinned = index, True
            if self.panel == "explain":
                self.explainer.refresh()
            elif self.panel == "features":
                self._read_features(self.reading.digits[index].image)

    def set_brush(self, width):
        self.brush = int(min(max(width, BRUSH_RANGE[0]), BRUSH_RANGE[1]))
        self.say(f"brush {self.brush} px")

    def say(self, text, level="info"):
        self.message = (text, level)

    # -- reading -------------------------------------------------------------------------------
    def read(self):
        """Split the canvas into digits and let the current model read them (now)."""
        self.dirty, self.last_read = False, time.perf_counter()
        self.features, self.features_error = [], None
        self.explainer.result = None
        if self.canvas.blank or not self.slot.ready:
            self.reading = None
            return
        start = time.perf_counter()
        try:
            digits = self.slot.reader(self.reader_model, self.calibration).read(
                self.canvas.image)
        except Exception as exc:   # a model that loads but cannot read 28x28 digits
            self.slot.error = f"{self.slot.label}: cannot predict ({exc})"
            self.slot.model = None
            self.say(self.slot.error, "error")
            self.reading = None
            return
        if not digits:
            self.reading = None
            return
        latency = (time.perf_counter() - start) * 1000 / len(digits)
        self.reading = Reading(digits, latency, self.slot.label)
        self.focus = focus_index(digits, self.canvas.strokes, self.focus_pinned, self.focus)
        if self.panel == "features":
            self._read_features(digits[self.focus].image)
        elif self.panel == "explain":
            self.explainer.refresh()

    def _read_features(self, digit):
        cnn = next((s for s in self.slots if s.key == "cnn"), None)
        if cnn is None or not cnn.ready:
            self.features_error = "feature maps need the CNN (models/cnn.npz)"
            return
        try:
            self.features = cnn.block_outputs(digit, n_blocks=2)
        except Exception as exc:
            self.features_error = f"feature maps failed: {exc}"

    # -- the loop ------------------------------------------------------------------------------
    def play(self, events):
        """Queue events (e.g. demo strokes) to be posted a few per frame by ``step``."""
        self.autopilot.extend(events)

    def step(self, now=None, per_frame=12):
        now = time.perf_counter() if now is None else now
        for _ in range(min(per_frame, len(self.autopilot))):
            self.pg.event.post(self.autopilot.popleft())
        if self.dirty and now - self.last_read >= LIVE_INTERVAL:
            self.read()
        self.teaching.step()      # one optimizer step per frame while teaching

    def render(self):
        self.view.draw(self)

    def pump(self):
        """Handle every event waiting in pygame's queue."""
        for event in self.pg.event.get():
            self.handle(event)

    def tick(self):
        self.pump()
        self.step()
        self.render()

    def screenshot(self, path):
        self.render()
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.pg.image.save(self.screen, path)

    def run(self, fps=60):
        """The interactive loop. Any unexpected error is shown on screen, never a crash."""
        clock = self.pg.time.Clock()
        while self.running:
            try:
                self.tick()
            except Exception as exc:  # keep the window alive; say what went wrong
                import traceback
                traceback.print_exc()
                self.canvas.drawing = False
                self.say(f"internal error: {type(exc).__name__}: {exc}", "error")
            self.pg.display.flip()
            clock.tick(fps)
        self.pg.quit()
