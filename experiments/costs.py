"""What each job of the study costs, for the driver's estimates (``python -m experiments``).

``calibrate`` times, for each model of the study (ann, cnn, vgg16, vgg16_bn; width 0.25) and
engine (nnlite, and Keras when TensorFlow is installed), a few training steps at batch 32
after a warm-up (median seconds per step) and one prediction pass over 512 images (seconds
per image), plus nnlite's augmentation (seconds per batch). It takes a few seconds per model.
An epoch of a recipe is then estimated as

    steps x (train step + augmentation) + validation images x prediction per image

and a run adds one test pass (10,000 images) and the start of a process. After every
finished run the driver stores the MEASURED wall seconds per step (epoch seconds / steps,
validation included) under "measured"; an estimate uses the measured figure when there is
one for the same (engine, model, augmentation).

The table lives in results/study_costs.json with the machine it was measured on.
"""
import json
import math
import os
import time

import numpy as np

from experiments.common import RESULTS, machine
from nnlite.files import write_json

COSTS_FILE = os.path.join(RESULTS, "study_costs.json")
MODELS = ("ann", "cnn", "vgg16", "vgg16_bn")
AUGMENTATIONS = ("affine", "elastic", "affine+elastic")
BATCH, PREDICT_IMAGES, TEST_IMAGES, DATASET_IMAGES = 32, 512, 10_000, 60_000
START_SECONDS = {"nnlite": 5.0, "keras": 15.0}     # a job's process: imports, data, compile


def load():
    try:
        with open(COSTS_FILE) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def model_key(recipe):
    """"cnn", "vgg16" (width 0.25) or e.g. "vgg16@0.5"."""
    wide = recipe.model.startswith("vgg16") and recipe.width != 0.25
    return recipe.model + (f"@{recipe.width:g}" if wide else "")


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _nnlite_model(name):
    from nnlite import optimizers, zoo
    from nnlite.ops.threads import blas_threads
    model = zoo.build(name, seed=0)
    model.compile(optimizers.Adam(1e-3))

    def step(x, y):
        with blas_threads():        # as inside fit
            model.train_step(x, y)
    return step, model.predict


def _keras_model(name):
    from baselines.models import build, compile_model
    model = compile_model(build(name, seed=0), 1e-3)
    return (lambda x, y: model.train_on_batch(x, y),
            lambda x: model.predict(x, batch_size=256, verbose=0))


def calibrate(engines=("nnlite", "keras"), steps=5, models=MODELS, log=print):
    """Time every (engine, model); write and return the cost table (keeps "measured")."""
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    xp = rng.random((PREDICT_IMAGES, 28, 28, 1), dtype=np.float32)
    table = load()
    table.update(machine=machine(), calibrated_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                 time.gmtime()),
                 steps_timed=steps, batch_size=BATCH)
    per_step = table.setdefault("per_step", {})
    for engine in engines:
        if engine == "keras":
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                log("keras: TensorFlow is not installed, skipped")
                continue
        for name in models:
            step, predict = (_nnlite_model if engine == "nnlite" else _keras_model)(name)
            for _ in range(2):                      # warm-up: compile kernels, trace graphs
                step(x, y)
            predict(xp)
            per_step[f"{engine}:{name}"] = {
                "train_step_s": _median_seconds(lambda: step(x, y), steps),
                "predict_s_per_image": _median_seconds(lambda: predict(xp), 2) / PREDICT_IMAGES}
            log(f"{engine}:{name}: {per_step[f'{engine}:{name}']['train_step_s'] * 1e3:.1f} "
                "ms per step")
    from nnlite.preprocess import make_augment
    table["augment_s_per_batch"] = {}
    for name in AUGMENTATIONS:
        augment = make_augment(name)
        augment(x, rng)
        table["augment_s_per_batch"][name] = _median_seconds(lambda: augment(x, rng), 10)
    write_json(COSTS_FILE, table)
    return table


def _steps(recipe):
    n = recipe.limit or DATASET_IMAGES
    n_train = int(math.floor(n * (1 - recipe.validation_split)))
    return -(-n_train // recipe.batch_size), n - n_train


def _measured_key(engine, recipe):
    return f"{engine}:{model_key(recipe)}:{recipe.augment}"


def epoch_seconds(table, engine, recipe):
    """Estimated wall seconds of one epoch of ``recipe`` (None without a calibration)."""
    steps, n_val = _steps(recipe)
    measured = table.get("measured", {}).get(_measured_key(engine, recipe))
    if measured:
        return steps * measured["s_per_step"] * recipe.batch_size / BATCH
    cal = table.get("per_step", {}).get(f"{engine}:{model_key(recipe)}")
    if cal is None:
        return None
    augment = table.get("augment_s_per_batch", {}).get(recipe.augment, 0.0)
    step = cal["train_step_s"] * recipe.batch_size / BATCH + augment
    return steps * step + n_val * cal["predict_s_per_image"]


def job_seconds(table, job, state, detail):
    """Estimated wall seconds left for ``job`` in ``state`` (0 when done; None if unknown)."""
    if state == "done":
        return 0.0
    if job.engine is None:
        return job.estimate_seconds
    recipe = job.estimate_recipe()
    per_epoch = epoch_seconds(table, job.engine, recipe) if recipe else None
    if per_epoch is None:
        return None
    done = int(detail.split("/")[0]) if state == "partial" and "/" in detail else 0
    cal = table.get("per_step", {}).get(f"{job.engine}:{model_key(recipe)}", {})
    test = TEST_IMAGES * cal.get("predict_s_per_image", 0.0)
    return per_epoch * max(0, recipe.epochs - done) + test + START_SECONDS[job.engine]


def record_measured(table, engine, recipe, wall_s_per_epoch):
    """Fold one finished run's measured epoch time into the table (a running mean) and save."""
    steps, _ = _steps(recipe)
    per_step = wall_s_per_epoch / steps * BATCH / recipe.batch_size
    entry = table.setdefault("measured", {}).get(_measured_key(engine, recipe),
                                                 {"s_per_step": 0.0, "runs": 0})
    runs = entry["runs"] + 1
    table["measured"][_measured_key(engine, recipe)] = {
        "s_per_step": (entry["s_per_step"] * entry["runs"] + per_step) / runs, "runs": runs}
    write_json(COSTS_FILE, table)
