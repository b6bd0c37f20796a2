"""``python -m benchmarks --verdict``: is nnlite faster than Keras on this machine? One line, in
about 90 seconds.

Method. One worker process per engine (benchmarks/worker.py, the full benchmark's workers),
kept for all the models so TensorFlow is imported once. For each model (ann, cnn, vgg16 width
0.25) at batch 32: both workers build the model and warm up at the same time (the first calls
compile or trace; not timed). Then ``rounds`` rounds; in each, both engines train one ``fit``
epoch over the same MNIST samples, one after the other, the order reversing every round, so a
slow phase of the machine hits both alike. The sample count is sized from the slower engine's
warm-up speed so that each timed run lasts about ``run_s`` seconds (at least 16 batches).
The ratio is nnlite's median steady samples/s (first batch end to last batch end, as in the
full benchmark) over Keras'; the range is the lowest and highest ratio of one round's pair.
"faster" or "slower" is said only when every round agrees; otherwise "on par".

Time. The budget (default 75 s from the workers' start, plus a second of start-up) is shared
out as the run goes: after each model's warm-up, the timed runs get what is left, minus a
reserve for the warm-ups still to come, so a slow start shortens the runs instead of
overrunning; past the budget, rounds beyond the third are dropped (the result says how many
ran).
"""
import os
import time

import numpy as np

from nnlite.errors import ConfigError

from .engines import keras_available
from .harness import WorkerProcess

MODELS = ("ann", "cnn", "vgg16")
WIDTH = 0.25
BATCH = 32
ROUNDS = 5
MIN_ROUNDS = 3                # past the budget, rounds beyond these are dropped
BUDGET_S = 75.0
WARMUP_RESERVE_S = 8.0        # a model's warm-up on both engines at once, on 2 cores
FIT_OVERHEAD_S = 0.15         # per timed fit call beyond its steady part (Keras' tf.data setup)
RUN_S = (0.3, 2.0)            # each timed run lasts this long, at least / at most
MIN_BATCHES = 16
MAX_SAMPLES = 60000


def run_verdict(models=MODELS, rounds=ROUNDS, budget_s=BUDGET_S, log=print):
    """Measure; returns a JSON-able dict with one entry per model and the verdict ``line``."""
    ok, reason = keras_available()
    if not ok:
        raise ConfigError(f"--verdict compares with Keras, which cannot run here: {reason}")
    t0 = time.monotonic()
    result = {"kind": "verdict", "batch": BATCH, "rounds": rounds, "budget_s": budget_s,
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(),
              "models": []}
    workers = {e: WorkerProcess(e) for e in ("nnlite", "keras")}
    try:
        for k, model in enumerate(models):
            log(f"  {model}: warming up both engines ...")
            rates = _warm_up(workers, model)
            left = len(models) - k
            remaining = budget_s - (time.monotonic() - t0) - WARMUP_RESERVE_S * (left - 1)
            run_s = float(np.clip(remaining / left / (2 * rounds) - FIT_OVERHEAD_S, *RUN_S))
            samples = _samples(min(rates.values()), run_s)
            log(f"  {model}: {rounds} rounds of {samples} samples per engine (~{run_s:.1f} s)")
            result["models"].append(_measure(workers, model, samples, rounds, t0 + budget_s))
    finally:
        for w in workers.values():
            w.close()
    result["load_average_end"] = os.getloadavg()
    result["seconds"] = time.monotonic() - t0
    result["line"] = verdict_line(result)
    return result


def _warm_up(workers, model):
    """Set up ``model`` in every worker at once -> warm steady samples/s per engine."""
    for engine, w in workers.items():
        w.send("setup", engine=engine, model=model, width=WIDTH, train_batches=[BATCH],
               infer_batches=[], warmup_calls=2)
    rates = {}
    for engine, w in workers.items():
        warm = w.receive("setup")["warmup_train_s"]
        last = (warm.get(str(BATCH)) or warm.get(BATCH))[-1]
        rates[engine] = last["steady_samples"] / last["steady_s"]
    return rates


def _samples(rate, run_s):
    batches = max(MIN_BATCHES, int(rate * run_s / BATCH))
    return min(batches * BATCH, (MAX_SAMPLES // BATCH) * BATCH)


def _measure(workers, model, samples, rounds, deadline):
    engines = list(workers)
    speed = {e: [] for e in engines}
    for r in range(rounds):
        if r >= MIN_ROUNDS and time.monotonic() > deadline:
            break
        for e in (engines if r % 2 == 0 else engines[::-1]):
            run = workers[e].call("train", batch=BATCH, samples=samples)
            speed[e].append(run["steady_samples"] / run["steady_s"])
    pairs = np.asarray(speed["nnlite"]) / np.asarray(speed["keras"])
    return {"model": model, "width": WIDTH if model == "vgg16" else None, "samples": samples,
            "rounds": len(pairs),
            "samples_per_s": {e: v for e, v in speed.items()},
            "ratio": float(np.median(speed["nnlite"]) / np.median(speed["keras"])),
            "ratio_range": [float(pairs.min()), float(pairs.max())]}


def verdict_line(result):
    """The one line: the ratio per model, what it means, and how busy the machine was."""
    groups = {"faster": [], "slower": [], "on par": []}
    parts = []
    for m in result["models"]:
        lo, hi = m["ratio_range"]
        parts.append(f"{m['model']} {m['ratio']:.2f}x ({lo:.2f}-{hi:.2f})")
        groups["faster" if lo > 1 else "slower" if hi < 1 else "on par"].append(m["model"])
    said = ", ".join(f"{word} for {_listed(names)}" for word, names in groups.items() if names)
    cores = result["cpu_count"]
    load0, load1 = result["load_average_start"][0], result["load_average_end"][0]
    busy = ("; the machine was busy before the run: measure again when it is quiet"
            if load0 > 0.5 * cores else "")
    return (f"verdict: against Keras on this machine, nnlite is {said} (nnlite/Keras training "
            f"samples/s at batch {result['batch']}, median of {_rounds(result)} interleaved "
            f"runs, range over runs: {', '.join(parts)}; {cores} cores, load average "
            f"{load0:.2f} before, {load1:.2f} after; {result['seconds']:.0f} s{busy})")


def _listed(names):
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _rounds(result):
    counts = sorted({m["rounds"] for m in result["models"]})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
