"""The right panel's four faces, drawn with a ``View``'s helpers (text, blit_gray):

    inputs + bars   the 28x28 images the model reads (clickable in a number) and the ten
                    probabilities of the selected digit
    feature_maps    the CNN's first- and second-block feature maps (F)
    explain         input gradients of the predicted and the expected class, and per-layer
                    gradient norms of one backward pass (E; ``apps.explain``)
    teach           the drawing's probabilities before -> after and its loss falling, step by
                    step (T; ``apps.teach``)
"""
import numpy as np

PANEL_X, PANEL_W, PANEL_H = 484, 500, 532
BG = (24, 26, 32)
PANEL = (38, 41, 50)
TEXT = (232, 232, 236)
DIM = (150, 154, 166)
ACCENT = (86, 164, 255)
GOOD = (96, 206, 130)
UNSURE = (255, 172, 64)
BAD = (240, 92, 92)
TRACK = (60, 64, 76)
LOG_RANGE = (-4.0, 3.0)     # gradient norms drawn on a log10 scale over this range


def thumbnail_rects(view, app):
    """[(rect, index)] of the digits' 28x28 thumbnails: under the reading in the reading
    panel, a strip at the top right in the explain and teach panels."""
    n = len(app.reading.digits)
    if app.panel == "reading":
        scale = max(1, min(4, (PANEL_W - 32 - 6 * (n - 1)) // (28 * n)))
        side, x0, y0 = 28 * scale, PANEL_X + 16, 276
    else:
        scale = 2 if n <= 5 else 1
        side, y0 = 28 * scale, 72
        x0 = PANEL_X + PANEL_W - 12 - n * (side + 4)
    return [(view.pg.Rect(x0 + i * (side + 6), y0, side, side), i) for i in range(n)]


def _thumbnails(view, app):
    for rect, i in view.thumbnails(app):
        view.blit_gray(app.reading.digits[i].image, rect.topleft, rect.width // 28)
        if i == app.focus:
            view.pg.draw.rect(view.screen, ACCENT, rect.inflate(4, 4), 2)


# -- the reading panel ---------------------------------------------------------------------------
def inputs(view, app):
    """The 28x28 images the model reads, magnified; in a number, click one to select it."""
    reading = app.reading
    view.text("what the model sees (28x28)" + ("; click one to select it"
              if len(reading.digits) > 1 else ""), (PANEL_X + 16, 256), 20, DIM)
    if len(reading.digits) > 1:
        _thumbnails(view, app)
    else:
        view.blit_gray(reading.digits[0].image, (PANEL_X + 16, 276), 4)


def reading_bars(view, reading, focus):
    """The probabilities of the selected digit."""
    n = len(reading.digits)
    label = "probabilities" + (f" (digit {focus + 1} of {n})" if n > 1 else "")
    if reading.digits[focus].digit is None:
        label = "the model's probabilities, unused: " + ("this is" if n == 1 else "that piece "
                                                         "is") + " not a digit"
    bars(view, reading.probs[focus], label=label)


def bars(view, probs, before=None, top=400, label="probabilities"):
    """Ten probability bars; ``before``: earlier probabilities, drawn as outlines over the
    bars (the teach view's before -> after)."""
    x0, base, height = PANEL_X + 16, top + 166, 130
    view.text(label, (x0, top), 20, DIM)
    bar_w, gap = 40, 7
    best = int(probs.argmax())
    for d in range(10):
        x = x0 + d * (bar_w + gap)
        h = int(round(probs[d] * height))
        view.pg.draw.rect(view.screen, TRACK, (x, base - height, bar_w, height))
        if h:
            view.pg.draw.rect(view.screen, ACCENT if d == best else DIM, (x, base - h, bar_w, h))
        if before is not None:
            hb = int(round(before[d] * height))
            view.pg.draw.rect(view.screen, UNSURE, (x - 2, base - hb - 1, bar_w + 4, hb + 2), 2)
        view.text(str(d), (x + bar_w // 2, base + 14), 28, TEXT, center=True)
        if probs[d] >= 0.005:
            view.text(f"{probs[d]:.0%}" if probs[d] >= 0.1 else f"{probs[d]:.1%}",
                      (x + bar_w // 2, base - h - 10), 20, TEXT, center=True)


# -- feature maps (F) ----------------------------------------------------------------------------
def feature_maps(view, app):
    x0, y = PANEL_X + 16, 256
    if app.features_error:
        view.text(app.features_error, (x0, y), 24, BAD, max_width=PANEL_W - 32)
        return
    if not app.features:
        view.text("feature maps appear when you draw", (x0, y), 24, DIM)
        return
    if app.reading is not None:      # the input beside the first block's maps
        view.text("input", (PANEL_X + PANEL_W - 128, y), 20, DIM)
        view.blit_gray(app.reading.digits[app.focus].image, (PANEL_X + PANEL_W - 128, y + 20), 4)
    for block, (name, maps) in enumerate(app.features):
        c, h, w = maps.shape
        cols = 8 if c <= 32 else 16
        rows = -(-c // cols)
        cell = max(1, min(40, (PANEL_W - 32 - (cols - 1) * 2) // cols))
        view.text(f"block {block + 1} ({name}): {c} maps {h}x{w}", (x0, y), 20, DIM)
        y += 20
        tiles = _colour_maps(maps, cell)
        for k in range(c):
            r, q = divmod(k, cols)
            surf = view.pg.image.frombuffer(tiles[k].tobytes(), (cell, cell), "RGB")
            view.screen.blit(surf, (x0 + q * (cell + 2), y + r * (cell + 2)))
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


# -- explain (E) ---------------------------------------------------------------------------------
def _saliency_rgb(grad, image, peak, scale=4):
    """Red where more ink raises the class's logit, blue where it lowers it (both scaled by
    ``peak``), over the drawing in faint grey."""
    v = np.clip(grad / max(peak, 1e-12), -1, 1)
    base = 70 * np.clip(image, 0, 1)
    rgb = np.stack([base + 185 * np.maximum(v, 0), base + 40 * np.abs(v),
                    base + 185 * np.maximum(-v, 0)], axis=2)
    rgb = np.repeat(np.repeat(np.clip(rgb, 0, 255).astype(np.uint8), scale, 0), scale, 1)
    return np.ascontiguousarray(rgb)


def explain(view, app):
    x0, mode = PANEL_X + 16, app.explainer
    if app.reading is None or mode.result is None:
        view.text("explain: why did it say that?", (x0, 80), 34, TEXT)
        view.text(mode.error or "draw a digit to see which pixels pushed the answer",
                  (x0, 124), 24, BAD if mode.error else DIM, max_width=PANEL_W - 32)
        return
    e, digit = mode.result, app.reading.digits[app.focus]
    if len(app.reading.digits) > 1:
        _thumbnails(view, app)
    title = (f"why {e.predicted}?  ({e.probs[e.predicted]:.0%})" if digit.digit is not None
             else f"not a digit; the model's guess: {e.predicted}")
    view.text(title, (x0, 76), 34, TEXT if digit.digit is not None else BAD)
    chosen = "you chose" if mode.expected is not None else "runner-up; type 0-9 to choose"
    view.text(f"expected {e.expected} ({chosen}): p = {e.probs[e.expected]:.1%}", (x0, 134), 24,
              UNSURE)
    peak = max(np.abs(g).max() for g in e.saliency.values())
    y = 160
    for k, (caption, rgb) in enumerate((
            ("input", np.ascontiguousarray(np.repeat(np.repeat(np.repeat(
                (np.clip(digit.image, 0, 1) * 255).astype(np.uint8)[:, :, None], 3, 2),
                4, 0), 4, 1))),
            (f"d logit {e.predicted} / d pixel", _saliency_rgb(e.saliency[e.predicted],
                                                              digit.image, peak)),
            (f"d logit {e.expected} / d pixel", _saliency_rgb(e.saliency[e.expected],
                                                             digit.image, peak)))):
        x = x0 + k * 158
        view.text(caption, (x, y), 20, DIM)
        view.screen.blit(view.pg.image.frombuffer(rgb.tobytes(), (112, 112), "RGB"), (x, y + 18))
    view.text("red: more ink there raises that class's score; blue: lowers it", (x0, y + 134),
              20, DIM)
    _layer_norms(view, e, y + 158)


def _layer_norms(view, e, top):
    x0 = PANEL_X + 16
    view.text(f"one backward pass of the loss for {e.expected} (cross-entropy {e.loss:.2f}): "
              "gradient norms", (x0, top), 20, TEXT, max_width=PANEL_W - 32)
    view.text("layers with weights, input first: |dL/d its input| grey, |dL/d its weights| blue;"
              " log scale 1e-4 .. 1e3", (x0, top + 18), 18, DIM, max_width=PANEL_W - 32)
    rows = [("pixels", e.layers[0]["grad_in"], None)] + [
        (r["name"], r["grad_in"], r["grad_weights"]) for r in e.layers if r["grad_weights"]]
    row_h = max(10, min(22, (PANEL_H + 64 - top - 64) // len(rows)))
    bar_x, bar_w = x0 + 150, PANEL_W - 32 - 150
    lo, hi = LOG_RANGE
    for i, (name, grad_in, grad_weights) in enumerate(rows):
        y = top + 38 + i * row_h
        view.text(name[:22], (x0, y + row_h // 2), 18, DIM, anchor="midleft")
        for value, color, dy in ((grad_in, DIM, 0), (grad_weights, ACCENT, row_h // 2)):
            if value:
                frac = (np.log10(value) - lo) / (hi - lo)
                width = int(np.clip(frac, 0.01, 1) * bar_w)
                view.pg.draw.rect(view.screen, color,
                                  (bar_x, y + dy, width, max(2, row_h // 2 - 2)))
    view.text(f"explained in {e.ms:.1f} ms (two backward passes through the engine)",
              (x0, PANEL_H + 64 - 22), 20, DIM)


# -- teach (T) -----------------------------------------------------------------------------------
def teach(view, app):
    x0, mode = PANEL_X + 16, app.teaching
    if app.reading is not None and len(app.reading.digits) > 1:
        _thumbnails(view, app)
    if mode.state in ("idle", "asking") or mode.teacher is None:
        view.text("teach: what should it have said?", (x0, 80), 34, TEXT)
        lines = ["type the right digit (0-9) for the selected drawing; Esc cancels",
                 "the model takes a few Adam steps on it, mixed with your saved drawings and a "
                 "replay sample of MNIST, and is saved to a new file (models/ is never changed)"]
        y = 124
        for line in lines:
            for part in view.wrap(line, 24, PANEL_W - 32):
                view.text(part, (x0, y), 24, DIM)
                y += 26
        if app.reading is not None:
            view.blit_gray(app.reading.digits[app.focus].image, (x0, y + 12), 4)
        return
    t = mode.teacher
    view.text(f"teaching: this is a {mode.label}", (x0, 76), 34, TEXT)
    view.blit_gray(mode.image, (x0, 112), 3)
    view.text(f"p({mode.label})  {t.before[mode.label]:.1%} -> {t.after[mode.label]:.1%}",
              (x0 + 100, 116), 28, GOOD if t.after.argmax() == mode.label else UNSURE)
    step_ms = f"{np.median(mode.step_ms):.0f} ms per step" if mode.step_ms else ""
    view.text(f"step {len(t.batch_losses)} (stops at p >= 90% or step {t.steps})   {step_ms}",
              (x0 + 100, 148), 24, DIM, max_width=PANEL_W - 132)
    if mode.state == "done" and mode.path:
        view.text(f"saved {mode.path}", (x0 + 100, 174), 24, GOOD, max_width=PANEL_W - 132)
    bars(view, t.after, before=t.before, top=204,
         label="probabilities of this drawing: before (orange outline) -> after (bars)")
    _loss_curve(view, t, top=420)


def _loss_curve(view, t, top, height=120):
    """The drawing's loss after every step so far (x: steps, up to the most there can be)."""
    x0, width = PANEL_X + 16, PANEL_W - 32
    view.text("loss of this drawing, falling step by step (grey: the whole batch)", (x0, top),
              20, DIM)
    y0 = top + 22
    view.pg.draw.rect(view.screen, TRACK, (x0, y0, width, height), 1)
    peak = max(max(t.losses), max(t.batch_losses, default=0), 1e-6)

    def points(values, start):
        n = max(len(t.losses) - 1, 8)
        return [(x0 + 6 + (start + i) * (width - 12) / n,
                 y0 + height - 4 - v / peak * (height - 8)) for i, v in enumerate(values)]
    for values, start, color in ((t.batch_losses, 1, DIM), (t.losses, 0, ACCENT)):
        pts = points(values, start)
        if len(pts) > 1:
            view.pg.draw.lines(view.screen, color, False, pts, 2)
        for p in pts:
            view.pg.draw.circle(view.screen, color, (int(p[0]), int(p[1])), 3)
    view.text(f"{t.losses[0]:.3f} -> {t.losses[-1]:.3f}", (x0 + width - 8, y0 + 4), 20, TEXT,
              anchor="topright")
