"""Drawing the app's window with pygame: canvas, buttons, prediction, bars, model input,
feature maps. Pure presentation: it reads the ``App``'s state and never changes it, except for
returning the clickable buttons (``buttons``) that ``App.handle`` hit-tests.

Layout (1000 x 680): model buttons across the top; the 448 x 448 canvas on the left with the
action buttons and the status line under it; on the right the reading (number, confidence,
latency), the 28x28 images the model sees, and the ten probability bars (or, with F, the
CNN's first- and second-block feature maps).
"""
import numpy as np

WINDOW = (1000, 680)
CANVAS_POS = (16, 64)
PANEL_X, PANEL_W, PANEL_H = 484, 500, 532
STATUS_Y = 608     # status line and key help under everything, full width

BG = (24, 26, 32)
PANEL = (38, 41, 50)
TEXT = (232, 232, 236)
DIM = (150, 154, 166)
ACCENT = (86, 164, 255)
GOOD = (96, 206, 130)
UNSURE = (255, 172, 64)
BAD = (240, 92, 92)

HELP = ("mouse: draw   right click: clear   C clear   Z undo   [ ] brush   "
        "1-{n} model   F feature maps   S save   Esc quit")


class View:
    def __init__(self, screen, canvas_size):
        import pygame
        self.pg = pygame
        self.screen = screen
        self.canvas_rect = pygame.Rect(CANVAS_POS, (canvas_size, canvas_size))
        self.fonts = {size: pygame.font.Font(None, size) for size in (20, 24, 28, 34, 48, 150)}

    # -- hit-testing ----------------------------------------------------------------------------
    def buttons(self, app):
        """[(rect, action, label)] for every clickable button in the current state."""
        rect = self.pg.Rect
        out, x = [], 16
        for i, slot in enumerate(app.slots):
            width = 34 + 11 * len(slot.label)
            out.append((rect(x, 14, width, 36), f"model:{i}", f"{i + 1} {slot.label}"))
            x += width + 8
        y = self.canvas_rect.bottom + 12
        x = self.canvas_rect.left
        for action, label, width in (("clear", "Clear (C)", 100), ("undo", "Undo (Z)", 96),
                                     ("save", "Save (S)", 92), ("features", "Features (F)", 128)):
            out.append((rect(x, y, width, 32), action, label))
            x += width + 8
        return out

    # -- drawing ----------------------------------------------------------------------------------
    def draw(self, app):
        self.screen.fill(BG)
        self._buttons(app)
        self._canvas(app)
        self._status(app)
        self.pg.draw.rect(self.screen, PANEL, (PANEL_X, 64, PANEL_W, PANEL_H), border_radius=8)
        reading = app.reading
        self._headline(app, reading)
        if app.show_features:
            self._feature_maps(app)
        elif reading is not None:
            self._inputs(reading, app.focus)
            self._bars(reading, app.focus)

    def _text(self, text, pos, size=24, color=TEXT, center=False, max_width=None,
              anchor="topleft"):
        surf = self.fonts[size].render(text, True, color)
        if max_width and surf.get_width() > max_width:
            scale = max_width / surf.get_width()
            surf = self.pg.transform.smoothscale(
                surf, (int(surf.get_width() * scale), max(1, int(surf.get_height() * scale))))
        rect = surf.get_rect(**{"center" if center else anchor: pos})
        self.screen.blit(surf, rect)
        return rect

    def _wrap(self, text, size, width):
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

    def _buttons(self, app):
        for rect, action, label in self.buttons(app):
            active = False
            color = TEXT
            if action.startswith("model:"):
                slot = app.slots[int(action.split(":")[1])]
                active = slot is app.slot
                color = BAD if slot.error else TEXT
                if slot.error:
                    label += "  x"
            elif action == "features":
                active = app.show_features
            fill = ACCENT if active else PANEL
            self.pg.draw.rect(self.screen, fill, rect, border_radius=6)
            self._text(label, rect.center, 24, BG if active else color, center=True)
        self._text(f"brush {app.brush} px   ([ ] to change)", (WINDOW[0] - 16, 32), 24, DIM,
                   anchor="midright")

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
        for i, (bbox, _) in enumerate(reading.digits):
            x, y, w, h = bbox
            box = pg.Rect(self.canvas_rect.left + x - 4, self.canvas_rect.top + y - 4, w + 8, h + 8)
            box = box.clip(self.canvas_rect)
            color = UNSURE if reading.probs[i].max() < app.unsure_below else GOOD
            pg.draw.rect(self.screen, color, box, 3 if i == app.focus else 1)
            if len(reading.digits) > 1:
                self._text(str(reading.labels[i]), (box.left, box.top - 20), 24, color)

    def _status(self, app):
        y = STATUS_Y
        if app.message:
            text, level = app.message
            color = {"error": BAD, "info": ACCENT}.get(level, TEXT)
            self._text(text, (16, y), 24, color, max_width=WINDOW[0] - 32)
        self._text(HELP.format(n=len(app.slots)), (16, y + 32), 20, DIM, max_width=WINDOW[0] - 32)

    def _headline(self, app, reading):
        x, cx = PANEL_X + 16, PANEL_X + PANEL_W // 2
        slot = app.slot
        if slot.error:
            self._text(f"{slot.label} unavailable", (cx, 130), 48, BAD, center=True)
            for i, line in enumerate(self._wrap(slot.error, 24, PANEL_W - 40)[:6]):
                self._text(line, (x, 180 + 26 * i), 24, BAD)
            return
        if not slot.ready:
            self._text(f"loading {slot.label}...", (cx, 140), 48, DIM, center=True)
            return
        if reading is None:
            self._text("draw a digit", (cx, 140), 48, DIM, center=True)
            return
        unsure = reading.confidence < app.unsure_below
        self._text(reading.number, (cx, 138), 150, UNSURE if unsure else TEXT, center=True,
                   max_width=PANEL_W - 32)
        if unsure:
            what = f"unsure: best guess {reading.number} ({reading.confidence:.0%})"
        else:
            what = f"confidence {reading.confidence:.1%}"
            if len(reading.digits) > 1:
                what += " (least sure digit)"
        self._text(f"{slot.label}   {what}", (x, 196), 28, UNSURE if unsure else GOOD)
        self._text(f"{reading.latency_ms:.1f} ms per digit (preprocess + model)", (x, 224), 24, DIM)

    def _inputs(self, reading, focus):
        """The 28x28 images the model reads, magnified, with each one's guess under it."""
        n = len(reading.digits)
        x0, y0 = PANEL_X + 16, 276
        self._text("what the model sees (28x28)", (x0, 256), 20, DIM)
        scale = max(1, min(4, (PANEL_W - 32 - 6 * (n - 1)) // (28 * n)))
        side = 28 * scale
        for i, (_, image) in enumerate(reading.digits):
            gray = (np.clip(image, 0, 1) * 255).astype(np.uint8)
            big = np.repeat(np.repeat(gray, scale, 0), scale, 1)
            rgb = np.ascontiguousarray(np.repeat(big[:, :, None], 3, axis=2))
            surf = self.pg.image.frombuffer(rgb.tobytes(), (side, side), "RGB")
            pos = (x0 + i * (side + 6), y0)
            self.screen.blit(surf, pos)
            if n > 1 and i == focus:
                frame = (pos[0] - 2, pos[1] - 2, side + 4, side + 4)
                self.pg.draw.rect(self.screen, ACCENT, frame, 2)

    def _bars(self, reading, focus):
        probs = reading.probs[focus]
        x0, base, height = PANEL_X + 16, 566, 130
        label = "probabilities" + (f" (digit {focus + 1} of {len(reading.digits)})"
                                   if len(reading.digits) > 1 else "")
        self._text(label, (x0, 400), 20, DIM)
        bar_w, gap = 40, 7
        best = int(probs.argmax())
        for d in range(10):
            x = x0 + d * (bar_w + gap)
            h = int(round(probs[d] * height))
            color = ACCENT if d == best else DIM
            self.pg.draw.rect(self.screen, (60, 64, 76), (x, base - height, bar_w, height))
            if h:
                self.pg.draw.rect(self.screen, color, (x, base - h, bar_w, h))
            self._text(str(d), (x + bar_w // 2, base + 14), 28, TEXT, center=True)
            if probs[d] >= 0.005:
                self._text(f"{probs[d]:.0%}" if probs[d] >= 0.1 else f"{probs[d]:.1%}",
                           (x + bar_w // 2, base - h - 10), 20, TEXT, center=True)

    def _feature_maps(self, app):
        x0, y = PANEL_X + 16, 256
        if app.features_error:
            self._text(app.features_error, (x0, y), 24, BAD, max_width=PANEL_W - 32)
            return
        if not app.features:
            self._text("feature maps appear when you draw", (x0, y), 24, DIM)
            return
        if app.reading is not None:      # the input beside the first block's maps
            image = app.reading.digits[app.focus][1]
            gray = np.repeat(np.repeat((np.clip(image, 0, 1) * 255).astype(np.uint8), 4, 0), 4, 1)
            rgb = np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
            self._text("input", (PANEL_X + PANEL_W - 128, y), 20, DIM)
            self.screen.blit(self.pg.image.frombuffer(rgb.tobytes(), (112, 112), "RGB"),
                             (PANEL_X + PANEL_W - 128, y + 20))
        for block, (name, maps) in enumerate(app.features):
            c, h, w = maps.shape
            cols = 8 if c <= 32 else 16
            rows = -(-c // cols)
            cell = max(1, min(40, (PANEL_W - 32 - (cols - 1) * 2) // cols))
            self._text(f"block {block + 1} ({name}): {c} maps {h}x{w}", (x0, y), 20, DIM)
            y += 20
            tiles = _colour_maps(maps, cell)
            for k in range(c):
                r, q = divmod(k, cols)
                surf = self.pg.image.frombuffer(tiles[k].tobytes(), (cell, cell), "RGB")
                self.screen.blit(surf, (x0 + q * (cell + 2), y + r * (cell + 2)))
            y += rows * (cell + 2) + 10


def _colour_maps(maps, cell):
    """Each (H, W) map scaled to its own max, resized to cell x cell, viridis-coloured RGB."""
    import cv2
    peak = maps.reshape(len(maps), -1).max(axis=1)
    scaled = np.clip(maps / np.maximum(peak, 1e-6)[:, None, None], 0, 1)
    tiles = []
    for m in scaled:
        gray = cv2.resize((m * 255).astype(np.uint8), (cell, cell), interpolation=cv2.INTER_NEAREST)
        bgr = cv2.applyColorMap(gray, cv2.COLORMAP_VIRIDIS)
        tiles.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    return tiles
