"""``python -m apps`` starts the drawing app; ``python -m apps --help`` lists its options."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:      # Ctrl+C while the modules import: one line, no traceback
    print("python -m apps: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
