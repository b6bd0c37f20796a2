"""nnlite.inspect: the one-step trace and the GradientStats callback report the engine's own
numbers (recomputed here directly with model.forward/backward), and nothing is left installed."""
import importlib.util
import json
import math
import os
import re

import numpy as np
import pytest

from nnlite import Sequential, zoo as models
from nnlite.callbacks import Observer
from nnlite.inspect import GradientStats
from nnlite.errors import NonFiniteError
from nnlite.inspect import dead_fraction, trace
from nnlite.layers import Conv2D, Dense, Flatten, ReLU
from nnlite.optimizers import Adam

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM = r"([-+]?\d\.\d+e[-+]\d+)"


def _norm(a):
    a = np.asarray(a, np.float64).ravel()
    return float(np.sqrt(a @ a))


def _parse_backward(text):
    """{layer: {"grad_in": norm, param: norm}} from section 3 of a printed transcript."""
    section = text.split("3. BACKWARD")[1].split("4. UPDATE")[0]
    out, current = {}, None
    for line in section.splitlines():
        m = re.match(r"\s+\d+\s+(\S+) \(\w+\)\s+\([\d, ]+\)\s+" + NUM + r"\s*$", line)
        if m:
            current = m.group(1)
            out[current] = {"grad_in": float(m.group(2))}
            continue
        m = re.match(r"\s+dL/d (\w+)\s+\([\d, ]+\)\s+\|g\| = " + NUM, line)
        if m:
            out[current][m.group(1)] = float(m.group(2))
    return out


def _parse_updates(text):
    rows = {}
    for line in text.split("4. UPDATE")[1].splitlines()[2:]:
        parts = re.match(r"\s+(\S+)\s+\([\d, ]+\)\s+" + r"\s+".join([NUM] * 3), line)
        rows[parts.group(1)] = tuple(float(parts.group(i)) for i in (2, 3, 4))
    return rows


def test_trace_prints_the_gradients_backprop_computes():
    rng = np.random.default_rng(0)
    model = models.cnn(seed=3)                       # conv + BN + ReLU + pool + dense, with L2
    model.compile(Adam(1e-3))
    x = rng.random((6, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 6)
    before = model.get_weights()
    printed = []
    tr = trace(model, x, y, print_fn=printed.append)
    text = printed[0]
    after = model.get_weights()
    for layer in model.layers:                       # the taps are gone again
        assert "forward" not in vars(layer) and "backward" not in vars(layer)

    # recompute the same step directly from the same weights
    model.set_weights(before)
    logits = model.forward(x, training=True)
    model.loss.forward(logits, y)
    g = model.loss.backward()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(10)[y]
    np.testing.assert_allclose(g, (p - onehot) / len(y), rtol=1e-5, atol=1e-7)  # (p - y)/N
    printed_dlogits = float(re.search(r"dL/dlogits .* norm " + NUM, text).group(1))
    assert printed_dlogits == pytest.approx(_norm(g), rel=1e-4)

    table = _parse_backward(text)
    assert set(table) == {l.name for l in model.layers}
    for layer in reversed(model.layers):
        g = layer.backward(g)
        assert table[layer.name]["grad_in"] == pytest.approx(_norm(g), rel=1e-4), layer.name
        for key, grad in layer.grads.items():
            assert table[layer.name][key] == pytest.approx(_norm(grad), rel=1e-4), (layer.name, key)
    by_name = {b["name"]: b for b in tr.backward}
    for layer in model.layers:                        # the unrounded numbers, tighter
        for key, grad in layer.grads.items():
            assert by_name[layer.name]["params"][key]["norm"] == pytest.approx(_norm(grad), rel=1e-6)

    # the update: gradients with L2 added, then Keras-3 Adam's first step written out here
    for layer in model.layers:
        layer.add_regularization_grads()
    updates = _parse_updates(text)
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-7, 1
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    params_after = iter(after)
    for layer in model.layers:
        for key, w0 in layer.params.items():
            grad = layer.grads[key].astype(np.float64)
            m, v = (1 - b1) * grad, (1 - b2) * grad ** 2
            step = -alpha * m / (np.sqrt(v) + eps)
            g_used, w_norm, dw = updates[f"{layer.name}/{key}"]
            assert g_used == pytest.approx(_norm(grad), rel=1e-4)
            assert w_norm == pytest.approx(_norm(w0), rel=1e-4, abs=1e-12)
            assert dw == pytest.approx(_norm(step), rel=1e-3)
            w1 = next(params_after)
            np.testing.assert_allclose(w1 - w0, step, rtol=1e-3, atol=1e-8)
        for _ in layer.state:
            next(params_after)

    # two claims docs/backprop.md reads off this transcript:
    # a conv bias followed by BatchNormalization gets (almost) no gradient ...
    for conv in ("conv2d", "conv2d_1", "conv2d_2"):
        assert by_name[conv]["params"]["bias"]["norm"] < 1e-3 * by_name[conv]["params"]["kernel"]["norm"]
    # ... and Adam's first step moves each weight by ~lr when |g| >> epsilon / sqrt(1 - beta_2)
    moved = {(u["layer"], u["param"]): u["max_abs"] for u in tr.update}
    for layer in model.layers:
        for key, grad in layer.grads.items():
            if np.abs(grad).min() > 1e-4:
                assert moved[(layer.name, key)] == pytest.approx(lr, rel=0.05)


def _mlp(seed=0):
    return Sequential([Flatten(), Dense(16, activation="relu"), ReLU(), Dense(10)],
                      input_shape=(4, 4, 1), seed=seed)


def _toy_data(n=40):
    rng = np.random.default_rng(5)
    return rng.random((n, 4, 4, 1), dtype=np.float32), rng.integers(0, 10, n)


def test_gradient_stats_records_the_engine_numbers(tmp_path):
    x, y = _toy_data()
    model = _mlp().compile(Adam(1e-2))
    gs = GradientStats(every=2, csv_path=str(tmp_path / "g.csv"), json_path=str(tmp_path / "g.json"))
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, callbacks=[gs], verbose=0)
    assert [r["step"] for r in gs.rows] == [0, 2, 4, 6, 8]
    expected = {"step", "epoch", "batch", "loss"}
    for name in ("flatten", "dense", "re_lu", "dense_1"):
        expected |= {f"{name}/act_mean", f"{name}/act_std", f"{name}/grad_in_norm"}
    expected |= {"dense/dead_relu", "re_lu/dead_relu"}
    for name in ("dense", "dense_1"):
        for key in ("kernel", "bias"):
            expected |= {f"{name}/{key}/{q}"
                         for q in ("grad_norm", "weight_norm", "update_norm", "update_ratio")}
    for row in gs.rows:
        assert set(row) == expected
        for k, v in row.items():
            if k.endswith("update_ratio") and row[k.replace("update_ratio", "weight_norm")] == 0:
                assert math.isnan(v)          # zero-initialised bias: the ratio is undefined
            else:
                assert math.isfinite(v), k
    for layer in model.layers:
        assert "forward" not in vars(layer) and "backward" not in vars(layer)

    # replay the same steps by hand on an identical model and compare
    twin = _mlp().compile(Adam(1e-2))
    rows = {r["step"]: r for r in gs.rows}
    for step in range(10):
        b = step % 5
        xb, yb = x[b * 8:(b + 1) * 8], y[b * 8:(b + 1) * 8]
        w0 = {(l.name, k): p.astype(np.float64) for l in twin.layers for k, p in l.params.items()}
        acts = {}
        out = xb
        for layer in twin.layers:
            out = layer.forward(out, training=True)
            acts[layer.name] = out.copy()
        loss = twin.loss.forward(out, yb)
        twin.backward(twin.loss.backward())
        grads = {(l.name, k): _norm(g) for l in twin.layers for k, g in l.grads.items()}
        twin.optimizer.apply([l.params[k] for l, k in twin.trainable()],
                             [l.grads[k] for l, k in twin.trainable()])
        if step in rows:
            row = rows[step]
            assert row["loss"] == pytest.approx(loss, rel=1e-6)
            for name, a in acts.items():
                assert row[f"{name}/act_mean"] == pytest.approx(float(a.mean()), rel=1e-5, abs=1e-7)
                assert row[f"{name}/act_std"] == pytest.approx(float(a.std()), rel=1e-5)
            for (name, key), w in w0.items():
                layer = next(l for l in twin.layers if l.name == name)
                assert row[f"{name}/{key}/grad_norm"] == pytest.approx(grads[(name, key)], rel=1e-6)
                assert row[f"{name}/{key}/weight_norm"] == pytest.approx(_norm(w), rel=1e-6,
                                                                         abs=1e-12)
                assert row[f"{name}/{key}/update_norm"] == pytest.approx(
                    _norm(layer.params[key] - w), rel=1e-6)

    # the files hold the same rows
    with open(tmp_path / "g.json") as fh:
        saved = json.load(fh)
    assert len(saved["rows"]) == 5 and saved["every"] == 2
    assert [l["name"] for l in saved["layers"]] == [l.name for l in model.layers]
    with open(tmp_path / "g.csv") as fh:
        lines = fh.read().strip().splitlines()
    assert len(lines) == 6 and "dense/kernel/update_ratio" in lines[0].split(",")


def test_dead_relu_fraction_on_a_constructed_layer():
    # inputs are >= 0; units 0 and 2 get negative weights and bias -> never fire -> 2/4 dead
    model = Sequential([Flatten(), Dense(4, activation="relu"), Dense(10)], input_shape=(2, 2, 1),
                       seed=0).compile(Adam(1e-6))
    dense = model.layers[1]
    dense.params["kernel"][:] = np.array([-1.0, 1.0, -1.0, 1.0], np.float32)
    dense.params["bias"][:] = np.array([-0.5, 0.1, -0.5, 0.1], np.float32)
    x = np.random.default_rng(0).random((16, 2, 2, 1), dtype=np.float32)
    y = np.zeros(16, int)
    gs = GradientStats(every=1)
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[gs], verbose=0)
    assert gs.rows[0]["dense/dead_relu"] == 0.5
    # a dead unit gets no gradient at all: its kernel column is exactly zero
    assert not dense.grads["kernel"][:, [0, 2]].any() and dense.grads["kernel"][:, [1, 3]].any()

    # conv feature maps: a unit is a channel, dead when 0 at every position of every image
    maps = np.ones((3, 5, 5, 4), np.float32)
    maps[..., 1] = 0.0
    maps[0, 2, 2, 3] = 0.0            # zero somewhere is not dead
    assert dead_fraction(maps) == 0.25


def test_dead_relu_on_conv_relu_layer():
    model = Sequential([Conv2D(2, 3), ReLU(), Flatten(), Dense(10)], input_shape=(5, 5, 1),
                       seed=0).compile(Adam(1e-6))
    conv = model.layers[0]
    conv.params["kernel"][..., 0] = -1.0    # channel 0: negative on non-negative images
    conv.params["kernel"][..., 1] = 1.0
    x = np.random.default_rng(1).random((4, 5, 5, 1), dtype=np.float32) + 0.1
    gs = GradientStats(every=1)
    model.fit(x, np.zeros(4, int), batch_size=4, callbacks=[gs], verbose=0)
    assert gs.rows[0]["re_lu/dead_relu"] == 0.5
    assert "conv2d/dead_relu" not in gs.rows[0]        # a linear conv is not a ReLU


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_gradient_stats_observer_detached_when_training_diverges():
    x, y = _toy_data(16)
    model = _mlp().compile(Adam(1e-3))
    model.layers[1].params["kernel"][:] = 1e38      # overflows to Inf in the first forward
    with GradientStats(every=1) as gs:
        with pytest.raises(NonFiniteError):
            model.fit(x, y, batch_size=8, callbacks=[gs], verbose=0)
    assert gs.rows == [] and model.observers == []
    for layer in model.layers:
        assert "forward" not in vars(layer) and "backward" not in vars(layer)


def test_plot_gradient_stats_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from nnlite.inspect import plot_gradient_stats
    x, y = _toy_data()
    model = _mlp().compile()
    gs = GradientStats(every=1, json_path=str(tmp_path / "g.json"))
    model.fit(x, y, batch_size=8, callbacks=[gs], verbose=0)
    out = plot_gradient_stats(str(tmp_path / "g.json"), str(tmp_path / "g.png"))
    assert os.path.getsize(out) > 5000


def test_cli_trace_prints_all_sections(capsys):
    from nnlite.cli import main
    from nnlite.commands.trace import _test_batch
    from nnlite.errors import DataError
    try:
        _test_batch(1)
    except DataError as exc:
        pytest.skip(f"MNIST not available: {exc}")
    assert main(["trace", "ann", "--batch-size", "4"]) == 0
    text = capsys.readouterr().out
    for section in ("1. FORWARD", "2. LOSS", "3. BACKWARD", "4. UPDATE"):
        assert section in text
    assert "dense_2/kernel" in text and "(4, 784)" in text


def test_cli_trace_needs_a_model(capsys):
    from nnlite.cli import main
    assert main(["trace"]) == 2
    assert "name a model" in capsys.readouterr().err


def test_im2col_example_in_docs_is_what_nnlite_computes():
    path = os.path.join(ROOT, "experiments", "internals_im2col_example.py")
    spec = importlib.util.spec_from_file_location("im2col_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(os.path.join(ROOT, "docs", "backprop.md")) as fh:
        doc = fh.read()
    assert module.example_markdown() in doc


def test_two_gradient_stats_on_one_fit_both_record_and_both_go():
    x, y = _toy_data(16)
    model = _mlp().compile()
    a, b = GradientStats(every=1), GradientStats(every=2)
    model.fit(x, y, batch_size=8, epochs=1, callbacks=[a, b], verbose=0)
    assert [r["step"] for r in a.rows] == [0, 1] and [r["step"] for r in b.rows] == [0]
    assert a.rows[0]["dense/kernel/grad_norm"] == b.rows[0]["dense/kernel/grad_norm"]
    assert model.observers == []
    for layer in model.layers:
        assert "forward" not in vars(layer) and "backward" not in vars(layer)


class _EveryHook(Observer):
    """Touches every hook (reads every array it is given) and wants every input gradient."""
    wants_input_grads = True

    def __init__(self):
        self.calls = 0

    def _look(self, *arrays):
        self.calls += 1
        for a in arrays:
            if a is not None:
                float(np.asarray(a, dtype=np.float64).sum())

    def on_forward(self, index, layer, x, y, training):
        self._look(x, y)

    def on_backward(self, index, layer, grad_out, grad_in):
        self._look(grad_out, grad_in)

    def on_loss(self, loss, grad_logits):
        self._look(grad_logits)

    def before_update(self, pairs, grads):
        self._look(*grads)

    def after_update(self, pairs, grads):
        self._look(*grads)


@pytest.mark.parametrize("observers", [lambda: [_EveryHook()],
                                       lambda: [GradientStats(every=1), GradientStats(every=3)]])
def test_attached_observers_change_no_number(observers):
    """Weights after N steps are bit-identical with and without observers (Conv, BN, Dropout,
    L2: every kind of state a step touches), and the observers were really called."""
    from nnlite.layers import BatchNormalization, Dropout, MaxPool2D
    from nnlite.regularizers import l2

    def run(attached):
        model = Sequential([Conv2D(4, 3, padding="same", kernel_regularizer=l2(1e-3)),
                            BatchNormalization(), ReLU(), MaxPool2D(2), Flatten(), Dropout(0.2),
                            Dense(10)], input_shape=(8, 8, 1), seed=3).compile(Adam(3e-3))
        rng = np.random.default_rng(5)
        x, y = rng.random((40, 8, 8, 1), dtype=np.float32), rng.integers(0, 10, 40)
        callbacks = [o for o in attached if isinstance(o, GradientStats)]
        with model.observing(*[o for o in attached if not isinstance(o, GradientStats)]):
            model.fit(x, y, batch_size=8, epochs=2, callbacks=callbacks, verbose=0)
        return model.get_weights()

    attached = observers()
    plain, watched = run([]), run(attached)
    assert len(plain) == len(watched)
    for a, b in zip(plain, watched):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    for o in attached:
        assert (o.calls if isinstance(o, _EveryHook) else len(o.rows)) > 0


# -- nnlite trace --tiny and docs/backprop.md section 12 ------------------------------------------
DOC_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+)")


def _numbers(text):
    """Every decimal or scientific number in ``text`` (integers such as indices, t = 1 or the
    2-3-2 of the name are labels, not values of the step, and are left out)."""
    return [float(m) for m in DOC_NUMBER.findall(text)]


def _run_cli(argv, capsys):
    from nnlite.cli import main
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_tiny_trace_matches_the_hand_calculation(capsys):
    """Every number of the worked example in docs/backprop.md section 12 is printed by
    `nnlite trace --tiny` (4 digits; the one 8-digit step the text quotes by --digits 8)."""
    with open(os.path.join(ROOT, "docs", "backprop.md")) as fh:
        doc = fh.read()
    section = doc.split("## 12.")[1].split("\n## ")[0]
    code, out4, _ = _run_cli(["trace", "--tiny"], capsys)
    assert code == 0
    code, out8, _ = _run_cli(["trace", "--tiny", "--digits", "8"], capsys)
    assert code == 0
    printed = set(_numbers(out4)) | set(_numbers(out8))
    in_doc = _numbers(section)
    assert len(in_doc) > 150                     # the section was found and parsed
    missing = sorted({v for v in in_doc if v not in printed})
    assert not missing, f"numbers in docs/backprop.md section 12 that --tiny does not print: {missing}"
    # ... and the headline numbers of the command are in the doc
    for key in ("L = -log p[label]", "alpha = lr"):
        value = float(re.search(re.escape(key) + r".*= (\S+)", out4).group(1))
        assert value in in_doc


def test_tiny_step_values_are_the_engines():
    """record_step keeps what the engine computed: a twin model stepped by hand (forward,
    loss, backward, optimizer) gives the same arrays bit for bit."""
    from nnlite.inspect import record_step, tiny_model
    model, x, y = tiny_model()
    values = record_step(model, x, y)
    twin, _, _ = tiny_model()
    outputs = []
    logits = twin.forward(x, training=True, outputs=outputs)
    loss = twin.loss.forward(logits, y)
    dx = twin.backward(twin.loss.backward())
    pairs = twin.trainable()
    twin.optimizer.apply([l.params[k] for l, k in pairs], [l.grads[k] for l, k in pairs])

    assert values.loss == loss and values.t == 1
    for (_, _, mine), engine in zip(values.forward, outputs):
        assert np.array_equal(mine, engine)
    assert np.array_equal(values.backward[-1][3], dx)            # dL/dx of the first layer
    by_key = {(u["layer"].name, u["key"]): u for u in values.update}
    for (layer, key), slots in zip(pairs, twin.optimizer.slots):
        u = by_key[(layer.name, key)]
        assert np.array_equal(u["grad"], layer.grads[key])
        assert np.array_equal(u["after"], layer.params[key])
        assert np.array_equal(u["slots"]["m"].ravel(), slots["m"])
        assert np.array_equal(u["slots"]["v"].ravel(), slots["v"])
    # the dead hidden unit (z1_1 < 0) gets no gradient and does not move
    assert values.forward[0][2][0, 1] < 0
    assert not by_key[("dense", "kernel")]["grad"][:, 1].any()
    assert np.array_equal(by_key[("dense_1", "kernel")]["after"][1],
                          by_key[("dense_1", "kernel")]["before"][1])
    assert values.loss_after < values.loss and values.probs_after[0, 1] > 0.5
    assert model.observers == []


def test_tiny_trace_json_and_its_refusals(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    code, out, _ = _run_cli(["trace", "--tiny", "--json", str(path)], capsys)
    assert code == 0 and "5. AFTER THE STEP" in out
    saved = json.loads(path.read_text())
    assert saved["weights"]["dense/kernel"] == [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
    assert saved["update"]["dense/kernel"]["m"][0][1] == 0.0 and saved["t"] == 1
    code, _, err = _run_cli(["trace", "--tiny", "cnn"], capsys)
    assert code == 2 and "own 2-3-2 network" in err
    code, _, err = _run_cli(["trace", "--tiny", "--digits", "40"], capsys)
    assert code == 2 and "2..17" in err


# -- nnlite trace MODEL --image PATH --label N --------------------------------------------------
def _digit_picture(path, size=(120, 150), ink=0, paper=255, mode="L", fmt=None):
    """A 7 drawn with a thick pen: dark ink on light paper by default."""
    from PIL import Image, ImageDraw
    w, h = size
    im = Image.new(mode, size, paper)
    ImageDraw.Draw(im).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.45 * w, 0.85 * h)],
                            fill=ink, width=max(3, w // 12))
    im.save(path, format=fmt)
    return path


def test_trace_image_dark_ink_on_white(tmp_path, capsys):
    pytest.importorskip("cv2")                    # drawing_to_mnist's resize and centring
    from PIL import Image
    png = _digit_picture(tmp_path / "my digit.png")
    saved = tmp_path / "input.png"
    code, out, err = _run_cli(["trace", "ann", "--image", str(png), "--label", "7",
                               "--save-input", str(saved)], capsys)
    assert code == 0, err
    assert "dark ink on a light background" in out and "inverted" in out
    assert "made MNIST-style" in out and "What the model sees" in out
    for section in ("1. FORWARD", "2. LOSS", "3. BACKWARD", "4. UPDATE"):
        assert section in out
    assert "x (1, 28, 28, 1)" in out
    before = float(re.search(r"p\[7\] = ([\d.]+)\n", out).group(1))
    after, was = map(float, re.search(r"After the step: p\[7\] = ([\d.]+) \(was ([\d.]+)\)",
                                      out).groups())
    assert was == before and after > before       # the step makes the label more likely
    with Image.open(saved) as im:
        seen = np.asarray(im)
    assert seen.shape == (28, 28) and seen.dtype == np.uint8
    assert seen[0].max() == 0 and seen.max() > 200   # white ink on black, as MNIST
    ys, xs = np.nonzero(seen)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 in (20, 21, 22)


def test_trace_image_photo_transparent_and_mnist_style(tmp_path, capsys):
    pytest.importorskip("cv2")
    from PIL import Image
    # a grey-paper photo as JPEG: inverted, then the paper's grey stretched to black
    jpg = _digit_picture(tmp_path / "photo.jpg", size=(300, 240), ink=(70, 70, 90),
                         paper=(225, 220, 205), mode="RGB", fmt="JPEG")
    code, out, err = _run_cli(["trace", "ann", "--image", str(jpg), "--label", "7"], capsys)
    assert code == 0, err
    assert "inverted" in out and "levels stretched" in out
    # black ink on a transparent background: the ink is the opacity
    rgba = Image.new("RGBA", (90, 90), (0, 0, 0, 0))
    ink = _digit_picture(tmp_path / "mask.png", size=(90, 90), ink=255, paper=0)
    rgba.putalpha(Image.open(ink))
    rgba.save(tmp_path / "transparent.png")
    code, out, err = _run_cli(["trace", "ann", "--image", str(tmp_path / "transparent.png"),
                               "--label", "7"], capsys)
    assert code == 0, err
    assert "alpha channel" in out and "inverted" not in out
    # an MNIST-style 28x28 digit is used as it is
    (x, y), = [_mnist_like_digit()]
    Image.fromarray(x).save(tmp_path / "mnist.png")
    model_out = tmp_path / "seen.png"
    code, out, err = _run_cli(["trace", "ann", "--image", str(tmp_path / "mnist.png"),
                               "--label", str(y), "--mnist-style", "--save-input",
                               str(model_out)], capsys)
    assert code == 0, err
    assert "made MNIST-style" not in out
    assert np.array_equal(np.asarray(Image.open(model_out)), x)


def _mnist_like_digit():
    """A 28x28 uint8 white-on-black 1 (a bar), label 1."""
    x = np.zeros((28, 28), np.uint8)
    x[4:24, 12:16] = 255
    return x, 1


def test_trace_a_saved_model_file_on_an_image_leaves_the_file_alone(tmp_path, capsys):
    from PIL import Image
    path = tmp_path / "small.npz"
    Sequential([Flatten(), Dense(10)], input_shape=(28, 28, 1), seed=0).save(str(path))
    before = path.read_bytes()
    x, y = _mnist_like_digit()
    Image.fromarray(x).save(tmp_path / "one.png")
    code, out, err = _run_cli(["trace", str(path), "--image", str(tmp_path / "one.png"),
                               "--label", "1", "--mnist-style"], capsys)
    assert code == 0, err
    assert "4. UPDATE" in out and path.read_bytes() == before


def _png_with_size(path, width, height):
    """A valid small PNG whose header then claims width x height pixels (CRC fixed)."""
    import struct
    import zlib
    from PIL import Image
    Image.new("1", (8, 8)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", width, height)          # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("case,pattern", [
    ("missing", r"no such file"),
    ("folder", r"is not a file"),
    ("empty", r"0 bytes"),
    ("text", r"not an image nnlite reads"),
    ("truncated", r"cannot decode the image"),
    ("bomb", r"50000x1000 pixels is over nnlite's limit"),
    ("huge bomb", r"too many pixels|over nnlite's limit"),
    ("blank", r"no digit found"),
    ("not 28x28", r"--mnist-style needs a 28x28 image, got 120x150"),
    ("label 10", r"--label must be a class of this model, 0\.\.9; got 10"),
    ("label -1", r"--label.*expected an integer >= 0"),
    ("no label", r"--image needs --label"),
    ("label without image", r"go with --image"),
])
def test_trace_image_refuses_bad_input_clearly(case, pattern, tmp_path, capsys):
    from PIL import Image
    image, label, extra = tmp_path / "digit.png", "7", []
    if case == "missing":
        image = tmp_path / "nowhere" / "digit.png"
    elif case == "folder":
        image = tmp_path
    elif case == "empty":
        image.write_bytes(b"")
    elif case == "text":
        image.write_text("a digit, honestly\n" * 20)
    elif case == "truncated":
        full = _digit_picture(tmp_path / "full.png").read_bytes()
        image.write_bytes(full[: len(full) // 2])
    elif case == "bomb":
        _png_with_size(image, 50000, 1000)
    elif case == "huge bomb":
        _png_with_size(image, 20000, 20000)
    elif case == "blank":
        pytest.importorskip("cv2")
        Image.new("L", (64, 64), 255).save(image)
    else:
        _digit_picture(image)
    if case == "not 28x28":
        extra = ["--mnist-style"]
    label = {"label 10": "10", "label -1": "-1"}.get(case, label)
    argv = ["trace", "ann", "--image", str(image), "--label", label, *extra]
    if case == "no label":
        argv = ["trace", "ann", "--image", str(image)]
    elif case == "label without image":
        argv = ["trace", "ann", "--label", "3"]
    code, out, err = _run_cli(argv, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert re.search(pattern, err), err
