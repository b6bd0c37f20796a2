"""Experiment (b): exploding / vanishing signals from the initial weight scale.

The 10-layer ReLU MLP of experiment (a) (9 x Dense(64) + Dense(10)), kernels drawn from Keras'
he_normal multiplied by s in {0.1, 0.3, 0.5, 1, 2, 3, 10}. At step 0 GradientStats measures,
per layer, the activation std and the kernel gradient norm; then each model trains one epoch
on 20,000 MNIST digits (SGD lr 0.05, momentum 0.9, batch 64). A run whose numbers overflow is
stopped by the engine with NonFiniteError; its message is recorded as is.

    nice -n 5 python -m experiments.internals_init_scale
"""
import argparse
import re

import numpy as np

from experiments.internals_common import deep_mlp, mnist_subset, out_path, save_json

SCALES = (0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 10.0)
DEPTH = 10


def scaled_he(scale):
    from nnlite.initializers import he_normal

    def init(shape, rng, dtype="float32"):
        return (scale * he_normal(shape, rng, "float64")).astype(dtype)
    return init


def run(scale, data, every):
    from nnlite.callbacks import GradientStats
    from nnlite.errors import NonFiniteError
    from nnlite.optimizers import SGD
    (x, y), (xv, yv) = data
    model = deep_mlp("relu", kernel_initializer=scaled_he(scale)).compile(SGD(0.05, momentum=0.9))
    outcome = {"scale": scale, "diverged": False, "error": None}
    with GradientStats(every=every) as gs:
        try:
            model.fit(x, y, batch_size=64, epochs=1, callbacks=[gs], verbose=0)
            outcome["val_loss"], outcome["val_accuracy"] = model.evaluate(xv, yv)
        except NonFiniteError as exc:
            outcome.update(diverged=True, error=str(exc), error_type=type(exc).__name__,
                           steps_applied=model.optimizer.iterations)
    row0 = gs.rows[0]
    outcome["act_std_step0"] = [row0[f"dense_{k}/act_std"] for k in range(1, DEPTH + 1)]
    outcome["grad_norm_step0"] = [row0[f"dense_{k}/kernel/grad_norm"] for k in range(1, DEPTH + 1)]
    outcome["grad_in_norm_step0"] = [row0[f"dense_{k}/grad_in_norm"] for k in range(1, DEPTH + 1)]
    outcome["update_ratio_step0"] = [row0[f"dense_{k}/kernel/update_ratio"]
                                     for k in range(1, DEPTH + 1)]
    outcome["loss_by_step"] = [(r["step"], r["loss"]) for r in gs.rows]
    print(f"scale {scale:>4}: " + (f"{outcome['error_type']}: {outcome['error']}"
                                    if outcome["diverged"] else
                                    f"val acc {outcome['val_accuracy']:.4f}"), flush=True)
    return outcome


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("coolwarm")
    fig, axes = plt.subplots(1, 4, figsize=(21, 4.8))
    for i, r in enumerate(results):
        color = "black" if r["scale"] == 1.0 else cmap(i / (len(results) - 1))
        label = f"{r['scale']:g} x He" + (" (diverged)" if r["diverged"] else "")
        axes[0].plot(range(1, DEPTH + 1), r["act_std_step0"], "o-", color=color, label=label)
        axes[1].plot(range(1, DEPTH + 1), r["grad_in_norm_step0"], "o-", color=color, label=label)
        axes[2].plot(range(1, DEPTH + 1), r["grad_norm_step0"], "o-", color=color, label=label)
        steps, losses = zip(*r["loss_by_step"])
        axes[3].plot(steps, losses, "-", color=color, label=label)
        if r["diverged"]:
            axes[3].plot(steps[-1], losses[-1], "X", color=color, ms=11, mec="k")
            at = re.search(r"stopped at step (\d+)", r["error"]).group(1)   # the engine's words
            axes[3].annotate(f"{r['scale']:g}x: {r['error_type']} at step {at}",
                             (steps[-1], losses[-1]), xytext=(12, -4), textcoords="offset points",
                             fontsize=8)
    axes[0].set_title("forward: activation std at step 0")
    axes[1].set_title("backward: |dL/d input| of each layer at step 0")
    axes[2].set_title("kernel gradient |dL/dW| at step 0")
    axes[3].set_title("training loss per step (X: last step completed before the engine stopped it)",
                      fontsize=10)
    for ax in axes[:3]:
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_xticks(range(1, DEPTH + 1))
    axes[3].set_xlabel("optimizer step")
    axes[3].set_xscale("symlog", linthresh=10)
    for ax in axes:
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[3].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Initial weight scale in a 10-layer ReLU MLP (s x he_normal, SGD 0.05 m=0.9, "
                 "20k MNIST digits, 1 epoch)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--plot-only", action="store_true", help="redraw from init_scale.json")
    args = ap.parse_args()
    if args.plot_only:
        import json
        with open(out_path("init_scale.json")) as fh:
            plot(json.load(fh)["runs"], out_path("init_scale.png"))
        return
    data = mnist_subset(20000, 5000)
    results = [run(s, data, args.every) for s in SCALES]
    save_json("init_scale.json", {"config": {"architecture": "9 x Dense(64, relu) + Dense(10)",
                                             "init": "s * he_normal", "scales": SCALES,
                                             "optimizer": "SGD(0.05, momentum=0.9)",
                                             "batch_size": 64, "train": 20000, "epochs": 1,
                                             "val": "first 5000 test digits"},
                                  "runs": results})
    plot(results, out_path("init_scale.png"))


if __name__ == "__main__":
    main()
