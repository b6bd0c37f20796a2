"""Ablations: what each of nnlite's speed measures is worth, switched off one at a time.

    python -m benchmarks.ablations [--rounds 3] [--out benchmarks/results/ablations.json]

Each variant runs in a fresh process (the malloc setting is process-wide and can only be
chosen before the first allocation it affects) that times ``fit`` on 40 batches of 32 random
images, 5 times, and reports the median samples/s; the variants are interleaved over
``--rounds`` rounds and the median over rounds is reported. ``predict`` rows time
``predict(x, batch_size=1000)`` on 2,000 images.

Variants: everything on (nnlite's defaults); one worker thread (NNLITE_NUM_THREADS=1);
Winograd off (im2col for every convolution, the first layer's direct loops included); fusion
off (``model.fuse = False``); the direct first-layer loops off (im2col there); the inference
cache of Winograd kernel transforms off; glibc's default malloc thresholds
(NNLITE_MALLOC_TUNING=0); no cap on the images per inference pass.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "ablations.json")

VARIANTS = {
    "defaults": {},
    "1 worker thread": {"env": {"NNLITE_NUM_THREADS": "1"}},
    "Winograd off": {"algorithm": "im2col"},
    "fusion off": {"switches": "fuse"},
    "direct first layer off": {"switches": "direct"},
    "transform cache off": {"switches": "cache"},
    "glibc malloc defaults": {"env": {"NNLITE_MALLOC_TUNING": "0"}},
    "no inference pass cap": {"no_pass_cap": True},
}
CASES = [("cnn", "train"), ("vgg16", "train"), ("cnn", "predict"), ("vgg16", "predict")]

CHILD = r"""
import json, sys, time
import numpy as np
import nnlite.sequential
from nnlite import zoo
from nnlite.layers import Conv2D
from benchmarks.profile import apply_switches
name, kind, algorithm, no_cap = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
off = [s for s in sys.argv[5].split(",") if s]
if no_cap:
    nnlite.sequential.INFERENCE_PASS_VALUES = 2 ** 62
m = zoo.build(name, seed=0, **({"width": 0.25} if name == "vgg16" else {}))
apply_switches(m, **{s: False for s in off})
for layer in m.layers:
    if isinstance(layer, Conv2D) and algorithm != "auto":
        layer.algorithm = algorithm
m.compile("adam")
rng = np.random.default_rng(0)
if kind == "train":
    x = rng.random((32 * 40, 28, 28, 1), dtype=np.float32); y = rng.integers(0, 10, len(x))
    m.fit(x[:128], y[:128], batch_size=32, verbose=0)
    run = lambda: m.fit(x, y, batch_size=32, verbose=0)
else:
    x = rng.random((2000, 28, 28, 1), dtype=np.float32)
    m.predict(x[:1000], batch_size=1000)
    run = lambda: m.predict(x, batch_size=1000)
times = []
for _ in range(5):
    t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
print(json.dumps(len(x) / float(np.median(times))))
"""


def measure(name, kind, variant):
    env = dict(os.environ, **variant.get("env", {}))
    args = [sys.executable, "-c", CHILD, name, kind, variant.get("algorithm", "auto"),
            "1" if variant.get("no_pass_cap") else "0", variant.get("switches", "")]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(HERE))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=OUT)
    args = p.parse_args(argv)
    from .harness import machine_info
    t0, machine = time.time(), machine_info()
    samples = {f"{n} {k}": {v: [] for v in VARIANTS} for n, k in CASES}
    for r in range(args.rounds):
        for name, kind in CASES:
            for label, variant in VARIANTS.items():
                if kind == "train" and (variant.get("no_pass_cap")
                                        or variant.get("switches") == "cache"):
                    continue            # these only concern predict/evaluate
                value = measure(name, kind, variant)
                samples[f"{name} {kind}"][label].append(value)
                print(f"round {r + 1}: {name} {kind:7s} {label:22s} {value:8,.0f} samples/s",
                      flush=True)
    result = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
              "seconds": time.time() - t0, "rounds": args.rounds, "machine": machine,
              "load_average_end": os.getloadavg(),
              "median_samples_per_s": {case: {v: float(np.median(s)) for v, s in by.items() if s}
                                       for case, by in samples.items()},
              "samples_per_s": samples}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(table(result))


def table(result):
    cases = list(result["median_samples_per_s"])
    lines = ["| variant | " + " | ".join(cases) + " |", "|---|" + "---:|" * len(cases)]
    for label in VARIANTS:
        cells = []
        for case in cases:
            v = result["median_samples_per_s"][case].get(label)
            base = result["median_samples_per_s"][case]["defaults"]
            cells.append("–" if v is None else f"{v:,.0f} ({v / base:.2f}×)")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
