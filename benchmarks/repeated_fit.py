"""Training speed over successive ``fit`` calls of one model, and how many of its Adam moments
are subnormal floats after each (the reason a long run slowed down before Adam flushed them).

    python -m benchmarks.repeated_fit [--model ann] [--calls 6] [--samples 31488]

Random images and labels of MNIST's shape; prints one line per call: samples/s and the count
of subnormal optimizer-moment values. Timing: run it with nothing else on the cores.
"""
import argparse
import time

import numpy as np

import nnlite
import nnlite.zoo


def subnormal_moments(optimizer):
    """How many values of the optimizer's moment arrays are nonzero and below the smallest
    normal float of their dtype, out of how many."""
    arrays = [a for slot in optimizer.slots for a in (slot.values() if isinstance(slot, dict)
                                                      else slot if isinstance(slot, (list, tuple))
                                                      else [slot])]
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    small = sum(int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))
                for a in arrays)
    return small, sum(a.size for a in arrays)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="ann", choices=["ann", "cnn", "vgg16"])
    p.add_argument("--calls", type=int, default=6)
    p.add_argument("--samples", type=int, default=31488)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    model = nnlite.zoo.build(args.model, seed=0)
    model.compile(nnlite.optimizers.Adam(1e-3))
    for call in range(args.calls):
        t = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        rate = len(x) / (time.perf_counter() - t)
        small, total = subnormal_moments(model.optimizer)
        print(f"fit {call + 1}: {rate:,.0f} samples/s; subnormal Adam moments {small:,} of {total:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
