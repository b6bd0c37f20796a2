"""Why the VGG16 (width 0.25) recipe uses Adam 5e-4: the training loss over the first 150
steps (batch 32, standardise layer, dropout 0.3, affine augmentation off) for a few learning
rates. A plain 16-layer VGG without BatchNorm sits on the ln(10) = 2.303 plateau at first.

    python -m experiments.vgg_lr_probe --lr 1e-3 [--steps 150]

Writes experiments/results/vgg_lr_probe/lr<LR>.json (loss every 25 steps, mean over the window).
"""
import argparse

import numpy as np

from experiments.common import RESULTS
from nnlite.files import write_json


def main():
    from nnlite import optimizers
    from nnlite.datasets import load_mnist
    from nnlite.preprocess import scale01
    from nnlite.recipe import TUNED, build_model
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--steps", type=int, default=150)
    args = ap.parse_args()
    (x, y), _ = load_mnist()
    x, y = scale01(x[:32 * args.steps, :, :, None]), y[:32 * args.steps].astype(np.int64)
    model = build_model(TUNED["vgg16"])          # the tuned VGG16, with the probed rate
    model.compile(optimizers.Adam(args.lr))
    losses, accs = [], []
    for i in range(args.steps):
        loss, hits = model.train_step(x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32])
        losses.append(loss)
        accs.append(hits / 32)
    windows = [{"steps": f"{i + 1}-{i + 25}", "mean_loss": float(np.mean(losses[i:i + 25])),
                "mean_batch_acc": float(np.mean(accs[i:i + 25]))}
               for i in range(0, args.steps, 25)]
    write_json(f"{RESULTS}/vgg_lr_probe/lr{args.lr:g}.json",
               {"lr": args.lr, "steps": args.steps, "windows": windows})
    print(windows)


if __name__ == "__main__":
    main()
