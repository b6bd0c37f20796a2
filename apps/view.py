"""Drawing the app's window with pygame: buttons, canvas, status line and the right panel.
Pure presentation: it reads the ``App``'s state and never changes it, except for returning
what can be clicked (``buttons``, ``thumbnails``) for ``App.handle`` to hit-test.

Layout (1000 x 680): model buttons across the top; the 448 x 448 canvas on the left with two
rows of action buttons and the status line under it; on the right the reading (number,
confidence, latency) over one of four panels (``apps.panels``): the 28x28 inputs and the ten
probability bars, the CNN's feature maps (F), the explain view (E) or the teach view (T).
"""
import numpy as np

from . import panels
from .panels import BAD, BG, DIM, GOOD, PANEL, PANEL_H, PANEL_W, PANEL_X, TEXT, UNSURE, ACCENT

WINDOW = (1000, 680)
CANVAS_POS = (16, 64)
STATUS_Y = 610     # status line and key help under everything, full width

HELP = ("mouse: draw   right click: clear   C clear   Z undo   [ ] brush   1-{n} model   "
        "F features   E explain (0-9: expected)   T teach   S save   Esc quit")
ACTIONS = ((("clear", "Clear (C)", 100), ("undo", "Undo (Z)", 96), ("save", "Save (S)", 92)),
           (("features", "Features (F)", 128), ("explain", "Explain (E)", 122),
            ("teach", "Teach (T)", 108)))


class View:
    def __init__(self, screen, canvas_size):
        import pygame
        self.pg = pygame
        self.screen = screen
        self.canvas_rect = pygame.Rect(CANVAS_POS, (canvas_size, canvas_size))
        self.fonts = {size: pygame.font.Font(None, size)
                      for size in (18, 20, 24, 28, 34, 48, 80, 150)}

    # -- hit-testing ----------------------------------------------------------------------------
    def buttons(self, app):
        """[(rect, action, label)] for every clickable button in the current state."""
        rect = self.pg.Rect
        out, x = [], 16
        labels = [f"{i + 1} {slot.label}" for i, slot in enumerate(app.slots)]
        widths = [self.fonts[24].size(label + "  x")[0] + 16 for label in labels]
        room = WINDOW[0] - 16 - x - 8 * len(labels)
        if sum(widths) > room:      # many Keras files: narrower buttons, "Keras" shortened
            labels = [label.replace("Keras ", "K ") for label in labels]
            widths = [self.fonts[24].size(label)[0] + 12 for label in labels]
        for i, (label, width) in enumerate(zip(labels, widths)):
            out.append((rect(x, 14, width, 36), f"model:{i}", label))
            x += width + 8
        y = self.canvas_rect.bottom + 10
        for row in ACTIONS:
            x = self.canvas_rect.left
            for action, label, width in row:
                out.append((rect(x, y, width, 30), action, label))
                x += width + 8
            y += 36
        return out

    def thumbnails(self, app):
        """[(rect, digit index)]: the clickable 28x28 inputs of a number, in the current panel."""
        reading = app.reading
        if reading is None or len(reading.digits) < 2 or app.panel == "features":
            return []
        return panels.thumbnail_rects(self, app)

    # -- drawing ----------------------------------------------------------------------------------
    def draw(self, app):
        self.screen.fill(BG)
        self._buttons(app)
        self._canvas(app)
        self._status(app)
        self.pg.draw.rect(self.screen, PANEL, (PANEL_X, 64, PANEL_W, PANEL_H), border_radius=8)
        if app.panel in ("explain", "teach"):
            getattr(panels, app.panel)(self, app)
            return
        self._headline(app, app.reading)
        if app.panel == "features":
            panels.feature_maps(self, app)
        elif app.reading is not None:
            panels.inputs(self, app)
            panels.reading_bars(self, app.reading, app.focus)

    def text(self, text, pos, size=24, color=TEXT, center=False, max_width=None,
             anchor="topleft"):
        surf = self.fonts[size].render(text, True, color)
        if max_width and surf.get_width() > max_width:
            scale = max_width / surf.get_width()
            surf = self.pg.transform.smoothscale(
                surf, (int(surf.get_width() * scale), max(1, int(surf.get_height() * scale))))
        rect = surf.get_rect(**{"center" if center else anchor: pos})
        self.screen.blit(surf, rect)
        return rect

    def wrap(self, text, size, width):
        """Split ``text`` into lines no wider than ``width`` px (long words are cut)."""
        lines, line = [], ""
        for word in text.split(" "):
            trial = f"{line} {word}".strip()
            if line and self.fonts[size].size(trial)[0] > width:
                lines.append(line)
                trial = word
            while self.fonts[size].size(trial)[0] > width and len(trial) > 1:
                cut = len(trial) - 1
                while cut > 1 and self.fonts[size].size(trial[:cut])[0] > width:
                    cut -= 1
                lines.append(trial[:cut])
                trial = trial[cut:]
            line = trial
        return lines + [line] if line else lines

    def blit_gray(self, image, pos, scale):
        """A float (H, W) image in [0, 1] magnified ``scale`` times at ``pos``."""
        gray = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        big = np.repeat(np.repeat(gray, scale, 0), scale, 1)
        rgb = np.ascontiguousarray(np.repeat(big[:, :, None], 3, axis=2))
        self.screen.blit(self.pg.image.frombuffer(rgb.tobytes(), big.shape[::-1], "RGB"), pos)

    def _buttons(self, app):
        buttons = self.buttons(app)
        for rect, action, label in buttons:
            active = False
            color = TEXT
            if action.startswith("model:"):
                slot = app.slots[int(action.split(":")[1])]
                active = slot is app.slot
                color = BAD if slot.error else TEXT
                if slot.error:
                    label += "  x"
                elif slot.version:
                    label += " *"          # taught since the app started
            elif action in ("features", "explain", "teach"):
                active = app.panel == action
            fill = ACCENT if active else PANEL
            self.pg.draw.rect(self.screen, fill, rect, border_radius=6)
            self.text(label, rect.center, 24, BG if active else color, center=True)
        hint = f"brush {app.brush} px   ([ ] to change)"
        models_end = max(rect.right for rect, action, _ in buttons if action.startswith("model:"))
        if models_end + 16 + self.fonts[24].size(hint)[0] <= WINDOW[0] - 16:   # else: in HELP
            self.text(hint, (WINDOW[0] - 16, 32), 24, DIM, anchor="midright")

    def _canvas(self, app):
        pg = self.pg
        image = app.canvas.image
        rgb = np.repeat(image[:, :, None], 3, axis=2)
        surf = pg.image.frombuffer(rgb.tobytes(), image.shape[::-1], "RGB")
        self.screen.blit(surf, self.canvas_rect)
        pg.draw.rect(self.screen, DIM, self.canvas_rect.inflate(4, 4), 2)
        reading = app.reading
        if reading is None:
            return
        for i, d in enumerate(reading.digits):
            x, y, w, h = d.box
            box = pg.Rect(self.canvas_rect.left + x - 4, self.canvas_rect.top + y - 4, w + 8, h + 8)
            box = box.clip(self.canvas_rect)
            color = (BAD if d.digit is None else
                     UNSURE if d.probs.max() < app.unsure_below else GOOD)
            pg.draw.rect(self.screen, color, box, 3 if i == app.focus else 1)
            if len(reading.digits) > 1 or d.digit is None:
                self.text("?" if d.digit is None else str(d.digit), (box.left, box.top - 20),
                          24, color)

    def _status(self, app):
        y = STATUS_Y
        if app.message:
            text, level = app.message
            color = {"error": BAD, "info": ACCENT}.get(level, TEXT)
            self.text(text, (16, y), 24, color, max_width=WINDOW[0] - 32)
        self.text(HELP.format(n=len(app.slots)), (16, y + 32), 20, DIM, max_width=WINDOW[0] - 32)

    def _headline(self, app, reading):
        x, cx = PANEL_X + 16, PANEL_X + PANEL_W // 2
        slot = app.slot
        if slot.error:
            self.text(f"{slot.label} unavailable", (cx, 130), 48, BAD, center=True)
            for i, line in enumerate(self.wrap(slot.error, 24, PANEL_W - 40)[:6]):
                self.text(line, (x, 180 + 26 * i), 24, BAD)
            return
        if not slot.ready:
            self.text(f"loading {slot.label}...", (cx, 140), 48, DIM, center=True)
            return
        if reading is None:
            self.text("draw a digit", (cx, 140), 48, DIM, center=True)
            return
        refused = reading.refused
        if len(reading.digits) == 1 and refused:
            self.text("not a digit", (cx, 138), 80, BAD, center=True)
            self.text(f"{slot.label}   {refused[0].why}", (x, 196), 24, BAD,
                      max_width=PANEL_W - 32)
            self.text(f"{reading.latency_ms:.1f} ms (preprocess + models)", (x, 224), 24, DIM)
            return
        unsure = reading.confidence < app.unsure_below
        color = BAD if refused else UNSURE if unsure else TEXT
        self.text(reading.number, (cx, 138), 150, color, center=True, max_width=PANEL_W - 32)
        if refused:
            what = f"? = not a digit ({refused[0].why})"
        elif unsure:
            what = f"unsure: best guess {reading.number} ({reading.confidence:.0%})"
        else:
            what = f"confidence {reading.confidence:.1%}"
            if len(reading.digits) > 1:
                what += " (least sure digit)"
        self.text(f"{slot.label}   {what}", (x, 196), 28 if not refused else 24,
                  BAD if refused else UNSURE if unsure else GOOD, max_width=PANEL_W - 32)
        self.text(f"{reading.latency_ms:.1f} ms per digit (preprocess + models)", (x, 224), 24, DIM)
