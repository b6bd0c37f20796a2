"""Cost of on-the-fly augmentation relative to a training step (target: < 30 % extra time
per epoch). CPU time (time.process_time, one thread), so other jobs on the shared machine do
not distort it; median over repeats.

    python -m experiments.augment_overhead [--batches 200]

Writes experiments/results/augment_overhead.json.
"""
import argparse
import time

import numpy as np

from experiments.common import RESULTS, machine, write_json


def cpu_ms(fn, n):
    fn()                                             # warm-up / JIT compile
    times = []
    for _ in range(n):
        c = time.process_time()
        fn()
        times.append(time.process_time() - c)
    return 1e3 * float(np.median(times))


def main():
    from nnlite import models, optimizers
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
        model = models.build(name, seed=0, standardize=True)
        model.compile(optimizers.Adam(1e-3))
        step = cpu_ms(lambda: model.train_step(xb, yb), n)
        rows[name] = {"train_step_ms": step,
                      **{f"overhead_pct_{a}": 100 * ms / step for a, ms in aug_ms.items()}}
    result = {"batch_size": 32, "augment_ms_per_batch": aug_ms, "models": rows,
              "machine": machine()}
    write_json(f"{RESULTS}/augment_overhead.json", result)
    print(result)


if __name__ == "__main__":
    main()
