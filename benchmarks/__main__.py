"""``python -m benchmarks`` == ``nnlite bench``: see benchmarks/cli.py and --help."""
import sys

from .cli import main

sys.exit(main())
