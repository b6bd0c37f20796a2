"""Subnormal floats read and written as zero while nnlite computes (x86-64 FTZ and DAZ).

Why: with an L2 penalty, BatchNorm and Adam, most kernel entries of filters that the data no
longer reaches shrink towards 0 (BatchNorm makes the layer blind to their scale) and end
around 1e-30. Their products with small activations and gradients are subnormal numbers,
which x86 cores handle in microcode, many times slower: measured, the CNN trained with affine
augmentation at learning rate 1e-3 went from 45 s to 400 s per epoch by epoch 6, and the
forward pass of its checkpoint took 8.0 s for 4,096 images instead of 0.9 s. TensorFlow's CPU
threads run with both flags set (flush to zero: results that would be subnormal become 0;
denormals are zero: subnormal inputs count as 0), so this also keeps nnlite's arithmetic
the same as Keras'.

The flags live in each thread's MXCSR register. nnlite sets them in its own worker threads
(``parallel.py``) and, inside ``fit``/``predict``/``evaluate``/``train_step``, in the calling
thread, whose previous value it restores afterwards (``flushed_subnormals``). Python offers no access to
MXCSR, so two tiny functions of machine code (``stmxcsr``/``ldmxcsr``) are placed in an
executable page. Anywhere else (not x86-64 Linux, or executable pages refused) everything
here does nothing and arithmetic stays IEEE-exact.
"""
import contextlib
import ctypes
import mmap
import platform
import sys

FTZ_DAZ = 0x8040                   # MXCSR bits 15 (flush to zero) and 6 (denormals are zero)

# uint32 get(void): stmxcsr [rsp-4]; mov eax, [rsp-4]; ret
_GET = bytes([0x0F, 0xAE, 0x5C, 0x24, 0xFC, 0x8B, 0x44, 0x24, 0xFC, 0xC3])
# void set(uint32 value): mov [rsp-4], edi; ldmxcsr [rsp-4]; ret
_SET = bytes([0x89, 0x7C, 0x24, 0xFC, 0x0F, 0xAE, 0x54, 0x24, 0xFC, 0xC3])


def _load():
    """(get, set) callables for this thread's MXCSR, or (None, None) where unavailable."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None, None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE,
                         prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError, AttributeError):     # W+X pages refused (hardened kernels)
        return None, None
    page.write(_GET + _SET)
    base = ctypes.addressof(ctypes.c_char.from_buffer(page))
    get = ctypes.CFUNCTYPE(ctypes.c_uint32)(base)
    put = ctypes.CFUNCTYPE(None, ctypes.c_uint32)(base + len(_GET))
    _load.page = page                                 # the code must outlive the callables
    return get, put


_get_mxcsr, _set_mxcsr = _load()


def available():
    """True when this process can set the flags."""
    return _get_mxcsr is not None


def flush_subnormals():
    """Set FTZ and DAZ in the calling thread (for nnlite's own worker threads)."""
    if _set_mxcsr is not None:
        _set_mxcsr(_get_mxcsr() | FTZ_DAZ)


@contextlib.contextmanager
def flushed_subnormals():
    """Run the block with FTZ and DAZ set in this thread; its previous MXCSR is restored."""
    if _get_mxcsr is None:
        yield
        return
    before = _get_mxcsr()
    _set_mxcsr(before | FTZ_DAZ)
    try:
        yield
    finally:
        _set_mxcsr(before)
