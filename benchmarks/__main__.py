"""``python -m benchmarks``: nnlite against Keras in one run; see benchmarks/cli.py and --help."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:      # Ctrl+C while the modules import: one line, no traceback
    print("python -m benchmarks: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
