"""Measure how far nnlite is from Keras 3 on the same model, weights and batch.

Each function runs one check on both engines and returns plain numbers (max absolute
differences, worst tolerance ratios), so the parity tests, ``python -m baselines compare``
and the report use the same measurement. The parity tolerances live in ``TOLERANCES``;
nothing here asserts.

Typical use:
    nn, k = make_pair("cnn", seed=0)                # same weights, non-trivial BN
    forward_diff(nn, k, x, training=False)          # max |logits_nnlite - logits_keras|
    gradient_diffs(nn, k, x, y)                     # per weight, vs tf.GradientTape
    adam_diffs(nn, k, [(x, y)] * 50, lr=1e-3)       # weights and BN stats after Adam steps
"""
import contextlib

import numpy as np

from nnlite import losses, optimizers, zoo
from nnlite.layers import BatchNormalization, Dropout
from nnlite.sequential import Sequential

# parity tolerances (absolute, relative); the relative part only for gradients
TOLERANCES = {
    "forward": 1e-4,             # logits, absolute
    "gradient_rel": 1e-4,        # |g_nn - g_k| <= 1e-6 + 1e-4 |g_k|, element-wise
    "gradient_abs": 1e-6,
    "adam_1": 1e-6,              # every weight after one Adam step
    "adam_50": 1e-4,             # every weight after 50 Adam steps
    "bn_stats_50": 1e-5,         # BN moving statistics after 50 steps
    "reg_loss_rel": 1e-6,        # regularisation loss: equal but for float32 summation rounding
}


def randomize_batchnorm(model, rng):
    """Give every BN layer non-trivial gamma, beta and moving statistics, so a test that
    ignores them (or swaps mean/variance, or gamma/beta) fails."""
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            c = layer.params["gamma"].shape[0]
            layer.params["gamma"][...] = rng.uniform(0.5, 1.5, c)
            layer.params["beta"][...] = rng.normal(0.0, 0.3, c)
            layer.state["moving_mean"][...] = rng.normal(0.0, 0.3, c)
            layer.state["moving_variance"][...] = rng.uniform(0.5, 2.0, c)
    return model


@contextlib.contextmanager
def keras_floatx(dtype):
    """Keras' default float type set to ``dtype`` inside the block (its losses and data
    adapters cast to it), restored after."""
    import keras
    old = keras.backend.floatx()
    keras.backend.set_floatx(dtype)
    try:
        yield
    finally:
        keras.backend.set_floatx(old)


def with_dtype(model, dtype, dropout_off=False):
    """A copy of a built nnlite ``Sequential`` whose layers compute in ``dtype`` (and whose
    Dropout layers have rate 0 if ``dropout_off``)."""
    def config(layer):
        cfg = {**layer.get_config(), "dtype": dtype}
        return {**cfg, "rate": 0.0} if dropout_off and isinstance(layer, Dropout) else cfg
    layers = [type(l).from_config(config(l)) for l in model.layers]
    copy = Sequential(layers, input_shape=model.input_shape, name=model.name)
    copy.set_weights(model.get_weights())
    return copy


def keep_signal(model, rng, target_std=0.5):
    """Random small biases, and each Conv2D/Dense kernel scaled so that its layer's output has
    std ``target_std`` on a random batch (a data-dependent init, done layer by layer). Without
    it VGG16's logits at Glorot initialisation are ~3e-3 and a 1e-4 absolute tolerance on them
    would test little; with zero biases a bias bug would go unseen."""
    x = test_batch(8, 12345, shape=model.input_shape)[0].astype(model.layers[0].dtype)
    for layer in model.layers:
        if "kernel" in layer.params:
            layer.params["bias"][...] = rng.normal(0.0, 0.05, layer.params["bias"].shape)
            std = float(layer.forward(x).std())
            if std > 0:
                layer.params["kernel"] *= layer.params["kernel"].dtype.type(target_std / std)
        x = layer.forward(x)
    return model


def make_pair(name, seed=0, dtype="float32", **model_kwargs):
    """(nnlite model, Keras model) with identical weights: BN layers randomised, kernels scaled
    to keep the signal's size and biases random (``keep_signal``). ``dtype`` float64 runs both engines in double precision (to
    tell rounding from a real difference)."""
    from .transfer import to_keras
    nn = zoo.build(name, seed=seed, **model_kwargs)
    rng = np.random.default_rng(seed + 100)
    randomize_batchnorm(nn, rng)
    keep_signal(nn, rng)
    if dtype != "float32":
        nn = with_dtype(nn, dtype)
    return nn, to_keras(nn)


def test_batch(n, seed=0, classes=10, shape=(28, 28, 1)):
    """Uniform [0, 1) images and random labels: no exact ties for MaxPool to break."""
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, classes, n).astype(np.int64)


def forward_diff(nn, k, x, training=False):
    """max |logits_nnlite - logits_keras| for one batch (training=True uses BN batch stats and
    updates the moving statistics in both engines, as each engine does)."""
    a = nn.forward(np.ascontiguousarray(x, nn.layers[0].dtype), training=training)
    b = k(x, training=training).numpy()
    return float(np.abs(a - b).max())


def weight_names(nn):
    return [f"{layer.name}/{key}" for layer, key in nn.trainable()]


def nnlite_loss_and_grads(nn, x, y):
    """(loss incl. L2, [gradient per trainable array]) from nnlite's explicit backward."""
    loss_fn = losses.SparseCategoricalCrossentropy()
    logits = nn.forward(np.ascontiguousarray(x, nn.layers[0].dtype), training=True)
    loss = loss_fn.forward(logits, y) + nn.regularization_loss()
    nn.backward(loss_fn.backward())
    for layer in nn.layers:
        layer.add_regularization_grads()
    return loss, [layer.grads[key].copy() for layer, key in nn.trainable()]


def keras_loss_and_grads(k, x, y):
    """(loss incl. regularisation, [gradient per trainable variable]) via tf.GradientTape."""
    import keras
    import tensorflow as tf
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, k(x, training=True))
        if k.losses:
            loss = loss + tf.add_n(k.losses)
    grads = tape.gradient(loss, k.trainable_variables)
    return float(loss), [g.numpy() for g in grads]


def gradient_diffs(nn, k, x, y):
    """Per trainable array: max abs diff and the worst ratio |diff| / (abs_tol + rel_tol |g_k|)
    (<= 1 means within tolerance everywhere). Also the two losses."""
    loss_nn, g_nn = nnlite_loss_and_grads(nn, x, y)
    loss_k, g_k = keras_loss_and_grads(k, x, y)
    if [g.shape for g in g_nn] != [g.shape for g in g_k]:
        raise AssertionError("the engines list their trainable arrays in different orders")
    rows = []
    for name, a, b in zip(weight_names(nn), g_nn, g_k):
        diff = np.abs(a - b)
        bound = TOLERANCES["gradient_abs"] + TOLERANCES["gradient_rel"] * np.abs(b)
        rows.append({"weight": name, "max_abs_diff": float(diff.max()),
                     "max_abs_grad": float(np.abs(b).max()),
                     "worst_ratio": float((diff / bound).max())})
    return {"loss_nnlite": loss_nn, "loss_keras": loss_k, "rows": rows}


def regularization_losses(nn, k):
    """(nnlite's L2 loss, Keras' sum of model.losses) for the current weights."""
    return float(nn.regularization_loss()), float(sum(float(l) for l in k.losses))


def adam_diffs(nn, k, batches, lr=1e-3, after=None):
    """Train both engines with Adam(lr) over the same ``batches`` [(x, y), ...] through their own
    training steps (nnlite ``train_step``, Keras ``train_on_batch``). Returns the max abs weight
    and BN-statistic differences at the end, or {step: diffs} for each step count in ``after``."""
    import keras
    nn.compile(optimizers.Adam(lr))
    k.compile(optimizer=keras.optimizers.Adam(lr),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    seen = {}
    for step, (x, y) in enumerate(batches, start=1):
        nn.train_step(np.ascontiguousarray(x, nn.layers[0].dtype), y)
        k.train_on_batch(x, y)
        if after is not None and step in after:
            seen[step] = weight_state_diffs(nn, k)
    return seen if after is not None else weight_state_diffs(nn, k)


def weight_state_diffs(nn, k):
    """max abs difference over trainable arrays and over BN moving statistics."""
    params, state = [], []
    k_weights = iter(k.get_weights())
    for layer in nn.layers:
        for a in layer.params.values():
            params.append(float(np.abs(a - next(k_weights)).max()))
        for a in layer.state.values():
            state.append(float(np.abs(a - next(k_weights)).max()))
    return {"weights": max(params), "bn_stats": max(state) if state else 0.0}


def compare(name=None, model=None, dtype="float32", batch_size=8, steps=50, lr=1e-3, seed=0,
            **model_kwargs):
    """Every check once, for a zoo model ``name`` (BN randomised) or a given nnlite ``model``:
    [{"check", "value", "tolerance", "within"}]. Used by ``python -m baselines compare`` and
    parity.md."""
    from .transfer import to_keras

    def fresh():
        if model is None:
            return make_pair(name, seed=seed, dtype=dtype, **model_kwargs)
        nn = with_dtype(model, dtype, dropout_off=True)
        return nn, to_keras(nn)

    with keras_floatx(dtype):
        batches = [test_batch(batch_size, seed + 1 + i) for i in range(max(steps, 1))]
        batches = [(x.astype(dtype), y) for x, y in batches]
        x, y = batches[0]
        nn, k = fresh()
        rows = [("logits: std (the scale the differences compare to)",
                 float(nn.forward(x).std()), None)]
        rows.append(("forward, inference: max |logit diff|", forward_diff(nn, k, x, False),
                     TOLERANCES["forward"]))
        nn, k = fresh()
        rows.append(("forward, training: max |logit diff|", forward_diff(nn, k, x, True),
                     TOLERANCES["forward"]))
        nn, k = fresh()
        ours, theirs = regularization_losses(nn, k)
        rows.append(("L2 loss: relative diff", abs(ours - theirs) / max(abs(theirs), 1e-30)
                     if theirs or ours else 0.0, TOLERANCES["reg_loss_rel"]))
        grads = gradient_diffs(nn, k, x, y)["rows"]
        worst = max(grads, key=lambda r: r["worst_ratio"])
        rows.append((f"gradients: worst |diff|/(1e-6+1e-4|g|) ({worst['weight']})",
                     worst["worst_ratio"], 1.0))
        rows.append(("gradients: max |diff| over all weights",
                     max(r["max_abs_diff"] for r in grads), None))
        nn, k = fresh()
        after = adam_diffs(nn, k, batches[:steps], lr=lr, after=(1, steps))
        rows.append((f"Adam(lr={lr:g}) 1 step: max |weight diff|", after[1]["weights"],
                     TOLERANCES["adam_1"]))
        if steps > 1:
            rows.append((f"Adam {steps} steps: max |weight diff|", after[steps]["weights"],
                         TOLERANCES["adam_50"]))
            rows.append((f"Adam {steps} steps: max |BN moving-stat diff|",
                         after[steps]["bn_stats"], TOLERANCES["bn_stats_50"]))
    return [{"check": c, "value": float(v), "tolerance": t,
             "within": None if t is None else bool(v <= t)} for c, v, t in rows]
