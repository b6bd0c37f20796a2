"""What every command line shares: ``nnlite`` and the checkout's ``python -m apps``,
``python -m benchmarks``, ``python -m baselines``.

- Argument types and the parser with "did you mean": ``nnlite.commands.arguments``.
- ``CommandErrors``: the one top-level handler. Everything a user can cause (a bad file, a full
  disk, an unwritable folder, out of memory, a refused argument) becomes one line
  ``PROG: error: <message>`` and exit 2; Ctrl+C becomes ``PROG: interrupted`` and exit 130; a
  bug becomes one "internal error" line and exit 1. No traceback unless ``NNLITE_DEBUG=1``.
- ``quiet_startup_interrupt()``: the same for a Ctrl+C while the ``nnlite`` command is still
  importing its modules (called first thing by the package ``__init__``).
- ``prepare_out(path, flag, overwrite)``: an output folder that is new, empty or explicitly
  overwritable, created and checked writable before any long work starts.
"""
import errno
import os
import re
import sys
import tempfile
import zipfile

from ..errors import ConfigError, NNLiteError

EXIT_ERROR = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141               # 128 + SIGPIPE, what a shell reports for `cmd | head`


# -- the top-level handler ----------------------------------------------------------------------
def debugging():
    """NNLITE_DEBUG=1: let exceptions through with their traceback."""
    return os.environ.get("NNLITE_DEBUG", "") not in ("", "0")


# failures a user can cause (files, disks, memory, data); anything else is a bug in nnlite
USER_ERRORS = (NNLiteError, OSError, ValueError, MemoryError, OverflowError, EOFError,
               zipfile.BadZipFile)

_OS_HINTS = {
    errno.ENOSPC: "the disk is full; free some space or write somewhere else",
    errno.EDQUOT: "the disk quota is used up; free some space or write somewhere else",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "operation not permitted; choose a folder you can write to",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "that is a folder, not a file",
    errno.ENOENT: "no such file or folder",
}


def shorten(text, keep=60):
    """``text`` with every run of over 2*keep non-space characters (e.g. a 5,000-character
    path) cut to its first and last ``keep`` characters."""
    return re.sub(r"\S{%d,}" % (2 * keep + 4),
                  lambda m: f"{m.group(0)[:keep]}...{m.group(0)[-keep:]}", str(text))


def describe(exc):
    """One message for a user-caused exception, naming the file where there is one."""
    if isinstance(exc, OSError) and not isinstance(exc, NNLiteError) and exc.errno:
        reason = _OS_HINTS.get(exc.errno) or exc.strerror or str(exc)
        names = [n for n in (exc.filename, exc.filename2) if n is not None]
        where = " -> ".join(os.fsdecode(n) for n in names)
        return shorten(f"{where}: {reason}" if where else f"{reason} ({exc})")
    if isinstance(exc, MemoryError):
        return ("not enough memory" + (f" ({exc})" if str(exc) else "")
                + "; try a smaller --batch-size or --limit")
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, NNLiteError):
        text = f"{text} ({type(exc).__name__})"
    return shorten(text)


def _where_raised(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    return f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


class CommandErrors:
    """The top-level handler of a command line's ``main``::

        def main(argv=None):
            errors = CommandErrors("nnlite")
            with errors:
                args = parser.parse_args(argv)
                errors.prog = f"nnlite {args.command}"    # messages name the subcommand
                return run(args)
            return errors.exit_code

    A refused argument (argparse's exit 2, after its usage message) becomes the exit code too;
    --help and --version still leave through argparse's SystemExit(0)."""

    def __init__(self, prog):
        self.prog = prog
        self.exit_code = 0

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, SystemExit):
            _flush_stdout()                           # a closed pipe fails here, not at exit
        if exc is None:
            return False
        if isinstance(exc, SystemExit):
            if exc.code in (0, None) or not isinstance(exc.code, int):
                return False
            self.exit_code = exc.code                 # argparse refused an argument: 2
            return True
        if debugging() and not isinstance(exc, KeyboardInterrupt):
            return False
        if isinstance(exc, KeyboardInterrupt):
            self._say("interrupted")
            self.exit_code = EXIT_INTERRUPTED
        elif isinstance(exc, BrokenPipeError):        # `nnlite ... | head` closed the pipe
            _silence_stdout()
            self.exit_code = EXIT_BROKEN_PIPE
        elif isinstance(exc, USER_ERRORS):
            self._say(f"error: {describe(exc)}")
            self.exit_code = EXIT_ERROR
        elif isinstance(exc, Exception):
            self._say(f"internal error: {type(exc).__name__}: {shorten(exc)}{_where_raised(exc)}."
                      " This is a bug: please report it with the command line; NNLITE_DEBUG=1 "
                      "shows the traceback")
            self.exit_code = EXIT_BUG
        else:
            return False                              # GeneratorExit and the like
        return True

    def _say(self, text):
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        print(f"{self.prog}: {text}", file=sys.stderr, flush=True)


def _flush_stdout():
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError):
        pass


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())     # Python's final flush must not fail again
    except (OSError, ValueError):
        pass


def quiet_startup_interrupt(prog="nnlite"):
    """When this process is the ``nnlite`` command (or ``python -m nnlite``), a Ctrl+C while its
    modules still import ends with one line and exit 130 instead of a traceback. Programs that
    merely import nnlite keep Python's own behaviour."""
    started_as = os.path.basename(sys.argv[0]) if sys.argv else ""
    if started_as not in ("nnlite", "-m") or debugging():
        return
    previous = sys.excepthook

    def hook(kind, exc, tb):
        if issubclass(kind, KeyboardInterrupt):
            print(f"{prog}: interrupted", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)
        previous(kind, exc, tb)

    sys.excepthook = hook


# -- output folders -----------------------------------------------------------------------------
def prepare_out(path, flag="--out", overwrite=False, what="output"):
    """Create the folder ``path`` (or accept it empty) and check it is writable, before any long
    work: a folder that holds files is refused unless ``overwrite``. Returns ``path``."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ConfigError(f"{flag}: {shorten(path)} is a file, not a folder")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise ConfigError(f"{flag}: {shorten(path)} already holds files; choose another {flag}"
                          " or add --overwrite to replace them")
    check_writable_folder(path, flag)
    return path


def check_writable_folder(path, flag):
    """Create ``path`` if needed and prove a file can be created in it."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ConfigError(f"{flag}: cannot write into {shorten(path)}: it is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = _OS_HINTS.get(exc.errno) or exc.strerror or str(exc)
        raise ConfigError(f"{flag}: cannot write into {shorten(path)}: {reason}") from None
