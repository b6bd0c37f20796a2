"""What each field of a training checkpoint must be, checked before anything is restored, so
that a tampered checkpoint is refused by name instead of surfacing later as a ZeroDivisionError,
a NaN weight or a silently different run. Used by ``nnlite.checkpoint``; each check raises
``ValueError`` (reported there as a corrupt checkpoint) or ``ResumeError`` (another run)."""
import math
import re

import numpy as np

from .errors import ResumeError

MAX_EPOCHS = 10 ** 9
MAX_SAMPLES = 2 ** 40
MAX_CALLBACKS = 16
MAX_CALLBACK_VALUES = 2 ** 24            # all stateful callbacks' arrays together
CALLBACK_DTYPES = ("bool", "int64", "float64")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def stateful(callbacks):
    """The callbacks whose state a checkpoint keeps: those with get_state and set_state."""
    return [cb for cb in callbacks if callable(getattr(cb, "get_state", None))
            and callable(getattr(cb, "set_state", None))]


def count(value, what, high, low=0):
    """An int in [low, high] (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what}={value!r}, expected an integer in [{low:,}, {high:,}]")
    return value


def checked_rng_state(state, kind, what):
    """``state`` must be a valid state of numpy's bit generator ``kind`` (e.g. 'PCG64')."""
    if kind not in BIT_GENERATORS:
        raise ValueError(f"{what}: unknown bit generator {kind!r}")
    try:
        getattr(np.random, kind)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"{what} is not a {kind} state ({type(exc).__name__}: {exc})") from None


def checked_position(raw, run, rng_kind):
    """The position inside an epoch; its counters must be those of a real run (seen =
    min(batch x batch_size, n_train), so an epoch's mean loss never divides by zero)."""
    if not isinstance(raw, dict):
        raise ValueError("position is not an object")
    pos = dict(raw)
    count(pos["epoch"], "position epoch", MAX_EPOCHS)
    batch, seen, correct = (count(pos[k], f"position {k}", MAX_SAMPLES)
                            for k in ("batch", "seen", "correct"))
    for key in ("loss_sum", "elapsed"):
        value = pos[key]
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value < 0):
            raise ValueError(f"position {key}={value!r}, expected a finite number >= 0")
    n_train = pos.get("n_train", run["n_train"] if run else None)
    batch_size = pos.get("batch_size", run["batch_size"] if run else None)
    if n_train is not None and batch_size is not None:
        count(n_train, "position n_train", MAX_SAMPLES, low=1)
        count(batch_size, "position batch_size", MAX_SAMPLES, low=1)
        if batch > -(-n_train // batch_size) or seen != min(batch * batch_size, n_train):
            raise ValueError(f"position batch={batch}, seen={seen} is not a point of an epoch "
                             f"of {n_train} samples in batches of {batch_size}")
    elif batch > 0 and seen == 0:
        raise ValueError(f"position batch={batch} with seen=0")
    if correct > seen:
        raise ValueError(f"position correct={correct} > seen={seen}")
    if batch > 0 and pos["epoch_rng"] is None:
        raise ValueError("a position inside an epoch without the epoch's shuffle state")
    if pos["epoch_rng"] is not None:
        checked_rng_state(pos["epoch_rng"], rng_kind, "position epoch_rng")
    return pos


def checked_history(raw):
    """-> (epoch list, {metric: values}) from a ``History.to_dict()``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("epoch"), list) \
            or not isinstance(raw.get("history"), dict):
        raise ValueError("history is not {'epoch': [...], 'history': {...}}")
    epochs = [count(e, "history epoch", MAX_EPOCHS) for e in raw["epoch"]]
    series = {}
    for key, values in raw["history"].items():
        if not isinstance(values, list) or len(values) > len(epochs) or not all(
                v is None or isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in values):
            raise ValueError(f"history '{key}' is not a list of numbers, one per epoch")
        series[key] = list(values)
    return epochs, series


def checked_callbacks(entries, mine, source, required):
    """The stateful callbacks' records -> ([state dict per callback], {member: (shape, dtype)}).
    The checkpoint must hold one for each of this call's stateful callbacks, same classes, same
    order (``required``; checkpoints older than the record hold none: callbacks start fresh)."""
    if entries is None and not required:
        return [], {}
    if not isinstance(entries, list) or len(entries) > MAX_CALLBACKS:
        raise ValueError("callbacks is not a list of callback states")
    theirs = [e.get("class") if isinstance(e, dict) else e for e in entries]
    if theirs != [type(cb).__name__ for cb in mine]:
        raise ResumeError(f"{source}: the checkpoint holds the state of callbacks {theirs}, "
                          f"this call has the stateful callbacks "
                          f"{[type(cb).__name__ for cb in mine]}")
    states, expected, total = [], {}, 0
    for j, entry in enumerate(entries):
        if not isinstance(entry.get("state"), dict) or not isinstance(entry.get("arrays"), dict):
            raise ValueError(f"callback {j} state is not {{'state': {{}}, 'arrays': {{}}}}")
        for key, spec in entry["arrays"].items():
            shape = spec.get("shape") if isinstance(spec, dict) else None
            if (not re.fullmatch(r"[a-z_]{1,32}", key) or not isinstance(shape, list)
                    or len(shape) > 4 or spec.get("dtype") not in CALLBACK_DTYPES):
                raise ValueError(f"callback {j} array {key!r}: {spec!r}")
            total += math.prod(count(s, f"callback {j} array {key} size", MAX_CALLBACK_VALUES)
                               for s in shape)
            expected[f"callbacks/{j}/{key}"] = (tuple(shape), np.dtype(spec["dtype"]))
        states.append(entry["state"])
    if total > MAX_CALLBACK_VALUES:
        raise ValueError(f"callback arrays of {total:,} values, more than {MAX_CALLBACK_VALUES:,}")
    return states, expected


def first_difference(a, b, path="config"):
    """-> (where, a's value, b's value) of the first difference of two JSON values, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}", a.get(key, "absent"), b.get(key, "absent")
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length)", len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else (path, a, b)
