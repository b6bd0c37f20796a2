"""``python -m baselines compare MODEL``: numerical parity of nnlite and Keras; see
baselines/cli.py and ``python -m baselines compare --help``."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:      # Ctrl+C while the modules import: one line, no traceback
    print("python -m baselines: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
