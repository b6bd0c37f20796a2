"""Per-layer profile of one nnlite training step, against the machine's limits.

For each unit the model runs (a layer, or a fused chain such as conv -> BN -> ReLU -> pool when
``model.fuse`` is on: ``nnlite/layers/fusion.py``): the median forward (training=True) and
backward time over ``repeats`` steps, as ``train_step`` runs them (backward stops at the lowest
layer with weights, which skips its input gradient). Compared with the limits
(``benchmarks/limits.py``):

- conv/dense layers: GFLOP/s (forward 2*M*K*N flops; backward dW, plus dX above the lowest
  layer) vs the float32 sgemm peak with as many threads as nnlite uses;
- memory-bound layers (BatchNorm, activations, pooling, dropout): the bytes they must move at
  least (forward: read the input, write the output; backward: read dy and the saved input or
  output, write dx) per second, vs the one-thread copy bandwidth (their kernels run on one
  thread). Activations of a batch of 32 fit in the caches, so this can exceed 100 %.

Switches (``apply_switches``) turn the round-2 measures off for before/after figures: fusion,
the direct first-layer loops, and the inference kernel-transform cache.
"""
import os
import time

import numpy as np

import nnlite.optimizers
import nnlite.zoo
from nnlite.layers import (BatchNormalization, Conv2D, Dense, Dropout, MaxPool2D, ReLU,
                           Sigmoid, Softmax, Tanh)
from nnlite.layers.conv2d import DIRECT_MAX_CHANNELS
from nnlite.layers.fusion import Block, Plan
from nnlite.ops.threads import blas_threads, num_threads

from .harness import machine_info
from .limits import copy_bandwidth, sgemm_peak

MEMORY_BOUND = (BatchNormalization, ReLU, Sigmoid, Tanh, Softmax, MaxPool2D, Dropout)


def layer_flops(layer, batch):
    """Forward multiply-add flops (2*M*K*N) of a Conv2D / Dense layer, else 0. For Conv2D only
    the kernel taps that touch the image count (the ones nnlite computes, ``used_taps``)."""
    if isinstance(layer, Conv2D):
        taps_h, taps_w, oh, ow, _, _ = layer._taps(layer.input_shape)
        _, _, c, f = layer.params["kernel"].shape
        kh, kw = taps_h.stop - taps_h.start, taps_w.stop - taps_w.start
        return 2.0 * batch * oh * ow * kh * kw * c * f
    if isinstance(layer, Dense):
        k, n = layer.params["kernel"].shape
        return 2.0 * batch * k * n
    return 0.0


def layer_bytes(layer, batch):
    """(forward, backward) bytes a memory-bound layer must move at least, else (0, 0)."""
    if not isinstance(layer, MEMORY_BOUND):
        return 0, 0
    item = np.dtype(layer.dtype).itemsize * batch
    x = item * int(np.prod(layer.input_shape))
    y = item * int(np.prod(layer.compute_output_shape(layer.input_shape)))
    return x + y, x + y + (y if isinstance(layer, MaxPool2D) else x)


def apply_switches(model, fuse=True, direct=True, cache=True):
    """Turn nnlite's round-2 measures on or off: fused chains (``model.fuse``), the direct loops
    for first layers ("auto" -> "im2col" where it would pick them) and the inference cache of
    Winograd kernel transforms (``Conv2D.reuse_transforms``)."""
    model.fuse = fuse
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            layer.reuse_transforms = cache
            few = layer.params["kernel"].shape[2] <= DIRECT_MAX_CHANNELS
            if few and layer.algorithm in ("auto", "im2col"):
                layer.algorithm = "auto" if direct else "im2col"
    return model


def _units(model):
    """[(unit, its layers)] as the model's training step runs them."""
    if model.fuse:
        return [(u, u.layers if isinstance(u, Block) else [u]) for _, u in Plan(model.layers).units]
    return [(layer, [layer]) for layer in model.layers]


def _kind(unit, layers):
    names = []
    for layer in layers:
        name = type(layer).__name__
        names.append(f"{name}, {layer.last_algorithm}" if isinstance(layer, Conv2D) else name)
    return ("fused: " if isinstance(unit, Block) else "") + " + ".join(names)


def profile_model(name, batch, repeats=20, width=0.25, seed=0, **switches):
    """-> dict with a row per unit {layer, kind, fwd_ms, bwd_ms, GFLOP/s, GB/s} and totals, with
    threads as nnlite's fit uses them (NNLITE_NUM_THREADS workers, one-thread BLAS)."""
    with blas_threads():
        return _profile_model(name, batch, repeats, width, seed, switches)


def _profile_model(name, batch, repeats, width, seed, switches):
    kwargs = {"width": width} if name == "vgg16" else {}
    model = apply_switches(nnlite.zoo.build(name, seed=seed, **kwargs), **switches)
    model.compile(nnlite.optimizers.Adam(1e-3))
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    for _ in range(3):                                         # warm-up: Numba, slots
        model.train_step(x, y)
    units = _units(model)
    lowest = next(i for i, (_, ls) in enumerate(units) if any(l.params for l in ls))
    fwd, bwd = np.zeros((repeats, len(units))), np.zeros((repeats, len(units)))
    misc = {k: np.zeros(repeats) for k in ("loss", "optimizer", "step_total")}
    pairs = model.trainable()
    for r in range(repeats):
        t_step = time.perf_counter()
        out = x
        for i, (unit, _) in enumerate(units):
            t = time.perf_counter()
            out = unit.forward(out, training=True)
            fwd[r, i] = time.perf_counter() - t
        t = time.perf_counter()
        model.loss.forward(out, y)
        grad = model.loss.backward()
        misc["loss"][r] = time.perf_counter() - t
        for i in range(len(units) - 1, lowest - 1, -1):
            t = time.perf_counter()
            grad = units[i][0].backward(grad, need_input_grad=i > lowest)
            bwd[r, i] = time.perf_counter() - t
        t = time.perf_counter()
        for layer in model.layers:
            layer.add_regularization_grads()
        model.optimizer.apply([l.params[k] for l, k in pairs], [l.grads[k] for l, k in pairs])
        misc["optimizer"][r] = time.perf_counter() - t
        misc["step_total"][r] = time.perf_counter() - t_step
    rows = []
    for i, (unit, layers) in enumerate(units):
        f_ms, b_ms = np.median(fwd[:, i]) * 1e3, np.median(bwd[:, i]) * 1e3
        flops = sum(layer_flops(layer, batch) for layer in layers)
        f_bytes, b_bytes = layer_bytes(layers[0], batch) if len(layers) == 1 else (0, 0)
        b_flops = flops * (2 if i > lowest else 1)
        rows.append({"layer": "+".join(layer.name for layer in layers),
                     "kind": _kind(unit, layers),
                     "output_shape": list(layers[-1].compute_output_shape(layers[-1].input_shape)),
                     "fwd_ms": f_ms, "bwd_ms": b_ms,
                     "fwd_gflops": flops / f_ms / 1e6 if flops else None,
                     "bwd_gflops": b_flops / b_ms / 1e6 if flops and b_ms else None,
                     "fwd_bytes": f_bytes, "bwd_bytes": b_bytes,
                     "fwd_gbs": f_bytes / f_ms / 1e6 if f_bytes else None,
                     "bwd_gbs": b_bytes / b_ms / 1e6 if b_bytes and b_ms else None})
    step = float(np.median(misc["step_total"]))
    return {"model": name, "batch": batch, "repeats": repeats, "layers": rows,
            "threads": num_threads(), "switches": {"fuse": model.fuse, **switches},
            "train_flops": 3 * sum(layer_flops(layer, batch) for layer in model.layers),
            "loss_ms": float(np.median(misc["loss"]) * 1e3),
            "optimizer_ms": float(np.median(misc["optimizer"]) * 1e3),
            "step_ms": step * 1e3, "samples_per_s": batch / step}


def format_profile(prof, peak, bandwidth=None):
    """Markdown table of one profile: % of the sgemm peak for conv/dense layers (GFLOP/s count
    the direct convolution's multiply-adds, so Winograd's are "effective": it does fewer), % of
    the one-thread copy bandwidth for memory-bound layers."""
    bw = f"; copy bandwidth {bandwidth:.1f} GB/s on one thread" if bandwidth else ""
    step_gflops = prof.get("train_flops", 0) / prof["step_ms"] / 1e6
    step_rate = (f", {step_gflops:.0f} GFLOP/s = {100 * step_gflops / peak:.0f} % of the sgemm "
                 f"peak" if step_gflops else "")
    lines = [f"**{prof['model']}, batch {prof['batch']}** — one training step "
             f"{prof['step_ms']:.2f} ms median ({prof['samples_per_s']:,.0f} samples/s"
             f"{step_rate}; nnlite threads {prof.get('threads', 1)}; sgemm peak {peak:.0f} "
             f"GFLOP/s with as many BLAS threads{bw})", "",
             "| layer | output | fwd ms | bwd ms | fwd GFLOP/s or GB/s (% limit) | "
             "bwd GFLOP/s or GB/s (% limit) |", "|---|---|---:|---:|---:|---:|"]

    def rate(row, side):
        g, b = row.get(f"{side}_gflops"), row.get(f"{side}_gbs")
        if g is not None:
            return f"{g:.1f} GFLOP/s ({100 * g / peak:.0f}%)"
        if b is not None:
            return f"{b:.1f} GB/s" + (f" ({100 * b / bandwidth:.0f}%)" if bandwidth else "")
        return ""

    for r in prof["layers"]:
        lines.append(f"| {r['layer']} ({r['kind']}) | {tuple(r['output_shape'])} | "
                     f"{r['fwd_ms']:.3f} | {r['bwd_ms']:.3f} | {rate(r, 'fwd')} | "
                     f"{rate(r, 'bwd')} |")
    lines.append(f"| loss (fwd+bwd) | | {prof['loss_ms']:.3f} | | | |")
    lines.append(f"| optimizer (L2 + Adam) | | {prof['optimizer_ms']:.3f} | | | |")
    total_f = sum(r["fwd_ms"] for r in prof["layers"])
    total_b = sum(r["bwd_ms"] for r in prof["layers"])
    lines.append(f"| **sum of layers** | | **{total_f:.2f}** | **{total_b:.2f}** | | |")
    return "\n".join(lines)


def run(model, repeats=20, batches=(32, 128), log=print, **switches):
    """``python -m benchmarks --profile MODEL``: the limits, then a profile per batch size."""
    result = {"kind": "profile", "model": model, "machine": machine_info(),
              "sgemm_peak_gflops": sgemm_peak(),
              "copy_bandwidth_gbs": {f"threads_{t}": copy_bandwidth(threads=t) for t in (1, 2)},
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "load_average": os.getloadavg(), "profiles": []}
    for batch in batches:
        log(f"profiling {model} at batch {batch} ...")
        result["profiles"].append(profile_model(model, batch, repeats=repeats, **switches))
    return result


def format_result(result):
    """Every profile of a ``run`` result as markdown."""
    bandwidth = result.get("copy_bandwidth_gbs", {}).get("threads_1")
    return "\n\n".join(format_profile(p, result["sgemm_peak_gflops"], bandwidth)
                       for p in result["profiles"])


if __name__ == "__main__":
    import sys
    for name in sys.argv[1:] or ["ann", "cnn", "vgg16"]:
        print(format_result(run(name)))
        print()
