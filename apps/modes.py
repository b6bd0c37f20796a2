"""The app's prompts and views with a state of their own: saving (S), explain (E), teach (T).
``view`` and ``panels`` draw them; ``App`` routes keys and frames here.

Save (S): type the true digit(s) of the drawing, Enter keeps what was read, Esc cancels; each
digit is written to the save dir in the format ``nnlite evaluate --images`` reads.

Explain (E): for the selected digit, the input gradients of the predicted class and of the
class the user expected (0-9 choose it; default the runner-up), and the per-layer gradient
norms of one backward pass (``apps.explain``). Recomputed whenever the drawing, the selected
digit or the expected class changes.

Teach (T, then the right digit): ``apps.teach.Teacher`` takes one optimizer step per frame, so
the window shows the probabilities and the loss moving; then the model is saved to a NEW file
(``<taught dir>/<model>-taught-<n>.npz``; models/ is never written), the drawing is added to
the user's saved drawings, and the app goes on reading with the taught model.
"""
import os
import time

from nnlite.commands.evaluate import read_labelled_pngs
from nnlite.datasets import load_mnist
from nnlite.errors import NNLiteError

from .dataset import save_digit, timestamp
from .explain import explain
from .teach import Teacher, save_taught

REPLAY_UPTO = 48_000      # replay only images the study models trained on (not validation)


class ExplainMode:
    def __init__(self, app):
        self.app = app
        self.expected = None      # the class the user expected; None: the runner-up
        self.result = None        # an apps.explain.Explanation
        self.error = None
        self._done_for = None

    def refresh(self):
        """Explain the selected digit, unless that was already done for the same inputs."""
        app = self.app
        reading, self.error = app.reading, None
        if reading is None or not app.slot.ready:
            self.result = self._done_for = None
            return
        if app.slot.kind != "nnlite":
            self.result, self.error = None, "the explain view needs an nnlite model (1-3)"
            return
        digit = reading.digits[app.focus]
        key = (id(app.slot.model), app.slot.version, digit.box, self.expected, app.focus)
        if key != self._done_for:
            self.result = explain(app.slot.model, digit.image, self.expected)
            self._done_for = key

    def choose(self, digit):
        self.expected = digit
        self.refresh()


class TeachMode:
    """idle -> asking (T: type the right digit) -> running (one step per frame) -> done."""

    def __init__(self, app, taught_dir):
        self.app, self.taught_dir = app, taught_dir
        self.state = "idle"
        self.teacher = self.label = self.path = self.image = None
        self.step_ms = []
        self._replay = None

    def ask(self):
        app = self.app
        if app.reading is None:
            app.say("nothing to teach: draw a digit first", "error")
            return False
        if app.slot.kind != "nnlite" or not app.slot.ready:
            app.say("teaching needs a loaded nnlite model (1-3)", "error")
            return False
        self.state = "asking"
        app.say("teach: type the right digit for the selected drawing (Esc cancels)")
        return True

    def cancel(self):
        if self.state == "asking":
            self.state = "idle"
            self.app.say("teaching cancelled")

    def start(self, label):
        """Begin teaching that the selected drawing is ``label``."""
        app = self.app
        try:
            replay = self.replay()
        except NNLiteError as exc:
            self.state = "idle"
            app.say(f"teaching needs MNIST for its replay sample: {exc}", "error")
            return
        digit = app.reading.digits[app.focus]
        self.image, self.label, self.step_ms = digit.image, int(label), []
        self.box, self.slot = digit.box, app.slot
        self.teacher = Teacher(app.slot.model, digit.image, label, mine=self.mine(),
                               replay=replay, seed=len(os.listdir(self.taught_dir))
                               if os.path.isdir(self.taught_dir) else 0)
        self.state = "running"
        app.say(f"teaching {app.slot.label} that this is a {label}...")

    def step(self):
        """One optimizer step (called once per frame while running)."""
        if self.state != "running":
            return
        start = time.perf_counter()
        self.teacher.step()
        self.step_ms.append((time.perf_counter() - start) * 1000)
        if self.teacher.done:
            self.finish()

    def finish(self):
        app, slot = self.app, self.slot
        slot.version += 1                 # readings and explanations are stale now
        try:
            self.path = save_taught(slot.model, self.taught_dir, slot.key)
            x, y, w, h = self.box
            crop = app.canvas.image[max(y - 8, 0):y + h + 8, max(x - 8, 0):x + w + 8]
            save_digit(app.save_dir, self.label, self.image, crop, timestamp())
        except OSError as exc:
            app.say(f"taught, but could not save: {exc}", "error")
        else:
            before, after = self.teacher.before[self.label], self.teacher.after[self.label]
            app.say(f"taught: p({self.label}) {before:.0%} -> {after:.0%}; saved {self.path}")
        self.state = "done"
        app.read()

    def mine(self):
        """The user's saved drawings (save dir), or None."""
        try:
            x, y, _ = read_labelled_pngs(self.app.save_dir)
        except NNLiteError:
            return None
        return (x, y) if len(x) else None

    def replay(self):
        if self._replay is None:
            (x, y), _ = load_mnist()
            self._replay = (x[:REPLAY_UPTO], y[:REPLAY_UPTO])
        return self._replay


class SaveMode:
    """The save prompt: ``labels`` is the typed text while it is open, else None."""

    def __init__(self, app):
        self.app, self.labels = app, None

    def ask(self):
        if self.app.reading is None:
            self.app.say("nothing to save: draw a digit first", "error")
            return
        self.labels = ""
        self._prompt_or_save()

    def cancel(self):
        self.labels = None
        self.app.say("save cancelled")

    def key(self, key, digit):
        pg = self.app.pg
        if digit is not None:
            self.labels += str(digit)
            self._prompt_or_save()
        elif key in (pg.K_RETURN, pg.K_KP_ENTER, pg.K_s):
            self.save(self.labels)
        elif key == pg.K_BACKSPACE:
            self.labels = self.labels[:-1]
            self._prompt_or_save()
        elif key == pg.K_ESCAPE:
            self.cancel()

    def _prompt_or_save(self):
        reading = self.app.reading
        if len(self.labels) >= len(reading.digits):
            self.save(self.labels)
            return
        self.app.say(f"save: type the true digit(s) ({self.labels or 'nothing yet'}); Enter "
                     f"keeps '{reading.number}', Esc cancels")

    def save(self, typed):
        app, reading, self.labels = self.app, self.app.reading, None
        labels = [int(typed[i]) if i < len(typed) else reading.labels[i]
                  for i in range(len(reading.digits))]
        stamp = timestamp()
        try:
            for i, digit in enumerate(reading.digits):
                if labels[i] is None:       # "not a digit" and no label typed: not saved
                    continue
                x, y, w, h = digit.box
                crop = app.canvas.image[max(y - 8, 0):y + h + 8, max(x - 8, 0):x + w + 8]
                save_digit(app.save_dir, labels[i], digit.image, crop, f"{stamp}-{i}")
        except OSError as exc:
            app.say(f"could not save to {app.save_dir}: {exc}", "error")
            return
        saved = "".join("" if label is None else str(label) for label in labels)
        app.say(f"saved {saved} to {app.save_dir}/" if saved else "nothing saved: no digits")
