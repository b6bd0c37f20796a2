"""Experiment (a): vanishing gradients in a 10-layer MLP, sigmoid vs tanh vs ReLU.

Same architecture (9 x Dense(64) + Dense(10)), same init rule (Keras' glorot_uniform), same
optimizer (SGD lr 0.05, momentum 0.9), same data (20,000 MNIST training digits; validation =
first 5,000 test digits), 5 epochs. GradientStats records every 5 steps; the per-layer kernel
gradient norms over the FIRST epoch are plotted on a log scale, with the learning curves.

    nice -n 5 python -m experiments.internals_vanishing
"""
import argparse
import time

import numpy as np

from experiments.internals_common import deep_mlp, mnist_subset, out_path, save_json

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def run(activation, data, epochs, every):
    from nnlite.callbacks import GradientStats
    from nnlite.optimizers import SGD
    (x, y), (xv, yv) = data
    model = deep_mlp(activation).compile(SGD(0.05, momentum=0.9))
    t0 = time.perf_counter()
    with GradientStats(every=every) as gs:
        hist = model.fit(x, y, batch_size=64, epochs=epochs, validation_data=(xv, yv),
                         callbacks=[gs], verbose=0)
    print(f"{activation}: {time.perf_counter() - t0:.0f} s, val acc {hist.history['val_accuracy']}")
    return {"gradient_stats": gs.to_dict(), "history": hist.history,
            "steps_per_epoch": -(-len(x) // 64)}


def plot(results, path_grads, path_curves):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    depth = 10
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.6))
    for ax, act in zip(axes, ACTIVATIONS):
        r = results[act]
        rows = [row for row in r["gradient_stats"]["rows"] if row["step"] < r["steps_per_epoch"]]
        steps = [row["step"] for row in rows]
        for k in range(1, depth + 1):
            ax.plot(steps, [row[f"dense_{k}/kernel/grad_norm"] for row in rows],
                    color=cmap((k - 1) / (depth - 1)), lw=1.2, label=f"layer {k}")
        ax.set_yscale("log")
        ax.set_title(f"{act}: |dL/dW| per layer, epoch 1")
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("kernel gradient norm (log)")
    axes[2].legend(fontsize=7, ncol=2, loc="lower right")
    ax = axes[3]
    for act, style in zip(ACTIVATIONS, ("o-", "s-", "^-")):
        rows = [row for row in results[act]["gradient_stats"]["rows"]
                if row["step"] < results[act]["steps_per_epoch"]]
        prof = [np.median([row[f"dense_{k}/kernel/grad_norm"] for row in rows])
                for k in range(1, depth + 1)]
        ax.plot(range(1, depth + 1), prof, style, label=act)
    ax.set_yscale("log")
    ax.set_xticks(range(1, depth + 1))
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_title("median |dL/dW| over epoch 1, by depth")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.suptitle("Vanishing gradients: 10-layer MLP (Dense 64, glorot_uniform, SGD 0.05 m=0.9), "
                 "20k MNIST digits, measured by nnlite GradientStats every 5 steps. "
                 "Colour: layer 1 (dark, input side) to layer 10 (yellow, output)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path_grads, dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for act, color in zip(ACTIVATIONS, ("C0", "C1", "C2")):
        h = results[act]["history"]
        ep = np.arange(1, len(h["loss"]) + 1)
        axes[0].plot(ep, h["loss"], "-o", color=color, label=f"{act} train")
        axes[0].plot(ep, h["val_loss"], "--", color=color, label=f"{act} val")
        axes[1].plot(ep, h["accuracy"], "-o", color=color, label=f"{act} train")
        axes[1].plot(ep, h["val_accuracy"], "--", color=color, label=f"{act} val")
    axes[0].set_ylabel("cross-entropy")
    axes[1].set_ylabel("accuracy")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_xticks(range(1, len(results["relu"]["history"]["loss"]) + 1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Learning curves of the same 10-layer MLPs (20k train / 5k val MNIST)")
    fig.tight_layout()
    fig.savefig(path_curves, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--plot-only", action="store_true", help="redraw from vanishing.json")
    args = ap.parse_args()
    if args.plot_only:
        import json
        with open(out_path("vanishing.json")) as fh:
            results = json.load(fh)["runs"]
        plot(results, out_path("vanishing_grads.png"), out_path("vanishing_curves.png"))
        return
    data = mnist_subset(args.train, 5000)
    results = {act: run(act, data, args.epochs, args.every) for act in ACTIVATIONS}
    summary = {}
    for act, r in results.items():
        rows = [row for row in r["gradient_stats"]["rows"] if row["step"] < r["steps_per_epoch"]]
        first = [np.median([row[f"dense_{k}/kernel/grad_norm"] for row in rows]) for k in range(1, 11)]
        summary[act] = {"median_grad_norm_by_layer_epoch1": first,
                        "ratio_layer1_to_layer10": first[0] / first[-1],
                        "final_val_accuracy": r["history"]["val_accuracy"][-1],
                        "val_accuracy_by_epoch": r["history"]["val_accuracy"]}
        print(act, {k: v for k, v in summary[act].items() if k != "median_grad_norm_by_layer_epoch1"})
    save_json("vanishing.json", {"config": vars(args) | {"architecture": "9 x Dense(64) + Dense(10)",
                                                         "init": "glorot_uniform",
                                                         "optimizer": "SGD(0.05, momentum=0.9)",
                                                         "batch_size": 64, "val": "first 5000 test digits"},
                                 "summary": summary, "runs": results})
    plot(results, out_path("vanishing_grads.png"), out_path("vanishing_curves.png"))


if __name__ == "__main__":
    main()
