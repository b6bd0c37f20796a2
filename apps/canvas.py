"""The drawing surface: a square uint8 image, white ink on black (as MNIST), built from strokes.

A stroke is a brush width and the list of points the pen passed through. Consecutive points are
joined by thick round-capped lines, so a fast stroke (points far apart) stays continuous. Undo
drops the last stroke and redraws the rest.
"""
import numpy as np

# Pen positions far outside the canvas (a drag that leaves the window, a synthetic event) are
# clamped here before drawing: OpenCV takes int32 coordinates.
FAR = 100_000


class Canvas:
    def __init__(self, size=448):
        self.size = int(size)
        self.image = np.zeros((self.size, self.size), np.uint8)
        self.strokes = []          # [(width, [(x, y), ...])]
        self.drawing = False

    @property
    def blank(self):
        return not self.strokes

    def begin(self, point, width):
        """Start a stroke at ``point`` (canvas pixels, may lie outside) with brush ``width``."""
        point = _clamp(point)
        self.strokes.append((int(width), [point]))
        self.drawing = True
        self._segment(point, point, int(width))

    def extend(self, point):
        """Continue the current stroke to ``point``; no-op if no stroke is in progress."""
        if not self.drawing:
            return
        point = _clamp(point)
        width, points = self.strokes[-1]
        if point != points[-1]:
            self._segment(points[-1], point, width)
            points.append(point)

    def end(self):
        was = self.drawing
        self.drawing = False
        return was

    def undo(self):
        """Remove the last stroke; returns False when there is nothing to undo."""
        if not self.strokes:
            return False
        self.strokes.pop()
        self.drawing = False
        self.image[:] = 0
        for width, points in self.strokes:
            self._segment(points[0], points[0], width)
            for a, b in zip(points[:-1], points[1:]):
                self._segment(a, b, width)
        return True

    def clear(self):
        self.strokes.clear()
        self.drawing = False
        self.image[:] = 0

    def draw(self, strokes, width):
        """Draw each stroke ((K, 2) points, canvas pixels) as the mouse would: begin, extend."""
        for stroke in strokes:
            self.begin(tuple(stroke[0]), width)
            for point in stroke[1:]:
                self.extend(tuple(point))
            self.end()
        return self.image

    def _segment(self, a, b, width):
        import cv2
        if a == b:   # a dot: a filled disc the size of the brush
            cv2.circle(self.image, a, max(width // 2, 1), 255, -1, cv2.LINE_AA)
        else:        # thick OpenCV lines have round caps, so joints stay smooth
            cv2.line(self.image, a, b, 255, max(width, 1), cv2.LINE_AA)


def _clamp(point):
    x, y = point
    return (int(min(max(round(x), -FAR), FAR)), int(min(max(round(y), -FAR), FAR)))


def render(strokes, width, size=448):
    """A fresh ``size`` x ``size`` canvas with ``strokes`` drawn on it -> uint8 (size, size)."""
    return Canvas(size).draw(strokes, width)
