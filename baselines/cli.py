"""``python -m baselines compare MODEL``: the same model, weights and batches in nnlite and in
Keras 3, and how far apart the two engines' numbers are: forward (inference and training), every
gradient, the L2 loss, one Adam step and N Adam steps (weights and BatchNorm moving statistics).

MODEL is a zoo name (ann, cnn, vgg16; BN layers get random gamma/beta/moving statistics so the
check can fail) or a model file written by nnlite. Inputs are uniform random images (no MaxPool
ties). Dropout is switched off (rate 0) so both engines see the same network.

By default the checks run twice: in float32 (what training uses) and in float64 in BOTH engines.
float64 shows the algorithms are the same (differences at float64 rounding level). In float32
rounding adds noise, and Adam (which divides each gradient by its own size) amplifies it for
weights whose gradient is ~0 — e.g. the CNN's conv biases, whose true gradient is 0 because
BatchNorm follows. Each value is marked against its tolerance (baselines/parity.py
TOLERANCES): "ok" within it; "ROUNDING" a float32 value beyond it whose float64 run is within
it (float32 rounding, not a different computation); "FAIL" a real difference.
Needs TensorFlow: pip install 'nnlite[keras]'.
"""
import argparse
import os

import nnlite
from nnlite.commands.arguments import (ArgumentParser, non_negative_int, positive_float,
                                       positive_int)
from nnlite.commands.common import CommandErrors
from nnlite.errors import ConfigError, InputError

from .parity import compare

PROG = "python -m baselines"


def build_parser():
    parser = ArgumentParser(
        prog=PROG, description="Keras 3 baselines for nnlite.",
        epilog="Training a Keras baseline under the study's protocol: "
               "python -m baselines.train MODEL --help")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("compare", help="numerical parity with Keras: forward, gradients, Adam",
                       description=__doc__.split("\n\n", 1)[1],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="ann | cnn | vgg16 | path/to/model.npz")
    p.add_argument("--width", type=positive_float, default=0.25,
                   help="VGG16 width (default 0.25)")
    p.add_argument("--batch-size", type=positive_int, default=8,
                   help="images per batch (default 8)")
    p.add_argument("--steps", type=positive_int, default=50,
                   help="Adam steps to compare (default 50)")
    p.add_argument("--lr", type=positive_float, default=1e-3,
                   help="Adam learning rate (default 1e-3)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="weights and batches seed (default 0)")
    p.add_argument("--dtype", choices=["both", "float32", "float64"], default="both",
                   help="precision to run both engines in (default both)")
    p.set_defaults(func=compare_command)
    return parser


def compare_command(args):
    """Run the checks ``args`` ask for and print them as a table."""
    kwargs = {"batch_size": args.batch_size, "steps": args.steps, "lr": args.lr,
              "seed": args.seed}
    if args.model.endswith(".npz") or os.path.sep in args.model:
        kwargs["model"] = nnlite.load_model(args.model)
        title = args.model
    elif args.model in ("ann", "cnn", "vgg16"):
        kwargs["name"] = args.model
        title = args.model
        if args.model == "vgg16":
            kwargs.update(width=args.width, dropout=0.0)
            title += f" (width {args.width:g}, dropout 0)"
    else:
        raise InputError(f"MODEL must be ann, cnn, vgg16 or a .npz model file, got "
                         f"{args.model!r}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        raise ConfigError(f"{PROG} compare needs TensorFlow and Keras 3: "
                          "pip install 'nnlite[keras]'") from None
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    results = {}
    for dtype in dtypes:
        print(f"running the checks in {dtype} ...", flush=True)
        results[dtype] = compare(dtype=dtype, **kwargs)
    print(format_table(title, results))


def format_table(title, results):
    """Rows: checks; columns: each dtype's value and its mark (see ``mark``), tolerance."""
    dtypes = list(results)
    checks = [r["check"] for r in results[dtypes[0]]]
    width = max(len(c) for c in checks) + 2
    head = f"{'check':<{width}}" + "".join(f"{d:>22}" for d in dtypes) + f"{'tolerance':>12}"
    lines = [f"nnlite vs Keras: {title}", head, "-" * len(head)]
    marks = {d: [mark(results, d, i) for i in range(len(checks))] for d in dtypes}
    for i, check in enumerate(checks):
        cells = [f"{results[d][i]['value']:>13.2e} {marks[d][i]:<8}" for d in dtypes]
        tol = results[dtypes[0]][i]["tolerance"]
        lines.append(f"{check:<{width}}" + "".join(cells)
                     + (f"{tol:>12.0e}" if tol is not None else f"{'-':>12}"))
    seen = {m for d in dtypes for m in marks[d]}
    if "ROUNDING" in seen:
        lines.append("\nROUNDING: beyond the tolerance in float32 but within it in float64 (the "
                     "same check, both engines): float32 rounding, not a different algorithm. "
                     "Adam turns the rounding noise of near-zero gradients (e.g. conv biases "
                     "before BatchNorm, true gradient 0) into steps of ~lr; see "
                     "experiments/results/parity.md.")
    if "FAIL" in seen:
        lines.append("\nFAIL: a difference beyond tolerance"
                     + (" in float64: the engines compute different things."
                        if "FAIL" in marks.get("float64", []) else
                        "; rerun with --dtype both to tell rounding from a real difference."))
    return "\n".join(lines)


def mark(results, dtype, i):
    """"ok" within tolerance; "ROUNDING" a float32 value beyond it whose float64 run of the same
    check is within it; "FAIL" otherwise; "" for rows without a tolerance."""
    within = results[dtype][i]["within"]
    if within is None:
        return ""
    if within:
        return "ok"
    if dtype == "float32" and "float64" in results and results["float64"][i]["within"]:
        return "ROUNDING"
    return "FAIL"


def main(argv=None):
    """Run ``python -m baselines`` -> exit code (2: refused, with the reason on stderr)."""
    errors = CommandErrors(PROG)
    with errors:
        args = build_parser().parse_args(argv)
        errors.prog = f"{PROG} {args.command}"
        return args.func(args) or 0
    return errors.exit_code
