"""``python -m apps`` starts the drawing app; ``python -m apps --help`` lists its options."""
import sys

from .cli import main

sys.exit(main())
