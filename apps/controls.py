"""How the drawing app is driven: pygame's mouse and key events, turned into ``App``'s actions.

``Controls`` is the part of ``apps.draw.App`` that handles events: the left button draws (or
presses a button, or selects a digit's thumbnail), the right button clears, and keys go to
the open prompt (save, teach), the explain view's expected class, or an action.
"""


class Controls:
    """Mixed into ``App``: ``handle(event)`` and what it calls. Uses the App's state (canvas,
    view, slots, prompts) and its actions (``do``, ``select_digit``, ``set_brush``, ``read``)."""

    # -- events ------------------------------------------------------------------------------
    def handle(self, event):
        pg = self.pg
        if event.type == pg.QUIT:
            self.running = False
        elif event.type == pg.MOUSEBUTTONDOWN:
            self._mouse_down(event)
        elif event.type == pg.MOUSEMOTION:
            if self.canvas.drawing:
                if getattr(event, "buttons", (1,))[0]:
                    self.canvas.extend(self._to_canvas(event.pos))
                    self.dirty = True
                else:    # the button came up where we could not see it (outside the window)
                    self._end_stroke()
        elif event.type == pg.MOUSEBUTTONUP:
            if event.button == 1:
                self._end_stroke()
        elif event.type == pg.KEYDOWN:
            self._key(event)

    def _to_canvas(self, pos):
        return pos[0] - self.view.canvas_rect.left, pos[1] - self.view.canvas_rect.top

    def _mouse_down(self, event):
        if event.button == 3:
            self.do("clear")
            return
        if event.button != 1:
            return
        for rect, action, _ in self.view.buttons(self):
            if rect.collidepoint(event.pos):
                self.do(action)
                return
        for rect, index in self.view.thumbnails(self):
            if rect.collidepoint(event.pos):
                self.select_digit(index)
                return
        if self.view.canvas_rect.collidepoint(event.pos):
            self.focus_pinned = False
            if self.saving.labels is not None:    # drawing again closes the save prompt
                self.saving.cancel()
            self.canvas.begin(self._to_canvas(event.pos), self.brush)
            self.dirty = True

    def _end_stroke(self):
        if self.canvas.end():
            self.read()

    def _key(self, event):
        pg, key = self.pg, event.key
        digit = _digit_of(pg, key)
        if self.saving.labels is not None:      # the save prompt takes digits, Enter, Esc
            self.saving.key(key, digit)
            return
        if self.teaching.state == "asking":      # the teach prompt takes one digit, or Esc
            if digit is not None:
                self.teaching.start(digit)
            elif key == pg.K_ESCAPE:
                self.teaching.cancel()
            return
        if self.panel == "explain" and digit is not None:   # the class the user expected
            self.explainer.choose(digit)
            return
        actions = {pg.K_c: "clear", pg.K_z: "undo", pg.K_f: "features", pg.K_e: "explain",
                   pg.K_t: "teach", pg.K_s: "save"}
        if digit is not None and 1 <= digit <= len(self.slots):
            self.do(f"model:{digit - 1}")
        elif key in actions:
            self.do(actions[key])
        elif key in (pg.K_LEFTBRACKET, pg.K_RIGHTBRACKET):
            step = max(2, self.brush // 6)
            self.set_brush(self.brush + (step if key == pg.K_RIGHTBRACKET else -step))
        elif key in (pg.K_ESCAPE, pg.K_q):
            self.running = False


def _digit_of(pg, key):
    if pg.K_0 <= key <= pg.K_9:
        return key - pg.K_0
    keypad = [pg.K_KP0, pg.K_KP1, pg.K_KP2, pg.K_KP3, pg.K_KP4, pg.K_KP5, pg.K_KP6, pg.K_KP7,
              pg.K_KP8, pg.K_KP9]
    return keypad.index(key) if key in keypad else None
