"""``nnlite`` command line: ``nnlite --help`` lists the subcommands.

Each subcommand lives in ``nnlite/commands/<name>.py`` with ``register(subparsers)``, which adds
its parser and sets ``func``. Command modules import heavy things (TensorFlow, pygame) inside
their ``func`` only, so ``nnlite --help`` stays fast.
"""
import argparse
import importlib
import sys

from .errors import NNLiteError

# subcommand modules, in the order --help shows them
COMMANDS = ["data", "trace", "train", "evaluate", "draw", "bench", "compare"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nnlite",
        description="nnlite: a from-scratch NumPy + Numba neural-network engine for MNIST-sized "
                    "problems. Train, evaluate, compare with Keras, benchmark, and draw digits.",
        epilog="Data: MNIST is read from $NNLITE_DATA_DIR/mnist (or ~/.cache/nnlite/mnist); "
               "`nnlite data download mnist` fetches it.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"nnlite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nnlite.commands.{name}").register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except NNLiteError as exc:
        print(f"nnlite {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nnlite {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
