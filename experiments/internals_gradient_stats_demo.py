"""The stock GradientStats figure (nnlite.inspect.plot_gradient_stats) for two runs of
experiment (a): the 10-layer sigmoid and ReLU MLPs. Reads results/internals/vanishing.json.

    python -m experiments.internals_gradient_stats_demo
"""
import json

from experiments.internals_common import out_path


def main():
    from nnlite.inspect import plot_gradient_stats
    with open(out_path("vanishing.json")) as fh:
        runs = json.load(fh)["runs"]
    for act in ("sigmoid", "relu"):
        plot_gradient_stats(runs[act]["gradient_stats"], out_path(f"gradient_stats_{act}.png"),
                            title=f"GradientStats(every=5) on the 10-layer {act} MLP, 5 epochs "
                                  "(plot_gradient_stats)")


if __name__ == "__main__":
    main()
