"""trace(model, x, y): run ONE real training step and print what happened, layer by layer.

The step is the engine's own ``model.train_step``; the transcript is gathered by an observer
(``nnlite.callbacks.Observer``) attached for that one step. So the numbers printed are those
of the engine, not of a re-implementation. The step IS applied (the weights,
the optimizer's moments and BatchNorm's moving statistics change), exactly as in ``fit``.

Sections of the transcript:
  1. FORWARD   each layer's output shape and mean/std/min/max
  2. LOSS      the loss, and dL/dlogits = (softmax(logits) - onehot(y)) / N
  3. BACKWARD  last layer first: |dL/d input| each layer passes down, and |dL/d param|
               (the data term; an L2 regulariser's 2c*w is added just before the update)
  4. UPDATE    per parameter: the gradient used, |w|, the step |dw| and |dw|/|w|
"""
import numpy as np

from ..callbacks import Observer
from ..validation import as_labels
from .stats import l2_norm, tensor_stats


class Trace:
    """What one step did. ``text`` is the transcript; the lists hold the numbers it prints."""

    def __init__(self):
        self.header = {}
        self.forward = []     # per layer, in order: name, type, output_shape, stats
        self.loss = {}        # loss, regularization, total, dlogits_shape, dlogits_norm
        self.backward = []    # per layer, last first: name, type, grad_in_shape, grad_in_norm, params
        self.update = []      # per parameter: layer, param, shape, grad_norm, weight_norm, update_norm, ratio, max_abs
        self.text = ""

    def to_dict(self):
        return {"header": self.header, "forward": self.forward, "loss": self.loss,
                "backward": self.backward, "update": self.update}

    def __str__(self):
        return self.text


def trace(model, x, y, print_fn=print):
    """Run one training step of ``model`` on the batch (x, y) and return a ``Trace``.

    x: (N, *input_shape) floats; y: (N,) integer labels. An uncompiled model is compiled with
    Adam(1e-3) and sparse categorical cross-entropy first (as ``compile()``'s defaults).
    ``print_fn`` receives the transcript (None: print nothing).
    """
    x = model._check_x(x)
    y = as_labels(y, "y", model.output_shape[-1], length=len(x))
    if model.optimizer is None or model.loss is None:
        model.compile()
    out = Trace()
    opt = model.optimizer
    out.header = {"model": model.name, "x_shape": list(x.shape), "x_dtype": str(x.dtype),
                  "y_shape": list(y.shape), "optimizer": _describe(opt), "step": opt.iterations + 1,
                  "learning_rate": opt.current_lr()}

    with model.observing(_TraceObserver(out, model)):
        model.train_step(x, y)
    out.loss["total"] = out.loss["loss"] + out.loss["regularization"]
    out.text = format_trace(out, opt)
    if print_fn is not None:
        print_fn(out.text)
    return out


class _TraceObserver(Observer):
    """Fills a ``Trace`` from the observer hooks of one training step."""
    wants_input_grads = True      # show dL/dx down to the input, as learners expect

    def __init__(self, out, model):
        self.out, self.model = out, model

    def on_forward(self, i, layer, x, y, training):
        self.out.forward.append({"index": i, "name": layer.name, "type": type(layer).__name__,
                                 "output_shape": list(y.shape), "stats": tensor_stats(y)})

    def on_backward(self, i, layer, grad_out, grad_in):
        self.out.backward.append({
            "index": i, "name": layer.name, "type": type(layer).__name__,
            "grad_in_shape": list(grad_in.shape), "grad_in_norm": l2_norm(grad_in),
            "params": {k: {"shape": list(g.shape), "norm": l2_norm(g)}
                       for k, g in layer.grads.items()},
            "l2": getattr(layer, "kernel_regularizer", None) is not None})

    def on_loss(self, loss, grad_logits):
        self.out.loss = {"loss": loss, "regularization": float(self.model.regularization_loss()),
                         "dlogits_shape": list(grad_logits.shape),
                         "dlogits_norm": l2_norm(grad_logits)}

    def before_update(self, pairs, grads):
        opt = self.model.optimizer
        self.before = [layer.params[key].astype(np.float64) for layer, key in pairs]
        self.out.header.update(applied_lr=opt.current_lr(), t=opt.iterations + 1)

    def after_update(self, pairs, grads):
        for (layer, key), w0, g in zip(pairs, self.before, grads):
            p = layer.params[key]
            step = p.astype(np.float64) - w0
            weight, size = l2_norm(w0), l2_norm(step)
            self.out.update.append({"layer": layer.name, "param": key, "shape": list(p.shape),
                                    "grad_norm": l2_norm(g), "weight_norm": weight,
                                    "update_norm": size, "ratio": size / weight if weight else None,
                                    "max_abs": float(np.abs(step).max())})


def _describe(opt):
    cfg = opt.get_config() if hasattr(opt, "get_config") else {}
    name = type(opt).__name__
    args = ", ".join(f"{k}={v}" for k, v in cfg.items() if k != "name")
    return f"{name}({args})"


def _shape(s):
    return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"


def format_trace(tr, opt):
    """The transcript as text (fixed columns; norms printed as %.4e)."""
    h = tr.header
    nw = max([len(f"{f['name']} ({f['type']})") for f in tr.forward] + [12]) + 2
    lines = [f"One training step of '{h['model']}': x {_shape(h['x_shape'])} {h['x_dtype']}, "
             f"y {_shape(h['y_shape'])}; {h['optimizer']}, step t={h['step']}",
             "", "1. FORWARD (training=True): each layer's output",
             f"  {'#':>3}  {'layer (type)':<{nw}}{'output shape':<20}{'mean':>11}{'std':>11}"
             f"{'min':>11}{'max':>11}"]
    for f in tr.forward:
        s = f["stats"]
        lines.append(f"  {f['index']:>3}  {f['name'] + ' (' + f['type'] + ')':<{nw}}"
                     f"{_shape(f['output_shape']):<20}{s['mean']:>11.3e}{s['std']:>11.3e}"
                     f"{s['min']:>11.3e}{s['max']:>11.3e}")
    ls = tr.loss
    lines += ["", "2. LOSS",
              f"  cross-entropy = {ls['loss']:.6f}   L2 penalty = {ls['regularization']:.6f}   "
              f"total = {ls['total']:.6f}",
              f"  dL/dlogits = (softmax(logits) - onehot(y)) / N   shape "
              f"{_shape(ls['dlogits_shape'])}   norm {ls['dlogits_norm']:.4e}",
              "", "3. BACKWARD (last layer first): the gradient each layer passes down, "
              "and its parameter gradients",
              f"  {'#':>3}  {'layer (type)':<{nw}}{'dL/d input shape':<20}{'|dL/d input|':>14}"]
    for b in tr.backward:
        lines.append(f"  {b['index']:>3}  {b['name'] + ' (' + b['type'] + ')':<{nw}}"
                     f"{_shape(b['grad_in_shape']):<20}{b['grad_in_norm']:>14.4e}")
        for k, g in b["params"].items():
            note = "   (+ L2 gradient 2c*w before the update)" if b["l2"] and k == "kernel" else ""
            lines.append(f"  {'':>3}      dL/d {k:<12}{_shape(g['shape']):<20}"
                         f"|g| = {g['norm']:.4e}{note}")
    head = f"4. UPDATE ({type(opt).__name__}, t={h.get('t')}, learning rate {h.get('applied_lr'):g}"
    if hasattr(opt, "beta_1"):
        alpha = opt.step_size(h["applied_lr"], h["t"], np.dtype(h["x_dtype"]))
        head += f"; alpha = lr*sqrt(1-beta_2^t)/(1-beta_1^t) = {alpha:.4e}"
    lines += ["", head + ")",
              f"  {'parameter':<30}{'shape':<18}{'|g| used':>12}{'|w| before':>12}{'|dw|':>12}"
              f"{'|dw|/|w|':>12}{'max|dw|':>12}"]
    for u in tr.update:
        ratio = f"{u['ratio']:>12.3e}" if u["ratio"] is not None else f"{'-':>12}"
        lines.append(f"  {u['layer'] + '/' + u['param']:<30}{_shape(u['shape']):<18}"
                     f"{u['grad_norm']:>12.4e}{u['weight_norm']:>12.4e}{u['update_norm']:>12.4e}"
                     f"{ratio}{u['max_abs']:>12.3e}")
    return "\n".join(lines)
