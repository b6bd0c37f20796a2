"""Experiment (d): what the CNN learned — first-layer filters and each conv block's feature maps.

Reads whatever ``models/cnn.npz`` exists (or --model-file), draws:
  cnn_filters.png       the 32 first-layer 3x3 kernels as an image grid (one colour scale,
                        red = positive weight, blue = negative)
  cnn_feature_maps.png  for a few test digits, the 8 most active channels after the ReLU of
                        each conv block (block 1: 28x28, block 2: 14x14, block 3: 7x7)
The maps are captured by an observer (``nnlite.callbacks.Observer``) during predict.

    nice -n 5 python -m experiments.internals_cnn_features
"""
import argparse
import datetime
import hashlib
import os
import sys

import numpy as np

from experiments.internals_common import HERE, out_path, save_json

DIGITS = (0, 1, 2, 3)   # indices into the MNIST test set (labels 7, 2, 1, 0)


def capture_block_outputs(model, x):
    """{relu layer name: its output} for inputs x, seen by an observer (inference)."""
    from nnlite.callbacks import Observer
    from nnlite.inspect.stats import is_relu
    relus = [l for l in model.layers if is_relu(l)]
    maps = {}

    class ReluOutputs(Observer):
        def on_forward(self, index, layer, x, y, training):
            if is_relu(layer):
                maps[layer.name] = y.copy()

    with model.observing(ReluOutputs()):
        logits = model.predict(x)
    return [(name, maps[name]) for name in (l.name for l in relus) if maps[name].ndim == 4], logits


def change_from_init(model, init_seed):
    """Per Conv2D layer: correlation with, and relative distance from, the kernel the same
    architecture draws at ``models.cnn(seed=init_seed)`` (None if the shapes differ)."""
    from nnlite.zoo import cnn
    fresh = [l for l in cnn(seed=init_seed).layers if type(l).__name__ == "Conv2D"]
    trained = [l for l in model.layers if type(l).__name__ == "Conv2D"]
    out = []
    for t, f in zip(trained, fresh):
        k, k0 = t.params["kernel"].astype(np.float64), f.params["kernel"].astype(np.float64)
        if k.shape != k0.shape:
            return None
        out.append({"layer": t.name, "corr_with_init": float(np.corrcoef(k.ravel(), k0.ravel())[0, 1]),
                    "relative_change": float(np.linalg.norm(k - k0) / np.linalg.norm(k0))})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-file", default=os.path.join(os.path.dirname(HERE), "models", "cnn.npz"))
    ap.add_argument("--init-seed", type=int, default=0,
                    help="seed the model was built with (nnlite train's default: 0), to compare "
                         "the trained kernels with their initial values")
    args = ap.parse_args()
    if not os.path.exists(args.model_file):
        sys.exit(f"no model file at {args.model_file}: train one first (nnlite train cnn ...)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnlite import load_model
    from nnlite.datasets import load_mnist
    with open(args.model_file, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(args.model_file),
                                            datetime.timezone.utc).isoformat(timespec="seconds")
    model = load_model(args.model_file)
    (_, _), (xte, yte) = load_mnist()
    x_all = (xte[..., None] / 255.0).astype(np.float32)
    test_acc = float(np.mean(model.predict(x_all).argmax(1) == yte))

    # -- first-layer filters --------------------------------------------------------------------
    conv1 = next(l for l in model.layers if type(l).__name__ == "Conv2D")
    k = conv1.params["kernel"]            # (3, 3, 1, F)
    f = k.shape[-1]
    cols = 8
    rows = -(-f // cols)
    lim = float(np.abs(k).max())
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.25, rows * 1.35 + 0.6))
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < f:
            im = ax.imshow(k[:, :, 0, i], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"#{i}", fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    fig.suptitle(f"First-layer 3x3 filters of {os.path.basename(args.model_file)} "
                 f"(test acc {100 * test_acc:.2f}%)", fontsize=11)
    fig.savefig(out_path("cnn_filters.png"), dpi=110, bbox_inches="tight")
    plt.close(fig)

    # -- feature maps ---------------------------------------------------------------------------
    x = x_all[list(DIGITS)]
    blocks, logits = capture_block_outputs(model, x)
    top = 8
    fig, axes = plt.subplots(len(DIGITS) * len(blocks), top + 1,
                             figsize=((top + 1) * 1.15, len(DIGITS) * len(blocks) * 1.2 + 0.5))
    chosen = {}
    for d in range(len(DIGITS)):
        for b, (name, maps) in enumerate(blocks):
            r = d * len(blocks) + b
            m = maps[d]                                  # (H, W, C)
            order = np.argsort(m.mean(axis=(0, 1)))[::-1][:top]
            chosen[f"digit{d}/{name}"] = order.tolist()
            ax = axes[r, 0]
            ax.imshow(x[d, :, :, 0], cmap="gray_r")
            ax.set_ylabel(f"block {b + 1}\n{m.shape[0]}x{m.shape[1]}", fontsize=8)
            ax.set_xticks([]), ax.set_yticks([])
            if b == 0:
                ax.set_title(f"digit {yte[DIGITS[d]]} -> {int(logits[d].argmax())}", fontsize=8)
            for j, c in enumerate(order):
                ax = axes[r, j + 1]
                ax.imshow(m[:, :, c], cmap="magma", vmin=0)
                ax.set_xticks([]), ax.set_yticks([])
                ax.set_title(f"ch {c}", fontsize=7)
    fig.suptitle("Feature maps after each conv block's ReLU: the 8 most active channels per digit "
                 "(each map on its own colour scale, black = 0)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(out_path("cnn_feature_maps.png"), dpi=100)
    plt.close(fig)
    save_json("cnn_features.json", {
        "model_file": os.path.relpath(args.model_file, os.path.dirname(HERE)), "sha256": sha,
        "model_mtime_utc": mtime, "test_accuracy": test_acc, "digits_test_index": list(DIGITS),
        "labels": [int(yte[i]) for i in DIGITS], "predicted": [int(v) for v in logits.argmax(1)],
        "first_layer_kernel": {"shape": list(k.shape), "abs_max": lim,
                               "mean_abs": float(np.abs(k).mean())},
        "blocks": [{"layer": name, "shape": list(maps.shape[1:]),
                    "dead_channels_on_these_digits": int((maps.reshape(-1, maps.shape[-1]).max(0) <= 0).sum())}
                   for name, maps in blocks],
        "channels_shown": chosen,
        "init_seed_assumed": args.init_seed,
        "kernels_vs_init": change_from_init(model, args.init_seed)})
    print(f"{args.model_file} (sha256 {sha[:12]}, {mtime}): test acc {test_acc:.4f}")


if __name__ == "__main__":
    main()
