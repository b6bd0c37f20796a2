"""Experiment (c): overfitting the ANN on 1,000 digits, and what L2 and dropout do about it.

The study's ANN (Flatten -> Dense 512 relu -> Dense 128 relu -> Dense 10) trained on 1,000
MNIST training digits (Adam 1e-3, batch 32, 40 epochs) in four variants:
    none      plain ``nnlite.models.ann()``
    l2        kernel_regularizer=l2(1e-3) on both hidden Dense layers
    dropout   ``nnlite.models.ann(dropout=0.5)`` (Dropout after each hidden layer)
    both      l2(1e-3) and Dropout(0.5)
After every epoch a callback measures, in inference mode (no dropout, no L2 term), the
cross-entropy and accuracy on the 1,000 training digits and on 10,000 held-out digits (the
MNIST test set). The gap = train minus validation accuracy (and val minus train cross-entropy).

    NNLITE_DATA_DIR=/work/shared/data nice -n 5 python experiments/internals_overfitting.py
"""
import argparse

import numpy as np

from internals_common import mnist_subset, out_path, save_json

VARIANTS = ("none", "l2", "dropout", "both")


def build(variant, l2_factor, rate, seed):
    from nnlite import Sequential, models
    from nnlite.layers import Dense, Dropout, Flatten
    from nnlite.regularizers import l2
    if variant in ("none", "dropout"):
        return models.ann(seed=seed, dropout=rate if variant == "dropout" else 0.0)
    def drop():   # a fresh layer each time: one instance cannot sit at two places
        return [Dropout(rate)] if variant == "both" else []
    return Sequential([Flatten(), Dense(512, activation="relu", kernel_regularizer=l2(l2_factor)),
                       *drop(), Dense(128, activation="relu", kernel_regularizer=l2(l2_factor)),
                       *drop(), Dense(10)], input_shape=(28, 28, 1), seed=seed, name=f"ann_{variant}")


def cross_entropy_and_accuracy(model, x, y):
    """Pure data loss (no L2 term) and accuracy, inference mode."""
    from nnlite.losses import SparseCategoricalCrossentropy
    logits = model.predict(x, batch_size=1000)
    return (SparseCategoricalCrossentropy().forward(logits.astype(np.float64), y),
            float(np.mean(logits.argmax(1) == y)))


def run(variant, data, args):
    from nnlite.callbacks import Callback
    from nnlite.optimizers import Adam
    (x, y), (xv, yv) = data
    curves = {"train_ce": [], "train_acc": [], "val_ce": [], "val_acc": []}

    class Measure(Callback):
        def on_epoch_end(self, epoch, logs=None):
            for split, (a, b) in (("train", (x, y)), ("val", (xv, yv))):
                ce, acc = cross_entropy_and_accuracy(self.model, a, b)
                curves[f"{split}_ce"].append(ce)
                curves[f"{split}_acc"].append(acc)

    model = build(variant, args.l2, args.dropout, args.seed).compile(Adam(1e-3))
    model.fit(x, y, batch_size=32, epochs=args.epochs, callbacks=[Measure()], verbose=0)
    acc_gap = np.array(curves["train_acc"]) - np.array(curves["val_acc"])
    ce_gap = np.array(curves["val_ce"]) - np.array(curves["train_ce"])
    best = int(np.argmax(curves["val_acc"]))
    summary = {"final_train_acc": curves["train_acc"][-1], "final_val_acc": curves["val_acc"][-1],
               "final_acc_gap": float(acc_gap[-1]), "final_ce_gap": float(ce_gap[-1]),
               "mean_acc_gap_last5": float(acc_gap[-5:].mean()),
               "best_val_acc": curves["val_acc"][best], "best_epoch": best + 1,
               "final_val_ce": curves["val_ce"][-1], "min_val_ce": float(min(curves["val_ce"])),
               "min_val_ce_epoch": int(np.argmin(curves["val_ce"])) + 1}
    print(variant, summary, flush=True)
    return {"curves": curves, "summary": summary}


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 4, figsize=(17, 7), sharex=True)
    for col, variant in enumerate(VARIANTS):
        c, s = results[variant]["curves"], results[variant]["summary"]
        ep = np.arange(1, len(c["train_acc"]) + 1)
        ax = axes[0, col]
        ax.plot(ep, c["train_acc"], label="train (1,000)")
        ax.plot(ep, c["val_acc"], label="validation (10,000)")
        ax.fill_between(ep, c["val_acc"], c["train_acc"], color="C3", alpha=0.12)
        ax.set_ylim(0.8, 1.005)
        ax.set_title(f"{variant}: final gap {100 * s['final_acc_gap']:.1f} pts "
                     f"(val {100 * s['final_val_acc']:.1f}%)", fontsize=10)
        ax = axes[1, col]
        ax.plot(ep, c["train_ce"], label="train")
        ax.plot(ep, c["val_ce"], label="validation")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"cross-entropy gap {s['final_ce_gap']:.3f} (val min @ epoch "
                     f"{s['min_val_ce_epoch']})", fontsize=10)
    axes[0, 0].set_ylabel("accuracy")
    axes[1, 0].set_ylabel("cross-entropy (no L2 term), log")
    axes[0, 0].legend(loc="lower right", fontsize=9)
    for ax in axes.ravel():
        ax.grid(alpha=0.3, which="both")
    fig.suptitle("ANN (Dense 512-128-10) on 1,000 MNIST digits: none / L2(1e-3) / dropout 0.5 / "
                 "both — measured in inference mode each epoch", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = mnist_subset(1000, 10000, seed=args.seed)
    results = {v: run(v, data, args) for v in VARIANTS}
    save_json("overfitting.json", {"config": vars(args) | {"train": 1000, "val": "MNIST test set (10,000)",
                                                           "optimizer": "Adam(1e-3)", "batch_size": 32},
                                   "runs": results})
    plot(results, out_path("overfitting.png"))


if __name__ == "__main__":
    main()
