"""``python -m apps`` starts the drawing app (same as ``python -m apps.draw`` / ``nnlite draw``)."""
import sys

from .draw import main

sys.exit(main())
