"""Let the app draw by itself: strokes traced from MNIST test digits, turned into the same
mouse events a person would produce (button down, motions, button up).

    strokes, brush = number_strokes("2026", x_test, y_test, canvas_size=448, seed=0)
    app.set_brush(brush)
    app.play(stroke_events(strokes, app.view.canvas_rect.topleft))  # a few events per frame
"""
import numpy as np

from .strokes import digit_strokes, number_boxes, place

MNIST_STROKE_PX = 2.2   # MNIST's median stroke width in its 28-px frame


def pick_examples(digits, y_test, seed=0):
    """One test-set index per character of ``digits`` (a string of 0-9), chosen at random
    (no filtering on whether a model reads it correctly); seed=None: the first test digit of
    each class."""
    if seed is None:
        return [int(np.flatnonzero(y_test == int(ch))[0]) for ch in digits]
    rng = np.random.default_rng(seed)
    return [int(rng.choice(np.flatnonzero(y_test == int(ch)))) for ch in digits]


def number_strokes(digits, x_test, y_test, canvas_size, seed=0):
    """Canvas-coordinate strokes writing ``digits`` left to right, and the brush width that
    gives them MNIST's stroke width -> (list of (K, 2) arrays, brush px)."""
    indices = pick_examples(digits, y_test, seed)
    boxes = number_boxes(len(digits), canvas_size)
    strokes = [s for i, box in zip(indices, boxes) for s in place(digit_strokes(x_test[i]), box)]
    brush = int(round(MNIST_STROKE_PX * boxes[0][2] / 28))
    return strokes, max(brush, 2)


def stroke_events(strokes, offset=(0, 0)):
    """pygame events drawing ``strokes`` (canvas coordinates) on a canvas whose top-left corner
    is at ``offset`` in the window: per stroke one MOUSEBUTTONDOWN, MOUSEMOTIONs, MOUSEBUTTONUP."""
    import pygame
    ox, oy = offset
    events = []
    for stroke in strokes:
        pts = [(int(round(x + ox)), int(round(y + oy))) for x, y in stroke]
        events.append(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pts[0], button=1))
        prev = pts[0]
        for p in pts[1:]:
            events.append(pygame.event.Event(pygame.MOUSEMOTION, pos=p, buttons=(1, 0, 0),
                                             rel=(p[0] - prev[0], p[1] - prev[1])))
            prev = p
        events.append(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pts[-1], button=1))
    return events
