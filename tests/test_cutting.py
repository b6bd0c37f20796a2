"""How the reader cuts a canvas into digits: each piece's crop holds only its own ink, a span
cut from touching digits drops the bits of its neighbours, a narrow 0 is not taken for two 1s,
and a generated number always fits its canvas.
"""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("cv2")
pytest.importorskip("pygame")

from apps import fonts, synth  # noqa: E402
from apps.canvas import render  # noqa: E402
from apps.digit_reading import DigitReading, logits_of  # noqa: E402
from apps.recognize import Reader  # noqa: E402
from apps.segment import pieces, without_edge_bits  # noqa: E402
from nnlite.preprocess.drawing import split_digits  # noqa: E402


def test_split_digits_with_ink_gives_each_digit_only_its_own_ink():
    canvas = np.zeros((100, 200), np.uint8)
    canvas[20:80, 20:70] = 255                   # a block
    canvas[10:90, 100:110] = 255                 # a bar ...
    canvas[85:90, 60:100] = 255                  # ... with a foot reaching under the block
    plain = split_digits(canvas)
    found = split_digits(canvas, with_ink=True)
    assert [(b, i.tolist()) for b, i in plain] == [(b, i.tolist()) for b, i, _ in found]
    for (x, y, w, h), _, ink in found:
        assert ink.shape == (h, w) and ink.dtype == np.uint8
    (block_box, _, block_ink), (bar_box, _, bar_ink) = found
    assert bar_box[0] == 60                      # the bar's box reaches under the block ...
    x, y = block_box[0] - bar_box[0], block_box[1] - bar_box[1]
    inside = bar_ink[max(0, y):y + block_box[3], max(0, x):x + block_box[2]]
    assert inside.max() == 0                     # ... but the block's ink is not in its crop
    assert (bar_ink > 0).sum() == (canvas[10:90, 100:110] > 0).sum() + 5 * 40


def test_a_pieces_crop_is_its_own_ink_not_its_neighbours():
    """An "L" whose foot reaches into the box of the "7" beside it (without touching it): the
    foot is not part of the 7's crop, where a cut would read it as a digit."""
    ell = [np.array([[100.0, 60], [100, 200], [160, 200]])]
    seven = [np.array([[150.0, 60], [230, 60], [180, 200]])]
    canvas = render(ell + seven, 10, 320)
    found = pieces(canvas)
    assert len(found) == 2
    (box0, _, _), (box1, _, crop1) = found
    x, y, w, h = box1
    overlap = box0[0] + box0[2] - x
    assert overlap > 10 and crop1.shape == (h, w)
    assert canvas[y:y + h, x:x + w][-15:, :overlap].max() > 0   # the foot is in the 7's box
    assert crop1[-15:, :overlap].max() == 0                      # but not in its crop


def test_edge_bits_are_dropped_only_at_a_cut_and_only_when_small():
    span = np.zeros((60, 40), np.uint8)
    span[5:55, 15:25] = 255                      # the digit
    span[28:34, 0:4] = 255                       # a tick of the left neighbour
    span[2:58, 36:40] = 255                      # a tall stroke at the right: a whole "1"
    kept = without_edge_bits(span, True, True, share=0.1)
    assert kept[28:34, 0:4].max() == 0           # small and at a cut: dropped
    assert kept[2:58, 36:40].min() == 255        # as tall as the span: kept
    assert np.array_equal(kept[:, 10:30], span[:, 10:30])
    assert np.array_equal(without_edge_bits(span, False, True, share=0.1), span)  # no left cut
    assert np.array_equal(without_edge_bits(span, True, True, share=0.0), span)   # switched off
    assert np.array_equal(without_edge_bits(span, True, True, share=0.001), span)  # too big


def test_a_narrow_zero_is_not_squeezed_when_narrow_zero_is_set():
    """The span score squeezes digits narrower than narrow_digit x height (half of a 6 reads
    as a 5); 1 is exempt, and with narrow_zero a tall narrow 0 is too."""
    probs = np.eye(10, dtype=np.float32)
    image = np.zeros((28, 28), np.float32)

    def reading(digit):
        return DigitReading(digit, probs[digit], (0, 0, 20, 100), image)
    for narrow_zero, zero_score in ((0, (20 / 55) ** 2 * 0.5), (1, 0.5)):
        reader = Reader(logits_of(None), "cnn", narrow_zero=narrow_zero)
        score = reader._span_score_of(100)
        assert score(reading(0)) == pytest.approx(zero_score)
        assert score(reading(1)) == pytest.approx(0.5)
        assert score(reading(5)) == pytest.approx((20 / 55) ** 2 * 0.5)


def test_generated_numbers_fit_their_canvas():
    """Wide glyphs and gaps used to push a number's last digits off the canvas, where no
    one can draw; the generator now shrinks such a number to fit."""
    drawings = synth.numbers_set(fonts.EVAL_FONTS, 120, 7) + \
        synth.numbers_set(fonts.DEV_FONTS, 120, 8)
    for d in drawings:
        points = np.vstack(d.strokes)
        assert points.min() - d.brush / 2 >= 0 and points.max() + d.brush / 2 <= d.size, d.kind
