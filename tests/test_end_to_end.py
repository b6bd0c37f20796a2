"""Real MNIST, CI-sized: the ANN learns, and the numbers are printed for the record."""
import time

import numpy as np

import nnlite
from nnlite.models import ann


def test_ann_10k_images_one_epoch_reaches_93_percent(mnist, capsys):
    (x, y), (xt, yt) = mnist
    x = (x[:10000, ..., None] / 255.0).astype(np.float32)
    xt = (xt[..., None] / 255.0).astype(np.float32)
    model = ann(seed=0)
    model.compile(nnlite.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    t0 = time.perf_counter()
    model.fit(x, y[:10000], batch_size=32, epochs=1, verbose=0)
    seconds = time.perf_counter() - t0
    loss, acc = model.evaluate(xt, yt)
    with capsys.disabled():
        print(f"\n[e2e] ANN, 10,000 MNIST images, 1 epoch: test accuracy {acc:.4f}, "
              f"loss {loss:.4f}, {seconds:.1f} s")
    assert acc >= 0.93
    assert np.isfinite(loss)
