"""nnlite's exception hierarchy.

Every error nnlite raises on purpose derives from ``NNLiteError`` so a caller can catch
"anything nnlite refused" in one clause, and each message says what was expected and what was
found::

    NNLiteError
    ├── InputError          wrong shape / rank / dtype / labels / empty or non-finite data
    │   └── ResumeError     a checkpoint written by another run than this fit call
    ├── ConfigError         bad layer or model configuration (unknown layer, absurd sizes)
    ├── DataError           dataset files: missing, truncated, bad magic, bad header
    │   └── ChecksumError   a file's SHA-256 differs from the canonical one
    ├── ModelFileError      model / checkpoint files: corrupt, truncated, foreign, unsafe
    └── NonFiniteError      NaN / Inf appeared in the loss or a gradient during training
        └── DivergenceError the loss exploded (over 100x its starting value) before any Inf
"""


class NNLiteError(Exception):
    """Base of every error nnlite raises deliberately."""


class InputError(NNLiteError, ValueError):
    """An array or argument given to nnlite has the wrong shape, dtype or values."""


class ResumeError(InputError):
    """``fit(resume=...)``: the checkpoint was written by another run (architecture, optimizer,
    learning rate, loss, data size, batch size, shuffling, callbacks); the message names both."""


class ConfigError(NNLiteError, ValueError):
    """A layer, model or optimiser was configured with invalid settings."""


class DataError(NNLiteError):
    """A dataset file is missing, truncated or malformed."""


class ChecksumError(DataError):
    """A dataset file's SHA-256 does not match the expected value."""


class ModelFileError(NNLiteError):
    """A model or checkpoint file cannot be read safely."""


class NonFiniteError(NNLiteError, FloatingPointError):
    """Training produced NaN or Inf; the message names the step and the layer."""


class DivergenceError(NonFiniteError):
    """The loss exploded far above its starting value (e.g. learning rate 10): the softmax
    cross-entropy is computed stably, so a diverged model can keep a huge but finite loss."""
