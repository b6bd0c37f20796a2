"""Experiment (c): overfitting the ANN on 1,000 digits, and what L2 and dropout do about it.

The study's ANN (Flatten -> Dense 512 relu -> Dense 128 relu -> Dense 10) trained on 1,000
MNIST training digits (Adam 1e-3, batch 32, 40 epochs) in six variants:
    none         plain ``nnlite.zoo.ann()``
    l2           kernel_regularizer=l2(1e-3) on both hidden Dense layers
    dropout      ``nnlite.zoo.ann(dropout=0.5)`` (Dropout after each hidden layer)
    both         l2(1e-3) and Dropout(0.5)
    l2_strong    l2(1e-2)                      (a 10x stronger penalty)
    both_strong  l2(1e-2) and Dropout(0.5)
After every epoch a callback measures, in inference mode (no dropout, no L2 term), the
cross-entropy and accuracy on the 1,000 training digits and on 10,000 held-out digits (the
MNIST test set). The gap = train minus validation accuracy (and val minus train cross-entropy).

    nice -n 5 python -m experiments.internals_overfitting
"""
import argparse

import numpy as np

from experiments.internals_common import mnist_subset, out_path, save_json

# name -> (L2 factor on the hidden kernels, dropout rate)
VARIANTS = {"none": (0.0, 0.0), "l2": (1e-3, 0.0), "dropout": (0.0, 0.5), "both": (1e-3, 0.5),
            "l2_strong": (1e-2, 0.0), "both_strong": (1e-2, 0.5)}


def build(variant, seed):
    from nnlite import Sequential, zoo
    from nnlite.layers import Dense, Dropout, Flatten
    from nnlite.regularizers import l2
    l2_factor, rate = VARIANTS[variant]
    if not l2_factor:
        return zoo.ann(seed=seed, dropout=rate)

    def drop():   # a fresh layer each time: one instance cannot sit at two places
        return [Dropout(rate)] if rate else []
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

    model = build(variant, args.seed).compile(Adam(1e-3))
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


def plot(results, path, path_gap):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(3.6 * len(names), 7), sharex=True)
    for col, variant in enumerate(names):
        c, s = results[variant]["curves"], results[variant]["summary"]
        l2_factor, rate = VARIANTS[variant]
        ep = np.arange(1, len(c["train_acc"]) + 1)
        ax = axes[0, col]
        ax.plot(ep, c["train_acc"], label="train (1,000)")
        ax.plot(ep, c["val_acc"], label="validation (10,000)")
        ax.fill_between(ep, c["val_acc"], c["train_acc"], color="C3", alpha=0.12)
        ax.set_ylim(0.8, 1.005)
        ax.set_title(f"{variant} (L2 {l2_factor:g}, dropout {rate:g})\nfinal gap "
                     f"{100 * s['final_acc_gap']:.1f} pts, val {100 * s['final_val_acc']:.1f}%",
                     fontsize=10)
        ax = axes[1, col]
        ax.plot(ep, c["train_ce"], label="train")
        ax.plot(ep, c["val_ce"], label="validation")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 3)
        ax.set_xlabel("epoch")
        ax.set_title(f"val - train cross-entropy {s['final_ce_gap']:.3f}", fontsize=10)
    axes[0, 0].set_ylabel("accuracy")
    axes[1, 0].set_ylabel("cross-entropy (no L2 term), log")
    axes[0, 0].legend(loc="lower right", fontsize=9)
    for ax in axes.ravel():
        ax.grid(alpha=0.3, which="both")
    fig.suptitle("ANN (Dense 512-128-10, Adam 1e-3) on 1,000 MNIST digits, validation = 10,000 "
                 "test digits; measured in inference mode after each epoch", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=95)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    x = np.arange(len(names))
    panels = [
        ([100 * results[n]["summary"]["final_acc_gap"] for n in names], "C3",
         "train - validation accuracy (points)", "{:.1f}"),
        ([100 * results[n]["summary"]["final_val_acc"] for n in names], "C0",
         "validation accuracy (%)", "{:.1f}"),
        ([results[n]["summary"]["final_ce_gap"] for n in names], "C1",
         "validation - train cross-entropy", "{:.3f}"),
    ]
    for ax, (values, color, title, fmt) in zip(axes, panels):
        ax.bar(x, values, 0.6, color=color)
        for i, v in enumerate(values):
            ax.text(i, v, fmt.format(v), ha="center", va="bottom", fontsize=8)
        ax.set_title(f"after 40 epochs: {title}", fontsize=10)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=20)
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(85, 92.5)
    fig.suptitle("Overfitting on 1,000 digits: the gap by variant (one seed)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path_gap, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot-only", action="store_true", help="redraw from overfitting.json")
    args = ap.parse_args()
    if args.plot_only:
        import json
        with open(out_path("overfitting.json")) as fh:
            results = json.load(fh)["runs"]
        plot(results, out_path("overfitting.png"), out_path("overfitting_gap.png"))
        return
    data = mnist_subset(1000, 10000, seed=args.seed)
    results = {v: run(v, data, args) for v in VARIANTS}
    save_json("overfitting.json", {"config": vars(args) | {"train": 1000, "val": "MNIST test set (10,000)",
                                                           "optimizer": "Adam(1e-3)", "batch_size": 32},
                                   "variants": {k: {"l2": a, "dropout": b} for k, (a, b) in VARIANTS.items()},
                                   "runs": results})
    plot(results, out_path("overfitting.png"), out_path("overfitting_gap.png"))


if __name__ == "__main__":
    main()
