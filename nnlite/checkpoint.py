"""Resumable training checkpoints, in the pickle-free container of model files
(``nnlite.modelfile``). A checkpoint resumes exactly or not at all.

Beside the model's config and arrays it records what a continued run must repeat: the optimizer
(class, ``get_config`` with the learning-rate schedule's, step count, slot arrays), the loss,
the run (training-set size, batch size, shuffling, ``batch_transform``), every generator the run
draws from (shuffle, augmentation, each layer's own, e.g. Dropout's masks), the position inside
the epoch, the history, and the state of every stateful callback: a callback may define
``get_state() -> dict`` (JSON-able values and numeric arrays) and ``set_state(dict)``.

``load_checkpoint`` compares the record with this model and fit call (``ResumeError`` naming
the difference), checks every field and every array's shape, dtype and values, and only then
changes the model. Checkpoints written before the record existed (no ``version``) are accepted
with the fields they have (architecture, optimizer config, data and batch size)."""
import copy
import json
import math

import numpy as np

from .errors import ConfigError, ModelFileError, ResumeError
from .files import jsonable
from .modelfile import (ModelFile, check_array_values, check_format, load_arrays_into,
                        model_arrays, model_config, write_npz)
from .resume_checks import (checked_callbacks, checked_history, checked_position,
                            checked_rng_state, count, first_difference, stateful)

VERSION = 2
MAX_ITERATIONS = 10 ** 12
NON_NEGATIVE_SLOTS = ("v",)     # Adam's second moment: sqrt of a negative is NaN


def run_record(n_train, batch_size, shuffle, batch_transform):
    """What a resumed ``fit`` call must repeat for the run to continue exactly."""
    transform = None
    if batch_transform is not None:
        settings = (batch_transform.get_config() if hasattr(batch_transform, "get_config") else
                    {k: v for k, v in sorted(getattr(batch_transform, "__dict__", {}).items())
                     if isinstance(v, (bool, int, float, str))})
        transform = {"name": getattr(batch_transform, "__qualname__",
                                     type(batch_transform).__name__), "settings": settings}
    return jsonable({"n_train": n_train, "batch_size": batch_size, "shuffle": bool(shuffle),
                     "batch_transform": transform})


def save_checkpoint(path, model, history, position, run=None, callbacks=()):
    """Write ``model`` (compiled) and everything above to ``path``, atomically."""
    opt = model.optimizer
    opt_meta, opt_arrays = opt.get_state()
    arrays = {**model_arrays(model), **{f"optimizer/{k}": a for k, a in opt_arrays.items()}}
    states = []
    for j, cb in enumerate(stateful(callbacks)):
        entry = {"class": type(cb).__name__, "state": {}, "arrays": {}}
        for key, value in cb.get_state().items():
            if isinstance(value, np.ndarray):
                arrays[f"callbacks/{j}/{key}"] = value
                entry["arrays"][key] = {"shape": list(value.shape), "dtype": value.dtype.name}
            else:
                entry["state"][key] = value
        states.append(entry)
    meta = model_config(model)
    meta["checkpoint"] = {
        "version": VERSION, "position": position, "run": run,
        "optimizer": {"class": type(opt).__name__, "config": opt.get_config(), **opt_meta},
        "loss": getattr(model.loss, "name", None),
        "shuffle_rng": model.shuffle_rng.bit_generator.state,
        "augment_rng": model.augment_rng.bit_generator.state,
        "layer_rngs": {str(i): state for i, state in
                       ((i, l.get_rng_state()) for i, l in enumerate(model.layers))
                       if state is not None},
        "history": history.to_dict(), "callbacks": states}
    write_npz(path, jsonable(meta), arrays)


def load_checkpoint(path, model, history, run=None, callbacks=()):
    """Restore ``model`` (built, compiled, same architecture), ``history`` and the stateful
    ``callbacks`` from ``path``; -> the training position. ``run``: this fit call's
    ``run_record`` (None: not compared)."""
    with ModelFile(path) as mf:
        source, meta = mf.source, mf.meta
        ck = meta.get("checkpoint")
        if not isinstance(ck, dict):
            raise ModelFileError(f"{source}: a model file, not a training checkpoint")
        check_format(meta, source)
        try:
            plan = _plan(ck, meta, model, run, callbacks, source)
            arrays = dict(mf.read_arrays(plan["expected"]))
            _check_values(arrays, source)
            _apply(plan, arrays, model, history, callbacks, source)
        except (ResumeError, ModelFileError):
            raise
        except (ConfigError, KeyError, TypeError, ValueError, IndexError, AttributeError,
                OverflowError) as exc:
            raise ModelFileError(f"{source}: checkpoint is incomplete or corrupt "
                                 f"({type(exc).__name__}: {exc})") from None
    return plan["position"]


def _plan(ck, meta, model, run, callbacks, source):
    """Every check that needs no array: -> what to read and what to restore."""
    theirs = {k: v for k, v in meta.items() if k != "checkpoint"}
    where = first_difference(_arch(theirs), _arch(json.loads(json.dumps(jsonable(
        model_config(model))))))
    if where:
        raise ResumeError(f"{source}: the checkpoint's architecture differs from this model's "
                          f"at {where[0]}: {where[1]!r} there, {where[2]!r} here")
    version = ck.get("version")
    if version not in (None, VERSION):
        raise ValueError(f"checkpoint version {version!r}; this nnlite reads {VERSION}")
    _compare(ck, model, run, source, new=version is not None)
    opt = ck["optimizer"]
    iterations = count(opt["iterations"], "optimizer iterations", MAX_ITERATIONS)
    expected = {k: (a.shape, a.dtype) for k, a in model_arrays(model).items()}
    params = [layer.params[k] for layer, k in model.trainable()]
    for i, p in enumerate(params if iterations else []):   # no step taken: no moments yet
        expected.update({f"optimizer/{i}/{k}": (a.shape, a.dtype)
                         for k, a in model.optimizer.new_slots(p).items()})
    cb_states, cb_expected = checked_callbacks(ck.get("callbacks"), stateful(callbacks),
                                               source, required=version is not None)
    expected.update(cb_expected)
    layer_rngs = ck.get("layer_rngs", ck.get("dropout_rngs", {}))  # the name older ones used
    if not isinstance(layer_rngs, dict):
        raise ValueError("layer_rngs is not an object")
    with_rng = {str(i) for i, l in enumerate(model.layers) if l.get_rng_state() is not None}
    if (version is not None and set(layer_rngs) != with_rng) or not set(layer_rngs) <= with_rng:
        raise ValueError(f"generator states for layers {sorted(layer_rngs)}, the model's "
                         f"generators are in layers {sorted(with_rng)}")
    for i, state in layer_rngs.items():
        checked_rng_state(state, model.layers[int(i)].get_rng_state()["bit_generator"],
                          f"layer {i}'s generator")
    shuffle_type = model.shuffle_rng.bit_generator.state["bit_generator"]
    checked_rng_state(ck["shuffle_rng"], shuffle_type, "shuffle_rng")
    if "augment_rng" in ck:         # absent in checkpoints written before batch_transform
        checked_rng_state(ck["augment_rng"], shuffle_type, "augment_rng")
    return {"expected": expected, "iterations": iterations, "params": params,
            "layer_rngs": layer_rngs, "callbacks": cb_states, "ck": ck,
            "history": checked_history(ck["history"]),
            "position": checked_position(ck["position"], run, shuffle_type)}


def _compare(ck, model, run, source, new):
    """The optimizer, loss and fit settings the checkpoint was written with must be these."""
    opt, mine = ck["optimizer"], model.optimizer
    if not isinstance(opt, dict):
        raise ValueError("optimizer is not an object")
    theirs_cls, mine_cls = opt.get("class", type(mine).__name__), type(mine).__name__
    theirs_cfg, mine_cfg = opt["config"], json.loads(json.dumps(jsonable(mine.get_config())))
    if theirs_cls != mine_cls or theirs_cfg != mine_cfg:
        same_class = theirs_cls == mine_cls and isinstance(theirs_cfg, dict)
        keys = [k for k in sorted(set(theirs_cfg) | set(mine_cfg))
                if theirs_cfg.get(k) != mine_cfg.get(k)] if same_class else None
        raise ResumeError(f"{source}: the checkpoint was written with "
                          f"{_call(theirs_cls, theirs_cfg, keys)}, this model is compiled with "
                          f"{_call(mine_cls, mine_cfg, keys)}")
    if new and ck.get("loss") != getattr(model.loss, "name", None):
        raise ResumeError(f"{source}: the checkpoint was written with loss {ck.get('loss')!r}, "
                          f"this model is compiled with {getattr(model.loss, 'name', None)!r}")
    if run is None:
        return
    recorded = {k: v for k, v in ck["position"].items() if k in ("n_train", "batch_size")}
    recorded.update((ck.get("run") or {}) if new else {})
    for key, what in (("n_train", "training samples"), ("batch_size", "batch_size"),
                      ("shuffle", "shuffle"), ("batch_transform", "batch_transform")):
        if key in recorded and recorded[key] != run[key]:
            raise ResumeError(f"{source}: the checkpoint was written with {what}="
                              f"{recorded[key]!r}, this call has {what}={run[key]!r}; resuming "
                              "would not continue the same run")


def _call(cls, cfg, keys=None):
    """Adam(learning_rate=0.001): the settings ``keys`` (default: all), as a constructor call."""
    if not isinstance(cfg, dict):
        return f"{cls}({cfg!r})"
    return f"{cls}({', '.join(f'{k}={cfg.get(k)!r}' for k in keys or cfg if k != 'name')})"


def _check_values(arrays, source):
    """Weights and optimizer state finite, variances non-negative, before anything changes."""
    for key, a in arrays.items():
        if key.startswith("layers/"):
            check_array_values(key, a, source)
        elif key.startswith("optimizer/"):
            if not np.isfinite(a).all():
                raise ModelFileError(f"{source}: optimizer state '{key}' contains NaN/Inf")
            if key.rsplit("/", 1)[1] in NON_NEGATIVE_SLOTS and (a < 0).any():
                raise ModelFileError(f"{source}: optimizer state '{key}' has negative values")


def _apply(plan, arrays, model, history, callbacks, source):
    """Restore everything; every value was checked before (by ``_plan`` and on read). The
    callbacks first: their own checks (e.g. GradientStats' cadence) refuse before the model
    changes."""
    for j, (cb, state) in enumerate(zip(stateful(callbacks), plan["callbacks"])):
        prefix = f"callbacks/{j}/"
        cb.set_state({**state, **{k[len(prefix):]: a for k, a in arrays.items()
                                  if k.startswith(prefix)}})
    load_arrays_into(model, ((k, a) for k, a in arrays.items() if k.startswith("layers/")),
                     source)
    opt = model.optimizer
    opt.slots = None
    opt.set_state({"iterations": plan["iterations"]},
                  {k[len("optimizer/"):]: a for k, a in arrays.items()
                   if k.startswith("optimizer/")}, plan["params"])
    ck = plan["ck"]
    model.shuffle_rng.bit_generator.state = ck["shuffle_rng"]
    if "augment_rng" in ck:
        model.augment_rng.bit_generator.state = ck["augment_rng"]
    for i, state in plan["layer_rngs"].items():
        model.layers[int(i)].set_rng_state(state)
    history.epoch, history.history = plan["history"]


def _arch(cfg):
    c = copy.deepcopy(cfg)
    c.pop("name", None)
    for layer in c.get("layers", []) if isinstance(c.get("layers"), list) else []:
        if isinstance(layer, dict) and isinstance(layer.get("config"), dict):
            layer["config"].pop("name", None)
    return c
