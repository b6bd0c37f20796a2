"""The alternatives tried for each hot kernel, timed side by side (the "what was tried" table).

    python -m benchmarks.kernels          # writes benchmarks/results/kernels.json and prints a table

Each row times the kernel nnlite uses against the alternatives it replaced or was compared with,
on the shapes of the study's CNN at batch 32, best and median of ``REPEATS`` calls, BLAS limited
to nnlite's thread setting. The thread-pool rows time whole CNN training steps in subprocesses
(the settings must be made before NumPy/Numba start their pools).
"""
import json
import os
import subprocess
import sys
import time

import numba
import numpy as np

from nnlite.ops import bn_input_grad, bn_normalize, bn_param_grads, bn_stats, col2im_add, im2col
from nnlite.ops import adam_update, same_padding, sum_rows
from nnlite.ops.threads import blas_threads

from .cli import RESULTS
from .harness import machine_info

REPEATS = 15


# -- the alternatives (kept here, not in nnlite) ------------------------------------------------
def _im2col_gather(x, kh, kw, stride, pad_top, pad_left, oh, ow):
    """The first version: a Numba gather over images (``prange``: parallel when compiled with
    parallel=True, a plain range otherwise)."""
    n_img, h, w, c = x.shape
    cols = np.empty((n_img * oh * ow, kh * kw * c), dtype=x.dtype)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for a in range(kh):
                    y = i * stride - pad_top + a
                    for b in range(kw):
                        xx = j * stride - pad_left + b
                        base = (a * kw + b) * c
                        for ch in range(c):
                            inside = 0 <= y < h and 0 <= xx < w
                            cols[row, base + ch] = x[n, y, xx, ch] if inside else 0.0
    return cols


# one body, two compilations (not cached on disk: both would share the one cache entry name)
im2col_numba_parallel = numba.njit(parallel=True)(_im2col_gather)
im2col_numba_serial = numba.njit(_im2col_gather)


def col2im_serial(cols, n_img, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow):
    """nnlite's kernel (``col2im_add``, serial Numba) into a fresh zero dx, as the others."""
    dx = np.zeros((n_img, h, w, c), dtype=cols.dtype)
    col2im_add(cols, dx, kh, kw, stride, pad_top, pad_left, oh, ow)
    return dx


@numba.njit(parallel=True, cache=True)
def col2im_numba_parallel(cols, n_img, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow):
    dx = np.zeros((n_img, h, w, c), dtype=cols.dtype)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for a in range(kh):
                    y = i * stride - pad_top + a
                    for b in range(kw):
                        xx = j * stride - pad_left + b
                        if 0 <= y < h and 0 <= xx < w:
                            base = (a * kw + b) * c
                            for ch in range(c):
                                dx[n, y, xx, ch] += cols[row, base + ch]
    return dx


def col2im_slice_adds(cols, n, h, w, c, kh, kw, stride, pt, pl, oh, ow):
    """kh*kw NumPy slice-adds into a padded buffer."""
    hp, wp = max((oh - 1) * stride + kh, h + pt), max((ow - 1) * stride + kw, w + pl)
    dxp = np.zeros((n, hp, wp, c), cols.dtype)
    c6 = cols.reshape(n, oh, ow, kh, kw, c)
    for a in range(kh):
        for b in range(kw):
            dxp[:, a:a + stride * oh:stride, b:b + stride * ow:stride, :] += c6[:, :, :, a, b, :]
    return dxp[:, pt:pt + h, pl:pl + w, :]


@numba.njit(cache=True)
def adam_python_error_model(w, g, m, v, alpha, beta_1, beta_2, epsilon):
    """The first version: float64 constants, Python error model (no vectorisation)."""
    one_m_b1 = 1.0 - beta_1
    one_m_b2 = 1.0 - beta_2
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_m_b1
        vi = v[i] + (gi * gi - v[i]) * one_m_b2
        m[i] = mi
        v[i] = vi
        w[i] -= alpha * mi / (np.sqrt(vi) + epsilon)


def bn_numpy(x, gamma, beta, dy):
    """The first version of BatchNormalization (training forward + backward) in NumPy."""
    mean, var = x.mean(0), x.var(0)
    inv = (1.0 / np.sqrt(var + 1e-3)).astype(x.dtype)
    xhat = (x - mean) * inv
    y = xhat * gamma + beta
    dg, db = (dy * xhat).sum(0), dy.sum(0)
    dx = gamma * inv * (dy - db / len(x) - xhat * (dg / len(x)))
    return y, dx


def bn_kernels(x, gamma, beta, dy):
    mean, var = bn_stats(x.reshape(32, -1, x.shape[-1]))     # per image, as the layer does
    inv = (1.0 / np.sqrt(var + 1e-3)).astype(x.dtype)
    xhat, y = bn_normalize(x, mean, inv, gamma, beta)
    dg, db = bn_param_grads(dy.reshape(32, -1, dy.shape[-1]), xhat.reshape(32, -1, dy.shape[-1]))
    return y, bn_input_grad(dy, xhat, gamma * inv, dg, db)


# -- timing ---------------------------------------------------------------------------------------
def _time(fn, *args):
    fn(*args)
    ts = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(*args)
        ts.append(time.perf_counter() - t)
    return {"best_ms": min(ts) * 1e3, "median_ms": float(np.median(ts)) * 1e3}


def kernel_rows():
    rng = np.random.default_rng(0)
    rows = []
    for (n, h, c, k) in ((32, 28, 1, 3), (32, 14, 32, 5), (32, 7, 64, 3)):
        x = rng.random((n, h, h, c), dtype=np.float32)
        p = same_padding(h, k, 1)[0]
        args = (x, k, k, 1, p, p, h, h)
        shape = f"x {x.shape}, {k}x{k} same"
        for name, fn in (("strided view + one copy (nnlite)", im2col),
                         ("Numba gather, serial", im2col_numba_serial),
                         ("Numba gather, prange", im2col_numba_parallel)):
            rows.append({"kernel": "im2col", "shape": shape, "variant": name, **_time(fn, *args)})
        cols = rng.random((n * h * h, k * k * c), dtype=np.float32)
        cargs = (cols, n, h, h, c, k, k, 1, p, p, h, h)
        for name, fn in (("Numba serial (nnlite)", col2im_serial),
                         ("kh*kw NumPy slice-adds", col2im_slice_adds),
                         ("Numba prange", col2im_numba_parallel)):
            rows.append({"kernel": "col2im", "shape": shape, "variant": name, **_time(fn, *cargs)})
    x = rng.standard_normal((32 * 28 * 28, 32)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    g, b = np.ones(32, np.float32), np.zeros(32, np.float32)
    for name, fn in (("Numba passes (nnlite)", bn_kernels), ("NumPy expressions", bn_numpy)):
        rows.append({"kernel": "batchnorm fwd+bwd", "shape": str(x.shape), "variant": name,
                     **_time(fn, x, g, b, dy)})
    for name, fn in (("sum_rows, Numba, float64 sums (nnlite)", sum_rows),
                     ("dz.sum(axis=0)", lambda a: a.sum(axis=0))):
        rows.append({"kernel": "bias gradient", "shape": str(dy.shape), "variant": name,
                     **_time(fn, dy)})
    w = rng.standard_normal(401408).astype(np.float32)
    gr, m, v = w.copy(), np.zeros_like(w), np.zeros_like(w)
    c32 = np.float32
    for name, fn in (("float32, numpy error model (nnlite)", adam_update),
                     ("float64 constants, python error model", adam_python_error_model)):
        rows.append({"kernel": "Adam update", "shape": "401,408 floats (ANN's first kernel)",
                     "variant": name,
                     **_time(fn, w, gr, m, v, c32(1e-3), c32(0.9), c32(0.999), c32(1e-7))})
    return rows


STEP_SCRIPT = """
import time, numpy as np, nnlite.zoo, nnlite.optimizers
m = nnlite.zoo.build("cnn", seed=0); m.compile(nnlite.optimizers.Adam(1e-3))
rng = np.random.default_rng(0); x = rng.random((32, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, 32)
for _ in range(3): m.train_step(x, y)
ts = []
for _ in range(25):
    t = time.perf_counter(); m.train_step(x, y); ts.append(time.perf_counter() - t)
print(min(ts) * 1e3, float(np.median(ts)) * 1e3)
"""


def thread_rows():
    """CNN train_step (batch 32) with 1 or 2 OpenBLAS threads, each in a fresh process."""
    rows = []
    for threads in (1, 2, 1, 2):                 # twice, interleaved: the machine is shared
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), NNLITE_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, "-c", STEP_SCRIPT], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        rows.append({"kernel": "CNN train_step, batch 32", "shape": "",
                     "variant": f"{threads} OpenBLAS thread(s)", "best_ms": float(out[0]),
                     "median_ms": float(out[1])})
    return rows


def main():
    with blas_threads():
        rows = kernel_rows()
    rows += thread_rows()
    result = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "load_average": os.getloadavg(), "machine": machine_info(), "repeats": REPEATS,
              "rows": rows}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "kernels.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(table(result))


def table(result):
    lines = ["| kernel | shape | variant | best ms | median ms |", "|---|---|---|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['kernel']} | {r['shape']} | {r['variant']} | {r['best_ms']:.2f} | "
                     f"{r['median_ms']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
