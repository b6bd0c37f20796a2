"""Plot what GradientStats recorded: one panel per quantity, one line per layer."""
import json
import math

PANELS = {
    "grad_norm": ("kernel gradient norm |dL/dW|", True),
    "update_ratio": ("update / weight  |dW|/|W|", True),
    "act_std": ("activation std", True),
    "dead_relu": ("dead ReLU fraction", False),
}


def _load(source):
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
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = _load(source)
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
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
