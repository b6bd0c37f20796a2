"""Cost of on-the-fly augmentation relative to a training step (target: < 30 % extra time
per epoch). CPU time (time.process_time, one thread), so other processes on a shared machine
do not distort it; median over repeats.

    python -m benchmarks.augment_overhead [--batches 200]

Writes benchmarks/results/augment_overhead.json.
"""
import argparse
import os
import time

# one thread, like the experiments whose cost this measures (set before NumPy loads)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
             "NNLITE_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from nnlite.files import write_json  # noqa: E402

from .cli import RESULTS  # noqa: E402
from .harness import machine_info  # noqa: E402


def cpu_ms(fn, n):
    fn()                                             # warm-up / JIT compile
    times = []
    for _ in range(n):
        c = time.process_time()
        fn()
        times.append(time.process_time() - c)
    return 1e3 * float(np.median(times))


def main():
    from nnlite import optimizers, zoo
    from nnlite.datasets import load_mnist
    from nnlite.preprocess import AUGMENTATIONS, make_augment, scale01
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=200)
    args = ap.parse_args()
    (x, y), _ = load_mnist()
    xb, yb = scale01(x[:32, :, :, None]), y[:32].astype(np.int64)
    rng = np.random.default_rng(0)
    aug_ms = {name: cpu_ms(lambda a=make_augment(name): a(xb, rng), args.batches)
              for name in AUGMENTATIONS if name != "none"}
    rows = {}
    for name, n in (("ann", args.batches), ("cnn", max(10, args.batches // 10)),
                    ("vgg16", max(10, args.batches // 10))):
        model = zoo.build(name, seed=0, standardize=True)
        model.compile(optimizers.Adam(1e-3))
        step = cpu_ms(lambda: model.train_step(xb, yb), n)
        rows[name] = {"train_step_ms": step,
                      **{f"overhead_pct_{a}": 100 * ms / step for a, ms in aug_ms.items()}}
    result = {"batch_size": 32, "augment_ms_per_batch": aug_ms, "models": rows,
              "machine": {**machine_info(), "threads": os.environ["OMP_NUM_THREADS"]}}
    write_json(f"{RESULTS}/augment_overhead.json", result)
    print(result)


if __name__ == "__main__":
    main()
