"""One engine, one model, in its own process: reads JSON commands on stdin, answers on stdout.

Running each engine in its own process keeps the peak RSS per engine (TensorFlow's ~1 GB does
not land on nnlite's number), and lets the harness interleave the two engines' repeats.

Commands (one JSON object per line; every answer is one JSON line):
    {"op": "setup", "engine", "model", "width", "train_batches", "infer_batches"}
        builds the model, loads data, runs the warm-up (first calls: Numba compile or load from
        its cache, TF tracing) and answers with the warm-up seconds and the peak RSS so far
    {"op": "train", "batch", "samples"}       -> {"fit_s", "steady_s", "steady_samples"}
    {"op": "predict", "batch", "samples"}     -> {"seconds"}
    {"op": "latency", "calls"}                -> {"seconds": [...]}
    {"op": "rss"}                             -> {"peak_rss_mb"}
    {"op": "quit"}
"""
import json
import os
import resource
import sys
import time

import numpy as np

WARMUP_STEPS = 6


def _vmhwm_mb():
    """Linux: VmHWM of /proc/self/status in MB, the high-water mark of this process's own
    memory; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0               # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mb():
    """Peak RSS of this worker in MB: VmHWM where there is one. Not ru_maxrss there: a process
    started by fork/vfork + exec inherits its parent's peak in ru_maxrss, so every worker would
    report at least the harness's own peak (its copy-bandwidth measurement alone holds two
    256 MB arrays)."""
    hwm = _vmhwm_mb()
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_rss_source():
    return "VmHWM" if _vmhwm_mb() is not None else "ru_maxrss"


def load_data(n=60000):
    """MNIST training images as float32 in [0, 1] (N, 28, 28, 1) + labels; random if absent."""
    try:
        from nnlite.datasets import load_mnist
        (x, y), _ = load_mnist()
        source = "MNIST training set"
    except Exception as exc:                     # no data on this machine: timing still valid
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n)
        source = f"random images (MNIST not found: {type(exc).__name__})"
    x = (x[:n].astype(np.float32) / 255.0)[..., None]
    return x, y[:n].astype(np.int64), source


class Worker:
    def setup(self, engine, model, width, train_batches, infer_batches, warmup_calls=2, seed=0):
        from benchmarks.engines import ENGINES
        t = time.perf_counter()
        self.engine = ENGINES[engine](model, width=width, seed=seed)
        build_s = time.perf_counter() - t
        self.x, self.y, source = load_data()
        warm_train, rss_by_batch = {}, {}
        for b in train_batches:                      # first call per batch size, then steady
            n = WARMUP_STEPS * b
            warm_train[b] = [self.engine.train(self.x[:n], self.y[:n], b)
                             for _ in range(warmup_calls)]
            rss_by_batch[b] = peak_rss_mb()
        for b in infer_batches:                      # first call, then one timed warm call
            self.engine.predict(self.x[:max(b, 4)], b)
        warm_infer = {b: self.engine.predict(self.x[:max(b, 4)], b) for b in infer_batches}
        self.engine.latency(self.x[:1])
        return {"build_s": build_s, "data": source, "warmup_steps": WARMUP_STEPS,
                "warmup_train_s": warm_train, "warmup_predict_s": warm_infer,
                "peak_rss_mb_after_train_batch": rss_by_batch,
                "peak_rss_source": peak_rss_source(),
                "versions": self.engine.versions(), "pid": os.getpid()}

    def train(self, batch, samples):
        return self.engine.train(self.x[:samples], self.y[:samples], batch)

    def predict(self, batch, samples):
        return {"seconds": self.engine.predict(self.x[:samples], batch)}

    def latency(self, calls):
        return {"seconds": [self.engine.latency(self.x[i:i + 1]) for i in range(calls)]}

    def rss(self):
        return {"peak_rss_mb": peak_rss_mb()}


def _die_with_parent():
    """Linux: get SIGTERM when the harness dies, so no worker outlives an interrupted run."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    _die_with_parent()
    out = os.fdopen(os.dup(1), "w", buffering=1)     # answers go here ...
    os.dup2(2, 1)                                     # ... stray prints (TF, tqdm) to stderr
    worker = Worker()
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        if op == "quit":
            break
        try:
            answer = getattr(worker, op)(**cmd)
        except Exception as exc:                      # report, let the harness decide
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
