"""The 2-3-2 network of ``nnlite trace --tiny``, and every value of a step printed in full.

    x (1, 2) -> Dense(3) -> ReLU -> Dense(2) -> logits (1, 2) -> softmax cross-entropy

The weights are fixed, readable decimals in float64, chosen so that the sums are easy by hand
and one hidden unit is dead (its pre-activation is negative): its weights get exactly zero
gradient and Adam leaves them where they are. The ReLU is a layer of its own, the same
computation as ``Dense(3, activation="relu")``, so that z1 (before) and a1 (after the ReLU)
are each a layer's output. docs/backprop.md works the same step by hand.

``format_values(values)`` prints what ``record_step`` kept, for any small stack of Dense and
activation layers: section 0 the input and weights, 1 the forward pass, 2 the loss, 3 the
backward pass (last layer first), 4 the update with the optimizer's moments, 5 a forward pass
with the new weights.
"""
import numpy as np

from ..layers import Dense, ReLU
from ..optimizers import Adam
from ..sequential import Sequential

TINY_X = [[1.0, 2.0]]
TINY_LABEL = [1]
TINY_LEARNING_RATE = 0.01
TINY_WEIGHTS = {                      # layer name -> key -> value
    "dense": {"kernel": [[0.1, 0.2, -0.3],
                         [0.4, -0.5, 0.6]],
              "bias": [0.1, 0.0, -0.1]},
    "dense_1": {"kernel": [[0.5, -0.5],
                           [0.3, 0.2],
                           [-0.4, 0.6]],
                "bias": [0.0, 0.1]},
}
ACTIVATION_SYMBOL = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax"}
PAD = 48                              # column where "= value" starts
LOCAL_DERIVATIVE = {"ReLU": "* [{x} > 0]", "Sigmoid": "* {y} (1 - {y})",
                    "Tanh": "* (1 - {y}^2)"}


def tiny_model(learning_rate=TINY_LEARNING_RATE):
    """-> (model, x (1, 2) float64, labels (1,)): the 2-3-2 net with TINY_WEIGHTS, compiled
    with Adam(learning_rate) and sparse categorical cross-entropy."""
    model = Sequential([Dense(3, dtype="float64"), ReLU(dtype="float64"),
                        Dense(2, dtype="float64")], input_shape=(2,), seed=0, name="tiny")
    for layer in model.layers:
        for key, value in TINY_WEIGHTS.get(layer.name, {}).items():
            layer.params[key][...] = value
    model.compile(Adam(learning_rate))
    return model, np.array(TINY_X, np.float64), np.array(TINY_LABEL)


def num(v, digits=4):
    """One number with ``digits`` significant digits, trailing zeros kept (0.5 -> 0.5000)."""
    return f"{float(v) + 0.0:#.{digits}g}"          # + 0.0: no "-0.000"


def _rows(a, digits):
    a = np.asarray(a, np.float64)
    a = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
    cells = [[num(v, digits) for v in row] for row in a]
    width = max(len(c) for row in cells for c in row)
    return ["[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]


def _head(label, indent):
    head = " " * indent + label
    return (head.ljust(PAD) if len(head) < PAD else head + " ") + "= "


def _line(label, a, digits, indent=2):
    """``label = [ ... ]``; a matrix continues on the next lines, aligned under the first."""
    rows, head = _rows(a, digits), _head(label, indent)
    return [head + rows[0]] + [" " * len(head) + r for r in rows[1:]]


def _scalar(label, text, indent=2):
    return _head(label, indent) + text


def _dims(a):
    return "x".join(map(str, a.shape[1:]))


def _symbols(model):
    """Math names of each layer's output and weights: Dense k -> z{k}, W{k}, b{k}; an
    activation layer after it -> a{k}; anything else -> h{index}."""
    outs, params, k = [], {}, 0
    for i, layer in enumerate(model.layers):
        if layer.params:
            k += 1
            for key in layer.params:
                params[(layer.name, key)] = {"kernel": "W", "bias": "b"}.get(key, key) + str(k)
            outs.append(f"z{k}")
        elif type(layer).__name__ in ACTIVATION_SYMBOL:
            outs.append(f"a{k}")
        else:
            outs.append(f"h{i}")
    return outs, params


def _forward_formula(layer, x, sym, params):
    name = type(layer).__name__
    if isinstance(layer, Dense):
        core = f"{x} {params[(layer.name, 'kernel')]} + {params[(layer.name, 'bias')]}"
        return f"{sym} = {layer.activation}({core})" if layer.activation else f"{sym} = {core}"
    if name in ACTIVATION_SYMBOL:
        return f"{sym} = {ACTIVATION_SYMBOL[name]}({x})"
    return f"{sym} = {name}({x})"


def _backward_lines(layer, x, y, grad_in, grads, params, digits):
    dy, name = f"dL/d{y}", type(layer).__name__
    lines = []
    if isinstance(layer, Dense):
        w, b = params[(layer.name, "kernel")], params[(layer.name, "bias")]
        dz = dy if not layer.activation else f"({layer.activation}'({y}) * {dy})"
        lines += _line(f"dL/d{w} = {x}^T {dz}", grads["kernel"], digits, 4)
        lines += _line(f"dL/d{b} = {dz} summed over the samples", grads["bias"], digits, 4)
        rule = f"{dz} {w}^T"
    elif name in LOCAL_DERIVATIVE:
        rule = f"{dy} " + LOCAL_DERIVATIVE[name].format(x=x, y=y)
    else:
        rule = f"{name}.backward({dy})"
    if grad_in is not None:
        lines += _line(f"dL/d{x} = {rule}", grad_in, digits, 4)
    return lines


def format_values(values, digits=4):
    """The text of ``record_step``'s values: every array in full, ``digits`` significant."""
    model, opt = values.model, values.optimizer
    outs, params = _symbols(model)
    ins = ["x"] + outs[:-1]
    n, k = len(values.x), values.probs.shape[-1]
    chain = f"x ({_dims(values.x)})" + "".join(
        f" -> {layer.name} ({type(layer).__name__}, {_dims(y)})" for _, layer, y in values.forward)
    cfg = getattr(opt, "get_config", dict)()
    settings = ", ".join(f"{key} = {num(v, digits) if isinstance(v, float) else v}"
                         for key, v in cfg.items() if key != "name")
    lines = [f"One training step of '{model.name}', every value ({values.x.dtype}; printed "
             f"to {digits} significant digits)",
             f"  {chain} -> softmax cross-entropy",
             f"  {type(opt).__name__}: {settings}; step t = {values.t}", "",
             "0. INPUT, LABEL AND WEIGHTS"]
    lines += _line(f"x  ({n} sample{'s' if n > 1 else ''})", values.x, digits)
    lines += [f"  label = {', '.join(str(int(c)) for c in values.labels)}"]
    lines += _line("y = one-hot(label)", np.eye(k)[values.labels], digits)
    for layer, key, a in values.weights:
        lines += _line(f"{params[(layer.name, key)]}  {layer.name}/{key} "
                       f"{tuple(a.shape)}", a, digits)
    lines += ["", "1. FORWARD (each layer's output)"]
    for (i, layer, y), x, sym in zip(values.forward, ins, outs):
        lines += _line(f"{_forward_formula(layer, x, sym, params)}   ({layer.name})", y, digits)
    lines += [f"  {outs[-1]} is the logits", "", "2. LOSS (softmax cross-entropy, the mean "
              f"over N = {n})"]
    lines += _line("p = softmax(logits)", values.probs, digits)
    lines += [_scalar("L = -log p[label]", num(values.loss, digits))]
    lines += _line(f"dL/d{outs[-1]} = dL/dlogits = (p - y) / N", values.grad_logits, digits)
    lines += ["", "3. BACKWARD (last layer first)"]
    for i, layer, _, grad_in, grads in values.backward:
        lines.append(f"  {layer.name} ({type(layer).__name__})")
        lines += _backward_lines(layer, ins[i], outs[i], grad_in, grads, params, digits)
    lines += ["", *_update_lines(values, params, digits)]
    if values.logits_after is not None:
        lines += ["", "5. AFTER THE STEP (a forward pass with the new weights, training=False)"]
        for layer, x, sym, y in zip(model.layers, ins, outs, values.forward_after):
            lines += _line(f"{_forward_formula(layer, x, sym, params)}   ({layer.name})", y,
                           digits)
        lines += _line("p = softmax(logits)", values.probs_after, digits)
        lines += [_scalar("L", f"{num(values.loss_after, digits)}   (was "
                                f"{num(values.loss, digits)})")]
    return "\n".join(lines)


def _update_lines(values, params, digits):
    opt, t = values.optimizer, values.t
    lines = [f"4. UPDATE ({type(opt).__name__}, step t = {t}, learning rate "
             f"{num(values.learning_rate, digits)})"]
    adam = hasattr(opt, "beta_1")
    if adam:
        b1, b2 = opt.beta_1, opt.beta_2
        alpha = opt.step_size(values.learning_rate, t, values.x.dtype)   # as the step did
        lines += [f"  1 - beta_1 = {num(1 - b1, digits)}    1 - beta_2 = {num(1 - b2, digits)}"
                  f"    epsilon = {num(opt.epsilon, digits)}",
                  _scalar("alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)",
                          num(alpha, digits))]
    for u in values.update:
        sym = params[(u["layer"].name, u["key"])]
        lines.append(f"  {sym}  {u['layer'].name}/{u['key']}")
        lines += _line(f"g = dL/d{sym}", u["grad"], digits, 4)
        if adam:
            lines += _line("m = beta_1 m + (1 - beta_1) g", u["slots"]["m"], digits, 4)
            lines += _line("v = beta_2 v + (1 - beta_2) g^2", u["slots"]["v"], digits, 4)
            rule = "step = alpha m / (sqrt(v) + epsilon)"
        else:
            for name, a in u["slots"].items():
                lines += _line(name, a, digits, 4)
            rule = "step = before - after"
        lines += _line(rule, u["before"] - u["after"], digits, 4)
        lines += _line(f"{sym} - step (the new {sym})", u["after"], digits, 4)
    return lines
