"""The benchmark run: nnlite and its peers (Keras, PyTorch), interleaved, in one invocation.

For each model, one worker process per engine (benchmarks/worker.py) builds the model and warms
up (timed and reported apart). Then ``repeats`` rounds; in each round, for every batch size,
every engine trains one ``fit`` epoch over the same number of samples, the order of the engines
reversing between rounds, so slow phases of a shared machine hit all alike. Inference
(``predict`` at batch 1, 32, 1000) and single-image latency are interleaved the same way.
Ratios are nnlite/peer medians from this one run, one set per peer. A peer that is not
installed is skipped, and the result says so (``skipped``).

The machine's limits are measured in the same run (``benchmarks/limits.py``): the float32
sgemm peak and the copy bandwidth, each with 1 and 2 threads.
"""
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from nnlite.files import jsonable

from .engines import PEERS, peer_available
from .limits import copy_bandwidth, sgemm_peak

FULL = {"models": ["ann", "cnn", "vgg16"], "width": 0.25, "train_batches": [16, 32, 64, 128, 256],
        "infer_batches": [1, 32, 1000], "repeats": 5, "seconds_per_run": 1.5,
        "latency_calls": 200, "widths": [0.5, 1.0], "width_repeats": 3, "warmup_calls": 2,
        "parallel_setup": False}
QUICK = {"models": ["cnn"], "width": 0.25, "train_batches": [32], "infer_batches": [1, 32],
         "repeats": 2, "seconds_per_run": 0.05, "latency_calls": 5, "widths": [],
         "width_repeats": 0, "warmup_calls": 1, "parallel_setup": True}
INFER_MAX = {1: 500, 32: 10000, 1000: 10000}     # predict samples per timed run, at most
MAX_SAMPLES = 60000


class WorkerProcess:
    def __init__(self, engine, env_extra=None):
        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3",
                   **(env_extra or {}))
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.engine = engine
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env, cwd=root)

    def call(self, op, **kw):
        self.send(op, **kw)
        return self.receive(op)

    def send(self, op, **kw):
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()

    def receive(self, op):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine} worker died during {op!r}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.engine} worker, {op}: {answer['error']}")
        return answer

    def close(self):
        try:
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()


def _stats(values):
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "runs": [float(a) for a in v]}


def _samples_for(rate, batch, seconds, min_batches=2, max_samples=MAX_SAMPLES):
    """Whole batches for about ``seconds`` at ``rate`` samples/s (at least ``min_batches``)."""
    steps = max(min_batches, int(rate * seconds / batch))
    return max(min_batches * batch, min(steps * batch, (max_samples // batch) * batch))


# Before each timed call every engine is idle for this long: the previous engine's thread
# pools (OpenMP, Eigen) spin for a while after their last task and would otherwise steal the
# cores from the next engine's measurement.
SETTLE_SECONDS = 0.3


def _settle():
    time.sleep(SETTLE_SECONDS)


def bench_model(model, engines, cfg, width, train_batches, repeats, env, log):
    """Everything for one model; returns a dict with per-engine results and ratios."""
    workers = {e: WorkerProcess(e, env.get(e)) for e in engines}
    try:
        res = {"model": model, "width": width if model == "vgg16" else None, "engines": {}}
        # warm-up one engine at a time (its seconds are reported), or both at once (--quick)
        for e, w in workers.items():
            log(f"  {model}: {e} warm-up ...")
            w.send("setup", engine=e, model=model, width=width, train_batches=train_batches,
                   infer_batches=cfg["infer_batches"], warmup_calls=cfg["warmup_calls"])
            if not cfg["parallel_setup"]:
                res["engines"][e] = {"setup": w.receive("setup"), "train": {}, "predict": {}}
        if cfg["parallel_setup"]:
            for e, w in workers.items():
                res["engines"][e] = {"setup": w.receive("setup"), "train": {}, "predict": {}}
        # the same sample count for both engines: sized on the slower one's warm-up speed
        samples = {}
        for b in train_batches:
            rate = min(_warm_rate(res["engines"][e]["setup"], b) for e in engines)
            samples[b] = _samples_for(rate, b, cfg["seconds_per_run"])
        infer = {}
        for b in cfg["infer_batches"]:
            rate = min(_warm_predict_rate(res["engines"][e]["setup"], b) for e in engines)
            infer[b] = _samples_for(rate, b, cfg["seconds_per_run"] / 3, min_batches=1,
                                    max_samples=INFER_MAX.get(b, MAX_SAMPLES))
        secs = {e: {("train", b): [] for b in train_batches} for e in engines}
        for e in engines:
            secs[e].update({("predict", b): [] for b in cfg["infer_batches"]})
        for r in range(repeats):
            order = list(engines) if r % 2 == 0 else list(reversed(engines))
            for b in train_batches:
                for e in order:
                    _settle()
                    secs[e][("train", b)].append(
                        workers[e].call("train", batch=b, samples=samples[b]))
            for b in cfg["infer_batches"]:
                for e in order:
                    _settle()
                    secs[e][("predict", b)].append(
                        workers[e].call("predict", batch=b, samples=infer[b])["seconds"])
            log(f"  {model}: round {r + 1}/{repeats} done")
        for e in engines:
            out = res["engines"][e]
            for b in train_batches:
                runs = secs[e][("train", b)]
                out["train"][b] = {
                    "samples": samples[b],
                    "samples_per_s": _stats([r["steady_samples"] / r["steady_s"] for r in runs]),
                    "whole_fit_samples_per_s": _stats([samples[b] / r["fit_s"] for r in runs])}
            for b in cfg["infer_batches"]:
                out["predict"][b] = {"samples": infer[b], "samples_per_s": _stats(
                    [infer[b] / s for s in secs[e][("predict", b)]])}
        # single-image latency, interleaved in chunks
        lat = {e: [] for e in engines}
        chunks = 5 if cfg["latency_calls"] >= 5 else 1
        for c in range(chunks):
            for e in engines:
                lat[e] += workers[e].call("latency", calls=cfg["latency_calls"] // chunks)["seconds"]
        for e in engines:
            v = np.asarray(lat[e]) * 1e3
            res["engines"][e]["latency_ms"] = {"median": float(np.median(v)),
                                               "p90": float(np.percentile(v, 90)),
                                               "min": float(v.min()), "calls": len(v)}
            res["engines"][e]["peak_rss_mb"] = workers[e].call("rss")["peak_rss_mb"]
        for peer in PEERS:
            if peer in engines and "nnlite" in engines:
                res[f"ratio_nnlite_over_{peer}"] = _ratios(res["engines"], peer)
        return res
    finally:
        for w in workers.values():
            w.close()


def _warm_rate(setup, batch):
    """Steady samples/s of the last (already compiled/traced) warm-up call at this batch size."""
    key = batch if batch in setup["warmup_train_s"] else str(batch)
    last = setup["warmup_train_s"][key][-1]
    return last["steady_samples"] / last["steady_s"]


def _warm_predict_rate(setup, batch):
    key = batch if batch in setup["warmup_predict_s"] else str(batch)
    return max(batch, 4) / setup["warmup_predict_s"][key]


def _ratios(eng, peer):
    n, k = eng["nnlite"], eng[peer]
    out = {"train": {b: n["train"][b]["samples_per_s"]["median"] /
                     k["train"][b]["samples_per_s"]["median"] for b in n["train"]},
           "predict": {b: n["predict"][b]["samples_per_s"]["median"] /
                       k["predict"][b]["samples_per_s"]["median"] for b in n["predict"]}}
    out["latency"] = k["latency_ms"]["median"] / n["latency_ms"]["median"]
    return out


def machine_info():
    import threadpoolctl
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(),
            "blas": [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                             "threading_layer", "architecture")}
                     for d in threadpoolctl.threadpool_info()]}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return info


def available_engines(with_keras=True, with_torch=True):
    """-> (engines to run, {peer: why it is left out}): nnlite and every installed peer."""
    engines, skipped = ["nnlite"], {}
    for peer, wanted in (("keras", with_keras), ("torch", with_torch)):
        ok, reason = peer_available(peer) if wanted else (False, f"left out (--no-{peer})")
        if ok:
            engines.append(peer)
        else:
            skipped[peer] = reason
    return engines, skipped


def run(quick=False, models=None, repeats=None, with_keras=True, env=None, batches=None,
        widths=True, log=print, with_torch=True):
    """The whole benchmark; returns the result dict (JSON-serialisable after ``jsonable``)."""
    cfg = dict(QUICK if quick else FULL)
    if batches:
        cfg["train_batches"] = sorted(set(batches))
    if not widths:
        cfg["widths"] = []
    repeats = repeats or cfg["repeats"]
    engines, skipped = available_engines(with_keras, with_torch)
    t0 = time.time()
    size, copy_mb = (512, 64) if quick else (1024, 256)
    result = {"kind": "quick" if quick else "full", "started_utc":
              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
              "machine": machine_info(), "engines": engines, "skipped": skipped,
              "keras_skipped": skipped.get("keras", ""),
              "config": cfg, "repeats": repeats, "env": env or {},
              "sgemm_peak_gflops": {f"threads_{t}": sgemm_peak(size=size, threads=t)
                                    for t in (1, 2)},
              "copy_bandwidth_gbs": {f"threads_{t}": copy_bandwidth(megabytes=copy_mb, threads=t)
                                     for t in (1, 2)},
              "models": []}
    for model in models or cfg["models"]:
        log(f"{model} ...")
        result["models"].append(bench_model(model, engines, cfg, cfg["width"],
                                            cfg["train_batches"], repeats, env or {}, log))
    for width in cfg["widths"]:
        log(f"vgg16 width {width} ...")
        sub = dict(cfg, infer_batches=[32], latency_calls=1)
        result["models"].append(bench_model("vgg16", engines, sub, width, [32],
                                            cfg["width_repeats"], env or {}, log))
    result["machine"]["load_average_end"] = os.getloadavg()
    result["seconds"] = time.time() - t0
    return jsonable(result)
