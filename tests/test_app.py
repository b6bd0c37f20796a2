"""The drawing app, headless: every test drives the real App by posting pygame events
(button down / motion / up with ``pos``, key presses) and letting the app handle its queue.
"""
import os

os.environ["SDL_VIDEODRIVER"] = "dummy"     # before pygame initialises: no window needed
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pygame = pytest.importorskip("pygame")
pytest.importorskip("cv2")

from apps.cli import main  # noqa: E402
from apps.demo import number_strokes, stroke_events  # noqa: E402
from apps.draw import App  # noqa: E402
from apps.strokes import digit_strokes, place  # noqa: E402
from nnlite import zoo  # noqa: E402
from nnlite.commands.evaluate import read_labelled_pngs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the committed models; NNLITE_APP_MODELS points the accuracy tests at another folder
MODELS = os.environ.get("NNLITE_APP_MODELS", os.path.join(ROOT, "models"))
HAS_CNN = os.path.exists(os.path.join(MODELS, "cnn.npz"))
needs_cnn = pytest.mark.skipif(not HAS_CNN, reason="models/cnn.npz not trained yet")


# -- driving the app ----------------------------------------------------------------------------
def post(app, events, chunk=200):
    """Post events into pygame's queue and let the app handle them, in chunks."""
    for i in range(0, len(events), chunk):
        for event in events[i:i + chunk]:
            assert pygame.event.post(event)
        app.pump()


def key(app, k, mod=0):
    post(app, [pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="")])


def click(app, pos, button=1):
    post(app, [pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button),
               pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button)])


def draw(app, strokes):
    """Draw canvas-coordinate strokes with the mouse."""
    post(app, stroke_events(strokes, app.view.canvas_rect.topleft))


def button(app, action):
    return next(rect for rect, act, _ in app.view.buttons(app) if act == action)


def line(a, b):
    return [np.array([a, b], float)]


@pytest.fixture(scope="module")
def toy_models(tmp_path_factory):
    """Untrained files of every zoo model (for behaviour, not accuracy)."""
    folder = tmp_path_factory.mktemp("models")
    for name in zoo.ZOO:
        zoo.build(name, seed=0).save(str(folder / f"{name}.npz"))
    return folder


@pytest.fixture
def app(toy_models, tmp_path):
    a = App(models_dir=str(toy_models), save_dir=str(tmp_path / "mine"))
    yield a
    pygame.quit()


# -- accuracy: the acceptance test ----------------------------------------------------------------
@needs_cnn
def test_cnn_reads_200_traced_mnist_digits(mnist, tmp_path):
    """200 test-set digits, traced into strokes and drawn with the mouse, read by the CNN."""
    _, (x_test, y_test) = mnist
    app = App(models_dir=MODELS, save_dir=str(tmp_path), model="cnn")
    assert app.slot.key == "cnn" and app.slot.ready
    right, latencies = 0, []
    try:
        for i in range(200):
            key(app, pygame.K_c)
            assert app.reading is None
            draw(app, place(digit_strokes(x_test[i]), (0, 0, app.canvas.size)))
            assert app.reading is not None and len(app.reading.digits) >= 1
            right += app.reading.number == str(y_test[i])
            latencies.append(app.reading.latency_ms)
    finally:
        pygame.quit()
    print(f"CNN read {right}/200 traced digits; "
          f"in-app latency median {np.median(latencies):.2f} ms")
    assert right >= 190


@needs_cnn
def test_three_digit_number(mnist, tmp_path):
    _, (x_test, y_test) = mnist
    app = App(models_dir=MODELS, save_dir=str(tmp_path), model="cnn")
    try:
        # the first test digits of classes 4, 0 and 7
        strokes, brush = number_strokes("407", x_test, y_test, app.canvas.size, seed=None)
        app.set_brush(brush)
        draw(app, strokes)
        assert len(app.reading.digits) == 3
        assert app.reading.number == "407"
        xs = [d.box[0] for d in app.reading.digits]
        assert xs == sorted(xs)
        app.render()
    finally:
        pygame.quit()


# -- behaviour ------------------------------------------------------------------------------------
def test_blank_canvas_shows_no_prediction(app):
    app.render()
    assert app.reading is None
    click(app, button(app, "clear").center)
    assert app.reading is None
    key(app, pygame.K_s)                        # saving a blank canvas is refused, politely
    assert app.message[1] == "error" and app.saving.labels is None


def test_draw_undo_clear(app):
    draw(app, line((100, 100), (100, 300)))
    one = app.canvas.image.copy()
    draw(app, line((200, 100), (300, 300)))
    assert len(app.canvas.strokes) == 2 and app.reading is not None
    key(app, pygame.K_z, pygame.KMOD_CTRL)       # Ctrl+Z
    assert len(app.canvas.strokes) == 1
    assert np.array_equal(app.canvas.image, one)
    key(app, pygame.K_z)                         # Z
    assert app.canvas.blank and not app.canvas.image.any() and app.reading is None
    key(app, pygame.K_z)                         # nothing left to undo: no error
    draw(app, line((100, 100), (100, 300)))
    key(app, pygame.K_c)                         # C
    assert app.canvas.blank and app.reading is None
    draw(app, line((100, 100), (100, 300)))
    click(app, (200, 200), button=3)             # right click
    assert app.canvas.blank
    draw(app, line((100, 100), (100, 300)))
    click(app, button(app, "undo").center)       # the Undo button
    assert app.canvas.blank


def test_fast_strokes_stay_continuous(app):
    """Two mouse positions 300 px apart still make one unbroken line."""
    draw(app, line((50, 200), (350, 200)))
    row = app.canvas.image[200, 50:351]
    assert (row > 200).all()


def test_model_switch_keys_and_buttons(app):
    draw(app, line((150, 80), (170, 350)))
    seen = {}
    for k, expected in ((pygame.K_1, "ann"), (pygame.K_3, "vgg16"), (pygame.K_2, "cnn")):
        key(app, k)
        assert app.slot.key == expected and app.reading.model_label == app.slot.label
        seen[expected] = app.reading.probs.copy()
    click(app, button(app, "model:0").center)
    assert app.slot.key == "ann"
    assert not np.allclose(seen["ann"], seen["vgg16"])   # really a different model


def test_brush_keys(app):
    start = app.brush
    key(app, pygame.K_RIGHTBRACKET)
    assert app.brush > start
    for _ in range(50):
        key(app, pygame.K_LEFTBRACKET)
    assert app.brush == 4


def test_live_prediction_is_throttled(app):
    target = app.view.canvas_rect.topleft
    down = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(target[0] + 100, target[1] + 100),
                              button=1)
    post(app, [down])
    assert app.reading is None and app.dirty
    app.step(now=app.last_read + 0.01)           # too soon: no reading yet
    assert app.reading is None
    app.step(now=app.last_read + 1.0)            # the stroke is read while still being drawn
    assert app.reading is not None and app.canvas.drawing


def test_feature_maps_toggle_screenshot(app, tmp_path):
    draw(app, line((200, 60), (220, 380)))
    plain = tmp_path / "plain.png"
    app.screenshot(str(plain))
    key(app, pygame.K_f)
    assert app.show_features
    names = [name for name, _ in app.features]
    shapes = [maps.shape for _, maps in app.features]
    assert shapes == [(32, 28, 28), (64, 14, 14)], (names, shapes)
    shot = tmp_path / "features.png"
    app.screenshot(str(shot))
    a = pygame.surfarray.array3d(pygame.image.load(str(plain)))
    b = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    assert a.shape == b.shape == (1000, 680, 3)
    assert not np.array_equal(a[484:, 256:], b[484:, 256:])     # the panel shows the maps
    draw(app, line((100, 60), (100, 380)))                       # live: redrawn with the drawing
    assert app.features and app.features_error is None
    click(app, button(app, "features").center)
    assert not app.show_features


def test_save_own_test_set_matches_evaluate_format(app):
    draw(app, line((150, 60), (170, 380)))
    key(app, pygame.K_s)
    assert app.saving.labels == ""
    key(app, pygame.K_7)                         # the user says: this is a 7
    assert app.saving.labels is None               # one digit, one label: saved
    images, labels, names = read_labelled_pngs(app.save_dir)
    assert list(labels) == [7] and images.shape == (1, 28, 28)
    np.testing.assert_allclose(images[0] / 255.0, app.reading.digits[0].image, atol=1 / 255)
    assert os.path.exists(os.path.join(app.save_dir, "canvas", names[0]))
    key(app, pygame.K_s)
    key(app, pygame.K_RETURN)                    # Enter keeps the prediction
    _, labels, _ = read_labelled_pngs(app.save_dir)
    assert sorted(labels) == sorted([7, app.reading.labels[0]])


# -- never crash ---------------------------------------------------------------------------------
def test_strokes_at_and_beyond_the_edges(app):
    size = app.canvas.size
    wild = [(0, 0), (size - 1, 0), (size + 500, size // 2), (-900, size + 900),
            (10 ** 9, -10 ** 9), (-(10 ** 12), 10 ** 12), (size - 1, size - 1)]
    draw(app, [np.array(wild, float)])
    assert app.reading is not None
    app.render()
    # a stroke starting on the canvas, leaving the window and coming back
    app.do("clear")
    events = stroke_events([np.array([(10, 10), (-5000, 300), (5000, 5000), (20, 400)], float)],
                           app.view.canvas_rect.topleft)
    post(app, events)
    app.render()
    # mouse released outside the window: a motion without the button pressed ends the stroke
    post(app, [pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(200, 200), button=1),
               pygame.event.Event(pygame.MOUSEMOTION, pos=(2000, 200), rel=(1800, 0),
                                  buttons=(0, 0, 0))])
    assert not app.canvas.drawing
    # clicks outside the canvas and the buttons draw nothing
    app.do("clear")
    click(app, (995, 5))
    assert app.canvas.blank


def test_enormous_blob_and_single_dot(app):
    app.set_brush(10 ** 6)                       # clamped to the largest brush
    assert app.brush == 120
    scribble = [np.array([(x, y) for y in range(0, 460, 40) for x in (0, 447)], float)]
    draw(app, scribble)
    assert app.canvas.image.mean() > 200         # the canvas is one white blob
    assert app.reading is not None and len(app.reading.digits) == 1
    app.render()
    app.do("clear")
    app.brush = 1                                # a single-pixel dot
    draw(app, [np.array([(447, 447)], float)])
    assert app.canvas.image.any()
    assert app.reading is not None
    app.render()


def test_model_buttons_fit_the_window_with_every_keras_file(app):
    from apps.model_slots import NNLITE_MODELS, ModelSlot
    from apps.view import WINDOW
    app.slots += [ModelSlot(f"keras-{key}", f"Keras {label}", "unused.keras", kind="keras")
                  for key, label in NNLITE_MODELS]
    rects = [(rect, label) for rect, action, label in app.view.buttons(app)
             if action.startswith("model:")]
    assert len(rects) == 2 * len(NNLITE_MODELS)
    assert all(a.right + 8 <= b.left for (a, _), (b, _) in zip(rects, rects[1:]))
    assert rects[-1][0].right <= WINDOW[0] - 16
    assert all(app.view.fonts[24].size(label)[0] < rect.width for rect, label in rects)
    app.render()                                 # the row is drawn without the brush hint


def test_missing_and_corrupt_model_files(toy_models, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "cnn.npz").write_bytes((toy_models / "cnn.npz").read_bytes())
    (folder / "vgg16.npz").write_bytes(b"PK\x03\x04 this is not a model" * 10)   # corrupt
    # ann.npz is missing
    app = App(models_dir=str(folder), save_dir=str(tmp_path / "mine"), model="ann")
    try:
        assert app.slot.key == "cnn"             # started on a model that works
        assert app.message[1] == "error" and "ANN" in app.message[0] and "VGG16" in app.message[0]
        draw(app, line((150, 60), (170, 380)))
        assert app.reading is not None
        for k, label in ((pygame.K_1, "ANN"), (pygame.K_3, "VGG16")):
            key(app, k)
            assert app.reading is None and app.slot.error and label in app.message[0]
            app.render()                         # the error is drawn, not raised
        key(app, pygame.K_2)                     # the CNN still works
        assert app.slot.key == "cnn" and app.reading is not None
    finally:
        pygame.quit()


def test_no_models_at_all(tmp_path):
    app = App(models_dir=str(tmp_path / "nothing-here"), save_dir=str(tmp_path / "mine"))
    try:
        draw(app, line((150, 60), (170, 380)))
        assert app.reading is None and app.slot.error
        key(app, pygame.K_f)
        app.render()
    finally:
        pygame.quit()


def test_cli_demo_screenshot(tmp_path, mnist):
    """`python -m apps --demo 2026 --screenshot out.png` draws, reads and saves the window."""
    out = tmp_path / "demo.png"
    code = main(["--models-dir", str(MODELS if HAS_CNN else tmp_path), "--demo", "2026",
                 "--screenshot", str(out), "--save-dir", str(tmp_path / "mine")])
    assert code == 0 and out.exists()
    assert pygame.image.load(str(out)).get_size() == (1000, 680)
    assert main(["--demo", "20x6", "--screenshot", str(out)]) == 2


def test_latency_is_measured(app):
    draw(app, line((150, 60), (170, 380)))
    start = time.perf_counter()
    app.read()
    elapsed = (time.perf_counter() - start) * 1000
    assert 0 < app.reading.latency_ms <= elapsed + 1e-6


def test_keras_slot_listed_and_a_bad_keras_file_is_an_error_on_screen(toy_models, tmp_path):
    """models/keras/<name>.keras appears as an extra model when Keras is installed; a corrupt
    one becomes a message when chosen (Keras is imported only then), the others still work."""
    from apps.model_slots import keras_available
    if not keras_available():
        pytest.skip("the keras extra is not installed")
    folder = tmp_path / "models"
    (folder / "keras").mkdir(parents=True)
    (folder / "cnn.npz").write_bytes((toy_models / "cnn.npz").read_bytes())
    (folder / "keras" / "cnn.keras").write_bytes(b"not a keras file")
    app = App(models_dir=str(folder), save_dir=str(tmp_path / "mine"))
    try:
        labels = [s.label for s in app.slots]
        assert labels[-1] == "Keras CNN" and not app.slots[-1].ready
        draw(app, line((150, 60), (170, 380)))
        key(app, pygame.K_1 + len(app.slots) - 1)
        assert app.slot.label == "Keras CNN" and app.slot.error and app.reading is None
        app.render()
        key(app, pygame.K_2)
        assert app.reading is not None
    finally:
        pygame.quit()


def test_run_loop_survives_an_internal_error_and_quits(app):
    """``run`` is the real loop: it handles queued events, shows an unexpected error as a
    message instead of dying, and ends on QUIT."""
    calls = []
    real_step = app.step

    def flaky_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real_step(*args, **kwargs)

    app.step = flaky_step
    for event in stroke_events(line((150, 60), (170, 380)), app.view.canvas_rect.topleft):
        pygame.event.post(event)
    app.play([pygame.event.Event(pygame.QUIT)])     # posted by step() on a later frame
    app.run(fps=1000)
    assert not app.running and len(calls) >= 2
    assert app.message == ("internal error: RuntimeError: boom", "error")
    assert app.reading is not None                  # the stroke was still read


# -- not a digit, explain, teach, selecting a digit -------------------------------------
def rendered_texts(app):
    """Every string the window shows in one frame: the screen read back as text."""
    seen, real = [], app.view.text

    def spy(text, *args, **kwargs):
        seen.append(text)
        return real(text, *args, **kwargs)
    app.view.text = spy
    try:
        app.render()
    finally:
        del app.view.text
    return seen


def screen(app):
    app.render()
    return pygame.surfarray.array3d(app.screen).copy()     # (width, height, 3)


def test_a_dot_is_not_a_digit_and_the_app_says_so(app):
    app.brush = 40
    draw(app, [np.array([(200, 200)], float)])
    assert app.reading is not None and app.reading.labels == [None]
    assert "not a digit" in rendered_texts(app)


def test_explain_view_shows_input_gradients_and_layer_norms(app):
    draw(app, line((150, 60), (170, 380)))
    plain = screen(app)
    key(app, pygame.K_e)
    assert app.panel == "explain"
    e = app.explainer.result
    order = np.argsort(-app.reading.probs[0])
    assert (e.predicted, e.expected) == (order[0], order[1])        # default: the runner-up
    assert e.saliency[e.predicted].shape == (28, 28) and np.abs(e.saliency[e.expected]).max() > 0
    texts = rendered_texts(app)
    assert {f"d logit {e.predicted} / d pixel", f"d logit {e.expected} / d pixel"} <= set(texts)
    assert {"pixels", "conv2d", "conv2d_1", "dense_1"} <= set(texts)     # one row per layer
    shot = screen(app)
    assert not np.array_equal(plain[484:, 64:], shot[484:, 64:])
    maps = shot[658:930, 178:290].astype(int)                           # the two gradient maps
    assert (np.abs(maps[..., 0] - maps[..., 2]) > 60).any()             # red / blue pixels
    key(app, pygame.K_3)                                                # "I expected a 3"
    assert app.explainer.result.expected == 3 and app.panel == "explain"
    assert any(t.startswith("expected 3 (you chose)") for t in rendered_texts(app))
    chosen = app.explainer.result
    app.explainer._done_for = None                                      # a fresh one, timed
    app.explainer.refresh()
    again = app.explainer.result
    assert again is not chosen and (again.predicted, again.expected) == (chosen.predicted, 3)
    for cls in (again.predicted, 3):                                    # same inputs, same maps
        np.testing.assert_allclose(again.saliency[cls], chosen.saliency[cls], rtol=1e-5, atol=1e-7)
    assert np.isclose(again.loss, chosen.loss) and np.isfinite(again.ms) and again.ms > 0
    click(app, button(app, "explain").center)
    assert app.panel == "reading"


def test_teach_view_steps_saves_a_new_file_and_never_touches_models(toy_models, tmp_path, mnist):
    folder = tmp_path / "models"
    folder.mkdir()
    for name in zoo.ZOO:
        (folder / f"{name}.npz").write_bytes((toy_models / f"{name}.npz").read_bytes())
    original = {p.name: p.read_bytes() for p in folder.iterdir()}
    taught_dir = tmp_path / "taught"
    app = App(models_dir=str(folder), save_dir=str(tmp_path / "mine"), taught_dir=str(taught_dir))
    try:
        draw(app, line((150, 60), (170, 380)))
        key(app, pygame.K_t)
        assert app.teaching.state == "asking" and app.panel == "teach"
        assert "teach: what should it have said?" in rendered_texts(app)
        key(app, pygame.K_7)
        assert app.teaching.state == "running"
        frames, steps = [], []
        while app.teaching.state == "running" and len(frames) < 100:
            start = time.perf_counter()
            app.tick()                           # one optimizer step and a redraw per frame
            frames.append((time.perf_counter() - start) * 1000)
            steps.append(len(app.teaching.teacher.batch_losses))
        t = app.teaching.teacher
        assert app.teaching.state == "done" and len(frames) == len(t.batch_losses) <= t.steps
        assert steps == list(range(1, len(frames) + 1))      # exactly one step in every frame
        assert len(app.teaching.step_ms) == len(frames)      # each step's time is recorded
        assert all(np.isfinite(ms) and ms > 0 for ms in app.teaching.step_ms + frames)
        assert t.after[7] > t.before[7] and t.losses[-1] < t.losses[0]
        assert len(t.losses) == len(t.batch_losses) + 1
        print(f"teach: {len(frames)} frames, median {np.median(frames):.0f} ms per step + redraw")
        path = app.teaching.path
        assert path == str(taught_dir / "cnn-taught-1.npz") and os.path.exists(path)
        _, labels, _ = read_labelled_pngs(app.save_dir)
        assert list(labels) == [7]                   # the drawing joins the user's own set
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == original
        texts = rendered_texts(app)
        assert "teaching: this is a 7" in texts and f"saved {path}" in texts
        assert "2 CNN *" in texts                     # the button says the model was taught
        key(app, pygame.K_t)                          # again: a second file, the first kept
        key(app, pygame.K_7)
        while app.teaching.state == "running":
            app.tick()
        assert os.path.exists(taught_dir / "cnn-taught-2.npz") and os.path.exists(path)
    finally:
        pygame.quit()


def test_teach_needs_a_drawing(app):
    key(app, pygame.K_t)
    assert app.teaching.state == "idle" and app.message[1] == "error"


def test_clicking_a_thumbnail_selects_that_digit(app):
    for x, slant in ((60, 10), (170, 70), (340, -30)):     # three different strokes
        draw(app, line((x, 100), (x + slant, 340)))
    assert len(app.reading.digits) == 3 and app.focus == 2
    rects = [rect for rect, _ in app.view.thumbnails(app)]
    assert len(rects) == 3
    click(app, rects[0].center)
    assert app.focus == 0 and "probabilities (digit 1 of 3)" in rendered_texts(app)
    app.step(now=app.last_read + 1.0)            # a live re-read keeps the selection
    assert app.focus == 0
    key(app, pygame.K_e)
    first = app.explainer.result.saliency[app.explainer.result.predicted].copy()
    click(app, [rect for rect, _ in app.view.thumbnails(app)][1].center)
    assert app.focus == 1
    second = app.explainer.result.saliency[app.explainer.result.predicted]
    assert not np.array_equal(first, second)      # explained again, for the digit clicked
    draw(app, line((430, 100), (435, 340)))       # drawing again: the digit being drawn
    assert app.focus == len(app.reading.digits) - 1
