"""Keep freed memory for reuse instead of handing it back to the OS after every step.

glibc's malloc returns a large block to the OS as soon as it is freed (blocks above its mmap
threshold are unmapped; free space at the heap top is trimmed), so a training step that
allocates the same multi-MB temporaries as the step before page-faults all of them in again,
zero-filled. Raising both thresholds keeps those blocks in the process for the next step.
Measured (VGG16 width 0.25, batch 32, 2 threads, ``fit``): 29.6 ms per step with glibc's
defaults, 23.6 ms with these settings.

Linux/glibc only; elsewhere, or with ``NNLITE_MALLOC_TUNING=0``, nothing is changed. It is a
process-wide setting (TensorFlow makes a similar one), applied once, on the first ``fit``,
``predict`` or ``evaluate``.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1            # mallopt parameter numbers from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2 ** 20    # glibc's maximum on 64-bit systems
TRIM_THRESHOLD = 256 * 2 ** 20

_applied = None


def keep_freed_memory():
    """Apply the malloc settings once; returns True if they are in effect."""
    global _applied
    if _applied is None:
        _applied = False
        if sys.platform.startswith("linux") and os.environ.get("NNLITE_MALLOC_TUNING") != "0":
            try:
                libc = ctypes.CDLL("libc.so.6")
                _applied = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                                and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
            except (OSError, AttributeError):     # not glibc (e.g. musl)
                pass
    return _applied
