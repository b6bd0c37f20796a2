"""apps.span_samples: the reader's training spans, labelled by how much of each digit they cover."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("cv2")
pytest.importorskip("pygame")

from apps import fonts  # noqa: E402
from apps.recognize import NOT_A_DIGIT, TOUCHING  # noqa: E402
from apps.span_samples import span_kind, span_samples, touching_number  # noqa: E402


def test_a_span_is_labelled_by_the_digits_it_covers():
    extents = [(0.0, 100.0), (100.0, 200.0), (200.0, 260.0)]
    assert span_kind(0, 100, extents, "271") == ("digit", 0)
    assert span_kind(-5, 104, extents, "271") == ("digit", 0)       # 4 % of the 7: a stray bit
    assert span_kind(50, 150, extents, "271") == ("straddle", None)
    assert span_kind(100, 230, extents, "271") == ("straddle", None)
    assert span_kind(0, 40, extents, "271") == ("fragment", None)
    assert span_kind(0, 40, extents, "171") == (None, None)          # a piece of a 1 is a 1
    assert span_kind(0, 75, extents, "271") == (None, None)          # most of a 2: ambiguous
    assert span_kind(0, 100, extents[:1], "2") == ("digit", 0)


def test_touching_numbers_know_where_each_digit_is():
    rng = np.random.default_rng(3)
    for use_mnist in (False, True):
        x = np.zeros((1, 28, 28), np.uint8)
        x[0, 4:24, 12:16] = 255                         # a traced MNIST-like 1
        drawing, extents, label = touching_number(rng, x, np.array([1]), fonts.PACKAGED_TRAIN_FONTS,
                                                  use_mnist, 1)
        assert len(extents) == len(label) in (2, 3)
        lefts = [a for a, _ in extents]
        assert lefts == sorted(lefts)
        ink = np.flatnonzero(drawing.render().max(axis=0) > 127)   # the brush edge: half ink
        assert extents[0][0] <= ink[0] + 1 and extents[-1][1] >= ink[-1] - 1


def test_span_samples_are_mnist_images_with_reader_labels_and_repeat():
    rng = np.random.default_rng(0)
    x = (rng.random((20, 28, 28)) > 0.8).astype(np.uint8) * 255
    y = rng.integers(0, 10, 20)
    a = span_samples(x, y, 12, fonts.PACKAGED_TRAIN_FONTS, seed=4,
                     per_number={"digit": 1, "straddle": 2, "fragment": 1}, mnist_limit=20)
    b = span_samples(x, y, 12, fonts.PACKAGED_TRAIN_FONTS, seed=4,
                     per_number={"digit": 1, "straddle": 2, "fragment": 1}, mnist_limit=20)
    images, labels = a
    assert images.shape[1:] == (28, 28) and images.dtype == np.float32
    assert len(images) == len(labels) > 0
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(labels.tolist()) <= set(range(10)) | {NOT_A_DIGIT, TOUCHING}
    assert TOUCHING in labels                          # touching numbers do straddle
    np.testing.assert_array_equal(images, b[0])
    np.testing.assert_array_equal(labels, b[1])
