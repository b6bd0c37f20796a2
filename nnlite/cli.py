"""``nnlite`` command line: ``nnlite --help`` lists the subcommands.

Each subcommand lives in ``nnlite/commands/<name>.py`` with ``register(subparsers)``, which adds
its parser and sets ``func``. Heavy optional dependencies (matplotlib, TensorFlow) are imported
inside the functions that use them, so ``nnlite --help`` stays fast.

The drawing app, the benchmark and the Keras comparison are not part of the library; they run
from a checkout: ``python -m apps``, ``python -m benchmarks``, ``python -m baselines compare``.
"""
import sys

from . import __version__
from .commands import data, evaluate, trace, train
from .commands.arguments import ArgumentParser
from .commands.common import CommandErrors

# subcommand modules, in the order --help shows them
COMMANDS = {"data": data, "trace": trace, "train": train, "evaluate": evaluate}


def build_parser():
    parser = ArgumentParser(
        prog="nnlite",
        description="nnlite: a from-scratch NumPy + Numba neural-network engine for MNIST-sized "
                    "problems. Fetch the data, trace one training step, train and evaluate.",
        epilog="Data: MNIST is read from $NNLITE_DATA_DIR/mnist (or ~/.cache/nnlite/mnist); "
               "`nnlite data download mnist` fetches it.")
    parser.add_argument("--version", action="version", version=f"nnlite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.register(sub)
    return parser


def main(argv=None):
    """Run the ``nnlite`` command -> exit code: 0 done, 2 refused (the message says why),
    130 interrupted, 1 a bug. See ``nnlite.commands.common.CommandErrors``."""
    errors = CommandErrors("nnlite")
    with errors:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        errors.prog = f"nnlite {args.command}"
        return args.func(args) or 0
    return errors.exit_code


if __name__ == "__main__":
    sys.exit(main())
