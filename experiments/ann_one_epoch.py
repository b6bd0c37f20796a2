"""Engine-core acceptance run: the ANN, 1 epoch on the 48k/12k split (Adam 1e-3, batch 32).

    python -m experiments.ann_one_epoch        -> experiments/results/ann_one_epoch.json
"""
import json
import os
import platform
import time

import numpy as np

import nnlite
from nnlite.datasets import load_mnist
from nnlite.zoo import ann

OUT = os.path.join(os.path.dirname(__file__), "results", "ann_one_epoch.json")


def main(seed=0):
    (x, y), (xt, yt) = load_mnist()
    x = (x[..., None] / 255.0).astype(np.float32)
    xt = (xt[..., None] / 255.0).astype(np.float32)
    model = ann(seed=seed)
    model.compile(nnlite.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    t0 = time.perf_counter()
    hist = model.fit(x, y, batch_size=32, epochs=1, validation_split=0.2, verbose=1)
    seconds = time.perf_counter() - t0
    test_loss, test_acc = model.evaluate(xt, yt)
    result = {"model": "ann", "seed": seed, "protocol": "Adam 1e-3, batch 32, 1 epoch, 48k/12k",
              "train_accuracy": hist.history["accuracy"][0],
              "val_accuracy": hist.history["val_accuracy"][0],
              "test_accuracy": test_acc, "seconds_per_epoch": seconds,
              "load_average_1min": os.getloadavg()[0], "machine": platform.processor() or platform.machine(),
              "cpus": os.cpu_count()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(result, fh, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
