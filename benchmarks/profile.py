"""Per-layer profile of one nnlite training step, and the machine's sgemm peak.

For each layer: median forward (training=True) and backward time over ``repeats`` steps, and
for Conv2D/Dense the GFLOP/s of each pass (forward 2*M*K*N flops; backward twice that: dW and
dX), compared with the float32 matmul peak measured here with NumPy (same BLAS the layers use).
The optimiser update and the loss are timed as their own rows.
"""
import time

import numpy as np

import nnlite
import nnlite.zoo
import nnlite.optimizers
from nnlite.layers import Conv2D, Dense
from nnlite.ops.threads import blas_threads, num_threads


def sgemm_peak(size=1024, repeats=20, threads=None):
    """Best float32 GFLOP/s of a square (size x size) @ (size x size) product, with BLAS using
    ``threads`` threads (default: as many as nnlite's worker threads, NNLITE_NUM_THREADS: the
    arithmetic peak of the cores nnlite computes on)."""
    with blas_threads(threads or num_threads()):
        return _sgemm_peak(size, repeats)


def _sgemm_peak(size, repeats):
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)                                   # warm-up (threads, pages)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t)
    return 2.0 * size ** 3 / best / 1e9


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


def profile_model(name, batch, repeats=20, width=0.25, seed=0):
    """-> list of rows {layer, kind, fwd_ms, bwd_ms, fwd_gflops, bwd_gflops} + totals, with
    threads as nnlite's fit uses them (NNLITE_NUM_THREADS workers, one-thread BLAS)."""
    with blas_threads():
        return _profile_model(name, batch, repeats, width, seed)


def _profile_model(name, batch, repeats, width, seed):
    kwargs = {"width": width} if name == "vgg16" else {}
    model = nnlite.zoo.build(name, seed=seed, **kwargs)
    model.compile(nnlite.optimizers.Adam(1e-3))
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    for _ in range(3):                                         # warm-up: Numba, slots
        model.train_step(x, y)
    n_layers = len(model.layers)
    fwd = np.zeros((repeats, n_layers))
    bwd = np.zeros((repeats, n_layers))
    misc = {"loss": np.zeros(repeats), "optimizer": np.zeros(repeats),
            "step_total": np.zeros(repeats)}
    pairs = model.trainable()
    for r in range(repeats):
        t_step = time.perf_counter()
        out = x
        for i, layer in enumerate(model.layers):
            t = time.perf_counter()
            out = layer.forward(out, training=True)
            fwd[r, i] = time.perf_counter() - t
        t = time.perf_counter()
        model.loss.forward(out, y)
        grad = model.loss.backward()
        misc["loss"][r] = time.perf_counter() - t
        for i in reversed(range(n_layers)):
            t = time.perf_counter()
            grad = model.layers[i].backward(grad)
            bwd[r, i] = time.perf_counter() - t
        t = time.perf_counter()
        for layer in model.layers:
            layer.add_regularization_grads()
        model.optimizer.apply([l.params[k] for l, k in pairs], [l.grads[k] for l, k in pairs])
        misc["optimizer"][r] = time.perf_counter() - t
        misc["step_total"][r] = time.perf_counter() - t_step
    rows = []
    for i, layer in enumerate(model.layers):
        f_ms, b_ms = np.median(fwd[:, i]) * 1e3, np.median(bwd[:, i]) * 1e3
        flops = layer_flops(layer, batch)
        kind = type(layer).__name__
        if isinstance(layer, Conv2D):       # which algorithm the layer ran (nnlite picks)
            kind += ", Winograd" if getattr(layer, "_winograd", False) else ", im2col"
        rows.append({"layer": layer.name, "kind": kind,
                     "output_shape": list(layer.compute_output_shape(layer.input_shape)),
                     "fwd_ms": f_ms, "bwd_ms": b_ms,
                     "fwd_gflops": flops / f_ms / 1e6 if flops else None,
                     "bwd_gflops": 2 * flops / b_ms / 1e6 if flops else None})
    return {"model": name, "batch": batch, "repeats": repeats, "layers": rows,
            "threads": num_threads(),
            "loss_ms": float(np.median(misc["loss"]) * 1e3),
            "optimizer_ms": float(np.median(misc["optimizer"]) * 1e3),
            "step_ms": float(np.median(misc["step_total"]) * 1e3),
            "samples_per_s": batch / float(np.median(misc["step_total"]))}


def format_profile(prof, peak):
    """Markdown table of one profile, with % of the sgemm peak for conv/dense layers. GFLOP/s
    count the direct convolution's multiply-adds, so a Winograd layer's figure is "effective"
    (it does fewer: 16 instead of 36 per 2x2 tile)."""
    lines = [f"**{prof['model']}, batch {prof['batch']}** — one training step "
             f"{prof['step_ms']:.2f} ms median ({prof['samples_per_s']:,.0f} samples/s; "
             f"nnlite threads {prof.get('threads', 1)}; sgemm peak {peak:.0f} GFLOP/s with as many BLAS threads)", "",
             "| layer | output | fwd ms | bwd ms | fwd GFLOP/s (% peak) | bwd GFLOP/s (% peak) |",
             "|---|---|---:|---:|---:|---:|"]

    def g(v):
        return "" if v is None else f"{v:.1f} ({100 * v / peak:.0f}%)"

    for r in prof["layers"]:
        lines.append(f"| {r['layer']} ({r['kind']}) | {tuple(r['output_shape'])} | "
                     f"{r['fwd_ms']:.3f} | {r['bwd_ms']:.3f} | {g(r['fwd_gflops'])} | "
                     f"{g(r['bwd_gflops'])} |")
    lines.append(f"| loss (fwd+bwd) | | {prof['loss_ms']:.3f} | | | |")
    lines.append(f"| optimizer (L2 + Adam) | | {prof['optimizer_ms']:.3f} | | | |")
    total_f = sum(r["fwd_ms"] for r in prof["layers"])
    total_b = sum(r["bwd_ms"] for r in prof["layers"])
    lines.append(f"| **sum of layers** | | **{total_f:.2f}** | **{total_b:.2f}** | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    peak = sgemm_peak()
    for name in sys.argv[1:] or ["ann", "cnn", "vgg16"]:
        for batch in (32, 128):
            print(format_profile(profile_model(name, batch), peak))
            print()
