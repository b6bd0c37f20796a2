"""apps.recognize.read_canvas: the one reading function of the app, its tests and its scripts.

Behaviour on synthetic canvases (empty, one digit anywhere, touching digits, a dot, letters and
shapes, any canvas size), the pieces it starts from, and the committed drawing sets (they must
be exactly what their seeded generator makes). The full measurements are scripts
(apps/recognition_eval.py, apps/teach_eval.py), not tests.
"""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("cv2")
pytest.importorskip("pygame")

from apps import make_sets, synth  # noqa: E402
from apps.canvas import render  # noqa: E402
from apps.digit_reading import DigitReading, logits_of  # noqa: E402
from apps.explain import explain  # noqa: E402
from apps import recognize  # noqa: E402
from apps.recognize import READER_FILE, Reader, read_canvas  # noqa: E402
from apps import segment as seg  # noqa: E402
from apps.segment import pieces  # noqa: E402
from apps.strokes import digit_strokes, place  # noqa: E402
from nnlite import load_model, zoo  # noqa: E402
from nnlite.errors import InputError  # noqa: E402
from nnlite.preprocess.drawing import drawing_to_mnist  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("NNLITE_APP_MODELS", os.path.join(ROOT, "models"))
HAS_CNN = os.path.exists(os.path.join(MODELS, "cnn.npz"))
HAS_READER = HAS_CNN and os.path.exists(os.path.join(MODELS, READER_FILE))
needs_cnn = pytest.mark.skipif(not HAS_CNN, reason="models/cnn.npz not trained yet")
needs_reader = pytest.mark.skipif(not HAS_READER, reason="models/reader.npz not made yet: "
                                  "python -m apps.reader_train")


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    zoo.build("cnn", seed=0).save(str(folder / "cnn.npz"))
    return str(folder)


def mnist_canvas(x, box, size=448, width=34):
    return render(place(digit_strokes(x), box), width, size)


# -- the contract -----------------------------------------------------------------------------
def test_empty_canvas_reads_nothing(toy_dir):
    assert read_canvas(np.zeros((448, 448), np.uint8), toy_dir) == []
    assert read_canvas(np.zeros((3, 700), np.uint8), toy_dir) == []


def test_bad_canvases_are_input_errors(toy_dir):
    for bad in (np.zeros((10, 10), np.float32), np.zeros((4, 4, 3), np.uint8),
                np.zeros((0, 5), np.uint8)):
        with pytest.raises(InputError):
            read_canvas(bad, toy_dir)


def test_a_dot_is_not_a_digit(toy_dir):
    canvas = render([np.array([[200.0, 150.0]])], 30)
    (reading,) = read_canvas(canvas, toy_dir)
    assert reading.digit is None and reading.why == "a dot"
    assert reading.probs.shape == (10,) and abs(float(reading.probs.sum()) - 1) < 1e-4


@needs_cnn
def test_one_digit_at_any_size_and_place(mnist):
    _, (x_test, y_test) = mnist
    for i, (size, box, width) in enumerate([(448, (0, 0, 448), 34), (448, (300, 10, 90), 8),
                                            (700, (500, 400, 200), 16), (200, (20, 40, 120), 10)]):
        canvas = mnist_canvas(x_test[i], box, size, width)
        (reading,) = read_canvas(canvas, MODELS)
        assert reading.digit == y_test[i], (i, reading)
        x, y, w, h = reading.box
        ink = np.argwhere(canvas > 32)
        assert (y, x) == tuple(ink.min(axis=0)) and (y + h - 1, x + w - 1) == tuple(ink.max(axis=0))
        assert reading.image.shape == (28, 28) and reading.why == ""


@needs_cnn
def test_a_model_object_and_a_model_name_read_alike(mnist):
    _, (x_test, _) = mnist
    canvas = mnist_canvas(x_test[3], (40, 40, 300))
    by_name = read_canvas(canvas, MODELS, "cnn")
    by_object = read_canvas(canvas, MODELS, load_model(os.path.join(MODELS, "cnn.npz")))
    assert [r.digit for r in by_name] == [r.digit for r in by_object]
    np.testing.assert_allclose(by_name[0].probs, by_object[0].probs, atol=1e-6)


@needs_cnn
def test_numbers_are_read_left_to_right(mnist):
    _, (x_test, y_test) = mnist
    idx = [int(np.flatnonzero(y_test == d)[0]) for d in (3, 0, 5)]
    strokes = [s for k, i in enumerate(idx) for s in place(digit_strokes(x_test[i]),
                                                           (20 + 140 * k, 120, 160))]
    readings = read_canvas(render(strokes, 14), MODELS)
    assert [r.digit for r in readings] == [3, 0, 5]
    assert [r.box[0] for r in readings] == sorted(r.box[0] for r in readings)


@needs_reader
def test_touching_digits_are_split():
    rng = np.random.default_rng(3)
    right, pairs = 0, ("10", "47", "23", "85", "61", "72", "39", "04", "56", "98")
    for digits in pairs:
        drawing = synth.number_drawing(digits, "dejavu-sans", rng, touching=True)
        canvas = drawing.render()
        assert len(pieces(canvas)) == 1            # one piece of ink: they do touch
        readings = read_canvas(canvas, MODELS)
        right += "".join(str(r.digit) for r in readings) == digits
    assert right >= len(pairs) // 2                # most are; cutting is not perfect


class _Span:
    """A fake reading: the span's box, and a confidence drawn for that span."""
    def __init__(self, box, confidence):
        self.box, self.confidence = box, confidence


def test_segment_keeps_the_row_of_spans_a_brute_force_search_keeps():
    """The dynamic programme over boundaries against the slow, obviously right search: every
    subset of the boundaries, each span scored by a fixed random confidence."""
    import itertools
    rng = np.random.default_rng(0)
    crop = np.zeros((40, 130), np.uint8)
    for x0 in range(0, 130, 7):                 # ink everywhere, with thin columns between
        crop[5:35, x0:x0 + 5] = 255
    cuts = [0] + seg.boundary_columns(crop) + [130]
    conf = {}

    def confidence(r):
        return conf.setdefault((r.box[0] - 100, r.box[2]), float(rng.uniform(0.01, 1.0)) ** 3)

    def judge(items):
        return [_Span(box, None) for box, _, _ in items]
    readings, log_score = seg._segment(crop, (100, 0), judge, confidence, lambda box: box)
    spans = {}                                  # the spans _segment could use, and their score
    for i, j in itertools.combinations(range(len(cuts)), 2):
        width = cuts[j] - cuts[i]
        if seg.DIGIT_WIDTH[0] * 40 <= width <= seg.DIGIT_WIDTH[1] * 40:
            box = seg.trimmed(crop[:, cuts[i]:cuts[j]], (cuts[i], 0))[0]
            spans[i, j] = np.log(max(confidence(_Span((box[0] + 100,) + box[1:], None)),
                                     seg.FLOOR))
    best = -np.inf
    for k in range(len(cuts) - 1):
        for inner in itertools.combinations(range(1, len(cuts) - 1), k):
            path = (0,) + inner + (len(cuts) - 1,)
            pairs = list(zip(path, path[1:]))
            if all(p in spans for p in pairs):
                best = max(best, sum(spans[p] for p in pairs))
    assert len(readings) >= 2 and np.isfinite(best)
    assert log_score == pytest.approx(best)
    assert [r.box[0] for r in readings] == sorted(r.box[0] for r in readings)


def test_deslant_stands_a_slanted_bar_upright_and_maps_boxes_back():
    crop = np.zeros((60, 60), np.uint8)
    for y in range(60):                         # a bar leaning right: its top is at x = 45
        crop[y, 15 + (59 - y) // 2: 20 + (59 - y) // 2] = 255
    upright, to_crop = seg.deslant(crop)
    cols = np.flatnonzero(upright.max(axis=0) > 127)
    assert cols[-1] - cols[0] <= 8              # upright: about its own width, not 35 columns
    box = seg.ink_box(upright)
    x, y, w, h = to_crop(box)
    assert (y, h) == (0, 60) and x <= 16 and x + w >= 49     # covers the bar as drawn


@needs_cnn
def test_without_the_reader_files_only_dots_are_refused(mnist):
    """No reader files beside the model: the study model reads every piece but a dot."""
    _, (x_test, y_test) = mnist
    reader = Reader(logits_of(load_model(os.path.join(MODELS, "cnn.npz"))), "cnn")
    strokes = place(digit_strokes(x_test[0]), (0, 0, 300)) + [np.array([[400.0, 400.0]])]
    readings = reader.read(render(strokes, 24))
    assert [r.digit for r in readings] == [y_test[0], None]
    assert readings[1].why == "a dot" and readings[0].not_digit is None


class _FixedLogits:
    """A stand-in model whose predict gives every image the same logits."""
    def __init__(self, logits):
        self.logits = np.asarray(logits, np.float32)

    def predict(self, x):
        return np.tile(self.logits, (len(x), 1))


def test_reader_vote_weighs_the_readers_digit_probabilities():
    """probs = (1 - vote) x the study model's + vote x the reader's digit probabilities
    (renormalised over 0-9): vote 0 is the study model alone, vote 1 the reader alone."""
    study = np.full(10, -4.0)
    study[3] = 4.0
    reader_logits = np.full(12, -4.0)
    reader_logits[5], reader_logits[10] = 3.0, 1.0           # a 5, a little "not a digit"
    box, image = (0, 0, 40, 60), np.full((28, 28), 0.5, np.float32)
    crop = np.zeros((60, 40), np.uint8)
    crop[5:55, 18:22] = 255                                  # a stroke, not a dot
    p_study = np.exp(study - study.max())
    p_study /= p_study.sum()
    q = np.exp(reader_logits - reader_logits.max())
    q /= q.sum()
    p_reader = q[:10] / q[:10].sum()
    for vote in (0.0, 0.3, 1.0):
        reader = Reader(logits_of(_FixedLogits(study)), "cnn", _FixedLogits(reader_logits),
                        None, reader_vote=vote)
        [reading] = reader.judge([(box, image, crop)])
        np.testing.assert_allclose(reading.probs, (1 - vote) * p_study + vote * p_reader,
                                   rtol=1e-5, atol=1e-7)
        assert reading.digit == (5 if vote == 1.0 else 3)


def test_split_belief_and_sure_part_decide_when_a_piece_is_cut(monkeypatch):
    """A wide piece is cut only when the reader's "touching digits" belief reaches
    split_belief, and the cut kept only when every digit reads at least sure_part surely."""
    probs = np.eye(10, dtype=np.float32)
    box, image = (0, 0, 120, 60), np.zeros((28, 28), np.float32)
    crop = np.zeros((60, 120), np.uint8)
    whole = DigitReading(None, probs[8], box, image, "not one digit", not_digit=1.0,
                         touching=0.3)
    parts = [DigitReading(8, probs[8], (0, 0, 60, 60), image, not_digit=0.1),
             DigitReading(0, probs[0], (60, 0, 60, 60), image, not_digit=0.7)]
    monkeypatch.setattr(recognize, "segment", lambda *args: (parts, -1.0))
    cases = {(0.5, 0.5): [whole], (0.2, 0.5): [whole], (0.2, 0.25): parts, (0.4, 0.25): [whole]}
    for (belief, sure), expected in cases.items():
        reader = Reader(logits_of(_ColumnLogits(10)), "cnn", split_belief=belief, sure_part=sure)
        assert reader._split((box, image, crop), whole) == expected, (belief, sure)


def test_dev_settings_parse_by_position_and_by_name():
    from apps.segment_dev import DEFAULTS, setting
    assert setting("0.45,0.5,1.1") == {**DEFAULTS, "narrow_digit": 0.45, "widest_span": 1.1}
    assert setting("sure_part=0.25") == {**DEFAULTS, "sure_part": 0.25}
    for bad in ("0.5", "0.5,nope=1", "1,2,3,4,5,6", "sure_part=x"):
        with pytest.raises(Exception, match="bad setting"):
            setting(bad)


class _ColumnLogits:
    """A stand-in model whose logit k is the ink in the image's columns 3k-5 .. 3k-3: it
    tells a leaning bar from an upright one."""
    def __init__(self, classes):
        self.classes = classes

    def predict(self, x):                            # x: (N, 28, 28, 1)
        cols = np.asarray(x)[..., 0].sum(axis=1)
        out = np.zeros((len(cols), self.classes), np.float32)
        for k in range(min(self.classes, 10)):
            out[:, k] = cols[:, max(0, 3 * k - 5):max(0, 3 * k - 2)].sum(axis=1) / 5
        return out


def test_a_leaning_piece_is_also_read_upright():
    """upright_vote u: probs = (1 - u) x the reading as drawn + u x the reading of the piece
    sheared upright (apps.segment.deslant), and the upright image is narrower."""
    crop = np.zeros((120, 90), np.uint8)
    for y in range(10, 110):                         # a bar leaning right, 10 px thick
        x = int(20 + 0.5 * (110 - y))
        crop[y, x:x + 10] = 255
    image = drawing_to_mnist(crop)
    item = ((0, 0, 90, 120), image, crop)
    upright = recognize._upright(image, crop)
    assert (upright.max(axis=0) > 0.5).sum() < (image.max(axis=0) > 0.5).sum()
    readers = [Reader(logits_of(_ColumnLogits(10)), "cnn", upright_vote=u) for u in (0, 1, .4)]
    p0, p1, mixed = (r.judge([item])[0].probs for r in readers)
    assert not np.allclose(p0, p1)
    np.testing.assert_allclose(mixed, 0.6 * p0 + 0.4 * p1, rtol=1e-5, atol=1e-7)


@needs_reader
def test_letters_shapes_and_scribbles_are_refused_digits_are_not():
    nondigits = synth.load_set(os.path.join(make_sets.DATA_DIR, "nondigits.npz"))[:60]
    refused = [any(r.digit is None for r in read_canvas(d.render(), MODELS)) for d in nondigits]
    assert np.mean(refused) >= 0.7
    digits = synth.load_set(os.path.join(make_sets.DATA_DIR, "digits.npz"))[:60]
    right = [[r.digit for r in read_canvas(d.render(), MODELS)] == [int(d.label)]
             for d in digits]
    assert np.mean(right) >= 0.9


# -- pieces, explain, the committed sets ------------------------------------------------
def test_a_detached_stroke_joins_its_digit():
    body = [np.array([[100.0, 100], [100, 300], [180, 300], [180, 200], [110, 200]])]
    bar = [np.array([[190.0, 95], [260, 95]])]      # a 5's top bar, drawn apart
    canvas = render(body + bar, 12)
    found = pieces(canvas)
    assert len(found) == 1
    x, y, w, h = found[0][0]
    assert x <= 94 and x + w >= 266 and found[0][1].shape == (28, 28)


def test_explain_gradients_are_the_engines(tmp_path):
    """d logit / d pixel from the explain view matches finite differences of the model."""
    model = zoo.build("ann", seed=1)
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    e = explain(model, image, expected=3)
    assert e.expected == 3 and set(e.saliency) == {e.predicted, 3}
    for cls in (e.predicted, 3):
        g = e.saliency[cls]
        for (i, j) in [tuple(np.unravel_index(np.abs(g).argmax(), g.shape)), (14, 14)]:
            x1, x2 = image.copy(), image.copy()
            x1[i, j] += 1e-2
            x2[i, j] -= 1e-2
            numeric = (model.predict(x1[None, :, :, None])[0, cls]
                       - model.predict(x2[None, :, :, None])[0, cls]) / 2e-2
            assert abs(numeric - g[i, j]) <= 1e-3 + 2e-2 * abs(g[i, j])
    weighted = [r for r in e.layers if r["grad_weights"] is not None]
    assert [r["type"] for r in weighted] == ["Dense", "Dense", "Dense"]
    assert all(r["grad_in"] > 0 for r in e.layers)


def test_committed_sets_are_what_the_generator_makes(tmp_path):
    made = make_sets.make_sets()
    for name, drawings in made.items():
        synth.save_set(str(tmp_path / f"{name}.npz"), drawings)
        with np.load(tmp_path / f"{name}.npz") as fresh, \
                np.load(os.path.join(make_sets.DATA_DIR, f"{name}.npz")) as committed:
            for key in fresh.files:
                assert np.array_equal(fresh[key], committed[key]), (name, key)
    loaded = synth.load_set(os.path.join(make_sets.DATA_DIR, "numbers.npz"))
    assert [d.label for d in loaded] == [d.label for d in made["numbers"]]
    assert loaded[0].render().shape == (loaded[0].size, loaded[0].size)
