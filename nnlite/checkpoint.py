"""Resumable training checkpoints: model + optimizer + generators + position + history,
in the same pickle-free .npz container as model files (see ``nnlite.modelfile``).

Every generator a run draws from is saved: the model's shuffle and augmentation generators and
each layer's own (``Layer.get_rng_state``, e.g. Dropout's masks), so a resumed run continues
bit-identically."""
import copy
import json
import os

from .errors import ConfigError, ModelFileError
from .files import jsonable
from .modelfile import load_arrays_into, model_arrays, model_config, read_npz, write_npz


def save_checkpoint(path, model, history, position):
    meta = model_config(model)
    opt_meta, opt_arrays = model.optimizer.get_state()
    meta["checkpoint"] = {
        "position": position,
        "optimizer": {"config": model.optimizer.get_config(), **opt_meta},
        "shuffle_rng": model.shuffle_rng.bit_generator.state,
        "augment_rng": model.augment_rng.bit_generator.state,
        "layer_rngs": {str(i): state for i, state in
                       ((i, l.get_rng_state()) for i, l in enumerate(model.layers))
                       if state is not None},
        "history": history.to_dict(),
    }
    arrays = dict(model_arrays(model))
    arrays.update({f"optimizer/{k}": a for k, a in opt_arrays.items()})
    write_npz(path, jsonable(meta), arrays)


def load_checkpoint(path, model, history):
    """Restore ``model`` (already built and compiled, same architecture) from ``path``;
    fill ``history``; return the training position."""
    meta, arrays = read_npz(path)
    source = os.fspath(path)
    ck = meta.get("checkpoint")
    if not isinstance(ck, dict):
        raise ModelFileError(f"{source}: a model file, not a training checkpoint")
    mine, theirs = model_config(model), {k: v for k, v in meta.items() if k != "checkpoint"}
    if _arch(mine) != _arch(theirs):
        raise ModelFileError(f"{source}: the checkpoint's architecture differs from this model's")
    try:
        load_arrays_into(model, arrays, source)
        opt = ck["optimizer"]
        params = [layer.params[k] for layer, k in model.trainable()]
        opt_arrays = {k[len("optimizer/"):]: a for k, a in arrays.items()
                      if k.startswith("optimizer/")}
        model.optimizer.set_state(opt, opt_arrays, params)
        model.shuffle_rng.bit_generator.state = ck["shuffle_rng"]
        if "augment_rng" in ck:      # absent in checkpoints written before batch_transform
            model.augment_rng.bit_generator.state = ck["augment_rng"]
        # "dropout_rngs": the same states, under the name older checkpoints used
        for i, state in ck.get("layer_rngs", ck.get("dropout_rngs", {})).items():
            model.layers[int(i)].set_rng_state(state)
        h = ck["history"]
        history.epoch = list(h["epoch"])
        history.history = {k: list(v) for k, v in h["history"].items()}
        position = _checked_position(ck["position"], model)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ConfigError) as exc:
        raise ModelFileError(f"{source}: checkpoint is incomplete or corrupt ({exc!r})") from None
    return position


def _checked_position(raw, model):
    """The training position, with every field of the type ``fit`` relies on."""
    position = dict(raw)
    for key in ("epoch", "batch", "correct", "seen"):
        value = position[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"position {key}={value!r}")
    for key in ("loss_sum", "elapsed"):
        if isinstance(position[key], bool) or not isinstance(position[key], (int, float)):
            raise ValueError(f"position {key}={position[key]!r}")
    if position["epoch_rng"] is not None:       # must be a valid state for this generator
        type(model.shuffle_rng.bit_generator)().state = position["epoch_rng"]
    return position


def _arch(cfg):
    c = copy.deepcopy(cfg)
    c.pop("name", None)
    for layer in c.get("layers", []):
        layer.get("config", {}).pop("name", None)
    return json.dumps(c, sort_keys=True)
