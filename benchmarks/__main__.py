"""``python -m benchmarks``: nnlite against Keras in one run; see benchmarks/cli.py and --help."""
import sys

from .cli import main

sys.exit(main())
