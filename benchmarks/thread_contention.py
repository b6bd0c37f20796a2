"""Why every experiment runs single-threaded on a busy machine: CPU and wall time per ANN
training step with 1 vs 2 BLAS/Numba threads, each measured in a fresh subprocess (thread
counts must be set before NumPy loads).

    python -m benchmarks.thread_contention [--steps 30]

Writes benchmarks/results/thread_contention.json.
"""
import argparse
import json
import os
import subprocess
import sys

from nnlite.files import write_json

from .cli import RESULTS

CHILD = r"""
import json, time, numpy as np
from nnlite import optimizers, zoo
rng = np.random.default_rng(0)
x = rng.random((32, 28, 28, 1), dtype=np.float32); y = rng.integers(0, 10, 32)
m = zoo.ann(seed=0); m.compile(optimizers.Adam(1e-4))
for _ in range(3): m.train_step(x, y)
n = {steps}
t, c = time.perf_counter(), time.process_time()
for _ in range(n): m.train_step(x, y)
print(json.dumps({{"wall_ms": 1e3 * (time.perf_counter() - t) / n,
                  "cpu_ms": 1e3 * (time.process_time() - c) / n}}))
"""


def measure(threads, steps):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD.format(steps=steps)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    load = os.getloadavg()
    result = {"model": "ann", "batch_size": 32, "steps": args.steps,
              "load_average_1_5_15": load, "cores": os.cpu_count(),
              "threads": {str(t): measure(t, args.steps) for t in (1, 2)}}
    write_json(f"{RESULTS}/thread_contention.json", result)
    print(result)


if __name__ == "__main__":
    main()
