"""The study: experiment scripts (``python -m experiments.X``) and their driver
(``python -m experiments``).

BLAS and OpenMP default to one thread in every experiment process (set here, before NumPy
loads): nnlite runs its convolutions on its own worker threads (``NNLITE_NUM_THREADS``) and
keeps BLAS single-threaded inside fit/predict; a multi-threaded BLAS on a busy machine spins
instead of working. Set the variables before starting Python to override.
"""
import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")
