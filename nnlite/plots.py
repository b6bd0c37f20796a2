"""Every figure nnlite draws: learning curves, confusion matrix, a gallery of mistakes, grouped
bars with error bars, and what ``GradientStats`` recorded. Matplotlib is imported on first use
(Agg backend, files only), so ``import nnlite`` never pulls it in."""
import json
import math

import numpy as np

from .files import atomic_write


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110, bbox_inches="tight"))
    _plt().close(fig)


def plot_history(history, path, title=""):
    """Loss and accuracy per epoch, training vs validation, side by side.

    history: dict of lists with keys loss, acc and optionally val_loss, val_acc."""
    plt = _plt()
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    fig.subplots_adjust(wspace=0.3)     # room for the right panel's y label
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "acc", "accuracy")):
        ax.plot(epochs, history[key], "o-", label=f"train {label}")
        if history.get(f"val_{key}"):
            ax.plot(epochs, history[f"val_{key}"], "s-", label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(epochs[::-(-len(epochs) // 12)])    # at most 12 labels: they stay legible
        ax.set_xlim(0.5, len(epochs) + 0.5)
    if title:
        fig.suptitle(title)
    _save(fig, path)


def plot_confusion(matrix, path, class_names=None, title="confusion matrix (test set)"):
    """Counts matrix (true rows x predicted columns), each cell annotated."""
    plt = _plt()
    matrix = np.asarray(matrix)
    k = len(matrix)
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    # log colour scale so the few off-diagonal errors are visible beside ~1000 correct
    shown = np.log10(1 + matrix)
    im = ax.imshow(shown, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 0.6 * shown.max() else "black")
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right"
                  if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="log10(1 + count)")
    _save(fig, path)


def plot_gallery(images, true, pred, confidence, path, class_names=None,
                 title="most confidently wrong"):
    """Grid of images (N, 28, 28[, 1]) titled 'true -> predicted (confidence)'."""
    plt = _plt()
    n = len(images)
    if n == 0:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        ax.axis("off")
        _save(fig, path)
        return
    names = list(class_names) if class_names is not None else None
    cols = min(8, n)
    rows = -(-n // cols)
    # class names (Fashion-MNIST's "Pullover→Trouser") need the probability on a second line
    gap = "\n" if names else " "
    height = (1.9 if names else 1.7) * rows + 0.4
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, height), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        ax = axes.ravel()[i]
        ax.imshow(np.asarray(images[i]).reshape(images[i].shape[:2]), cmap="gray")
        t = names[true[i]] if names else true[i]
        p = names[pred[i]] if names else pred[i]
        ax.set_title(f"{t}→{p}{gap}({confidence[i]:.2f})", fontsize=8, color="crimson")
    fig.suptitle(f"{title}: true→predicted (probability)", fontsize=10)
    _save(fig, path)


def plot_bars(groups, series, means, stds, path, ylabel, title="", log=False):
    """Grouped bar chart with error bars: means[g][s] +- stds[g][s] for each group g (x axis)
    and series s (colour)."""
    plt = _plt()
    means, stds = np.asarray(means, float), np.asarray(stds, float)
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(groups) * len(series) + 1.5), 4.5))
    x = np.arange(len(groups))
    top = float(np.nanmax(means + stds))
    for s, name in enumerate(series):
        pos = x - 0.4 + width * (s + 0.5)
        ax.bar(pos, means[:, s], width, yerr=stds[:, s] if stds.any() else None, capsize=3,
               label=name)
        for px, m, sd in zip(pos, means[:, s], stds[:, s]):      # value above the whisker
            y = (m + sd) * 1.04 if log else m + sd + 0.015 * top
            ax.text(px, y, f"{m:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    if log:
        # a log axis has no zero: start a little under the smallest bar, plain-number ticks
        ax.set_yscale("log")
        ax.set_ylim(0.6 * float(np.nanmin(means)), top * 1.6)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(plt.FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    else:
        ax.set_ylim(top=top * 1.12)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    _save(fig, path)


# -- GradientStats ---------------------------------------------------------------------------
PANELS = {
    "grad_norm": ("kernel gradient norm |dL/dW|", True),
    "update_ratio": ("update / weight  |dW|/|W|", True),
    "act_std": ("activation std", True),
    "dead_relu": ("dead ReLU fraction", False),
}


def _load_gradient_stats(source):
    """A GradientStats, its ``to_dict()``, or the path of the JSON it wrote."""
    if isinstance(source, dict):
        return source
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        with open(source) as fh:
            return json.load(fh)
    return source.to_dict()


def _column(name, quantity):
    if quantity in ("grad_norm", "update_ratio", "weight_norm", "update_norm"):
        return f"{name}/kernel/{quantity}"
    return f"{name}/{quantity}"


def plot_gradient_stats(source, path, quantities=("grad_norm", "update_ratio", "act_std",
                                                  "dead_relu"), title=None):
    """Save a figure to ``path``. ``source``: a GradientStats, its to_dict(), or its JSON file.

    Parameter panels use each layer's ``kernel``; layers without the quantity are skipped.
    """
    plt = _plt()
    data = _load_gradient_stats(source)
    rows, layers = data["rows"], data["layers"]
    quantities = [q for q in quantities
                  if any(_column(l["name"], q) in r for l in layers for r in rows)]
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.6 * len(quantities), 3.8),
                             squeeze=False)
    cmap = plt.get_cmap("viridis")
    handles = {}                       # one colour per layer, the same in every panel
    for ax, q in zip(axes[0], quantities):
        label, log = PANELS.get(q, (q, True))
        for k, l in enumerate(layers):
            col = _column(l["name"], q)
            pts = [(r["step"], r[col]) for r in rows
                   if r.get(col) is not None and math.isfinite(r[col])]
            if pts:
                line, = ax.plot(*zip(*pts), color=cmap(k / max(1, len(layers) - 1)), lw=1.4,
                                label=l["name"])
                handles.setdefault(k, line)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("optimizer step")
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][-1].legend([handles[k] for k in sorted(handles)],
                       [layers[k]["name"] for k in sorted(handles)], fontsize=7,
                       loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
    return path
