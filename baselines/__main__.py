"""``python -m baselines compare MODEL``: numerical parity of nnlite and Keras; see
baselines/cli.py and ``python -m baselines compare --help``."""
import sys

from .cli import main

sys.exit(main())
