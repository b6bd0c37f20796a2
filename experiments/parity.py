"""Accuracy parity: train each model with nnlite and with Keras under the same protocol.

    python -m experiments.parity run --plan ann:0,1,2 cnn:0,1,2 vgg16:0     # slow, resumable
    python -m experiments.parity run --protocol tuned --plan ann:0,1,2 cnn:0,1,2 vgg16:0
    python -m experiments.parity agreement --model cnn --epochs 1          # transfer check only
    python -m experiments.parity numerical                                 # compare tables
    python -m experiments.parity report                                    # JSON -> parity.md

``run`` trains nnlite then Keras for each (model, seed), interleaved so that a busy machine slows
both engines alike, and rewrites ``experiments/results/parity.json`` after every run (atomically),
skipping runs it already holds: an interrupted experiment loses at most one run. For the CNN it
also moves each trained model to the other engine and counts how many of the 10,000 test digits
get the same predicted class there.

Both engines see identical data: ``baselines.train.mnist_arrays`` (float32 [0, 1] NHWC),
``validation_split=0.2`` (the last 12,000 training images), 10,000 test images.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("NNLITE_RESULTS") or os.path.join(HERE, "results")   # as common.py
JSON_PATH = os.path.join(RESULTS, "parity.json")                       # training runs
NUMERICAL_JSON = os.path.join(RESULTS, "parity_numerical.json")        # compare tables
MD_PATH = os.path.join(RESULTS, "parity.md")
MODELS = ("ann", "cnn", "vgg16")       # VGG16 at the recipes' width, 0.25


def protocol_recipe(protocol_name, name):
    """The recipe of a protocol: "seed" = the study's (``nnlite.recipe.STUDY``), "tuned" =
    the model's chosen recipe (``nnlite.recipe.TUNED``)."""
    from nnlite.recipe import STUDY, TUNED
    return STUDY.replace(model=name) if protocol_name == "seed" else TUNED[name]


def train_nnlite(recipe, data):
    """Build nnlite's model for ``recipe`` and train it on ``data``; returns (model, record)."""
    from nnlite.preprocess import make_augment
    from nnlite.recipe import build_model, make_optimizer, steps_per_epoch
    (xtr, ytr), (xte, yte) = data
    model = build_model(recipe)
    model.compile(make_optimizer(recipe, steps_per_epoch(len(xtr), recipe)))
    hist = model.fit(xtr, ytr, batch_size=recipe.batch_size, epochs=recipe.epochs,
                     validation_split=recipe.validation_split, verbose=0,
                     batch_transform=make_augment(recipe.augment))
    test_loss, test_acc = model.evaluate(xte, yte)
    h = hist.history
    record = {"engine": "nnlite", "model": recipe.model, "seed": recipe.seed,
              "recipe": recipe.to_dict(), "history": {
                  k: [float(v) for v in h[k]] for k in
                  ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")},
              "test_loss": float(test_loss), "test_accuracy": float(test_acc)}
    return model, record


def cross_engine_agreement(nn_model, k_model, x_test):
    """Same-class counts on ``x_test`` after moving each trained model to the other engine."""
    from baselines.transfer import from_keras, to_keras
    k_pred = k_model.predict(x_test, batch_size=256, verbose=0).argmax(1)
    k_in_nn = from_keras(k_model).predict(x_test).argmax(1)
    nn_pred = nn_model.predict(x_test).argmax(1)
    nn_in_k = to_keras(nn_model).predict(x_test, batch_size=256, verbose=0).argmax(1)
    n = len(x_test)
    return {"n": n,
            "keras_to_nnlite_same": int((k_pred == k_in_nn).sum()),
            "nnlite_to_keras_same": int((nn_pred == nn_in_k).sum()),
            "keras_to_nnlite_fraction": float((k_pred == k_in_nn).mean()),
            "nnlite_to_keras_fraction": float((nn_pred == nn_in_k).mean())}


def machine_info():
    import keras
    import numba
    import tensorflow as tf
    from experiments.common import cpu_name
    return {"python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "cpu": cpu_name(), "cores": os.cpu_count(),
            "threads_env": {k: os.environ[k] for k in (
                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "NNLITE_NUM_THREADS") if k in os.environ},
            "load_average_at_start": os.getloadavg()}


def load_results(path=JSON_PATH):
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return {"runs": [], "agreement": []}


def save_results(results, path=JSON_PATH):
    from nnlite.files import write_json
    write_json(path, results)


def run(plan, protocol_name="seed", path=JSON_PATH, limit=None, engines=("nnlite", "keras")):
    """Train every (model, seed) of ``plan`` with both engines. ``limit`` (smoke tests only):
    use the first ``limit`` training and test images and 1 epoch."""
    from baselines.train import mnist_arrays, train_keras
    data = mnist_arrays()
    if limit:
        (xtr, ytr), (xte, yte) = data
        data = (xtr[:limit], ytr[:limit]), (xte[:limit], yte[:limit])
    results = load_results(path)
    results.setdefault("machine_per_launch", []).append(machine_info())
    for name, seeds in plan:
        recipe = protocol_recipe(protocol_name, name)
        if limit:
            recipe = recipe.replace(epochs=1)
        for seed in seeds:
            done = {(r["engine"], r["model"], r["seed"], r.get("protocol_name", "seed"))
                    for r in results["runs"]}
            todo = [e for e in engines if (e, name, seed, protocol_name) not in done]
            agreed = any(a["model"] == name and a["seed"] == seed
                         and a["protocol_name"] == protocol_name for a in results["agreement"])
            if name == "cnn" and not agreed and len(engines) == 2:
                todo = ["nnlite", "keras"]     # the agreement check needs both trained models
            trained = {}
            for engine in todo:
                trainer = train_nnlite if engine == "nnlite" else train_keras
                print(f"[parity] {engine} {name} seed {seed} ...", flush=True)
                started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                model, record = trainer(recipe.replace(seed=seed), data)
                record["started_utc"] = started
                record["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                trained[engine] = model
                record["protocol_name"] = protocol_name
                record["threads"] = os.environ.get("OMP_NUM_THREADS", "default")
                print(f"[parity]   test {record['test_accuracy']:.4f}, s/epoch "
                      f"{np.mean(record['history']['seconds']):.1f}", flush=True)
                results["runs"] = [r for r in results["runs"] if not (
                    r["engine"] == engine and r["model"] == name and r["seed"] == seed
                    and r.get("protocol_name", "seed") == protocol_name)] + [record]
                save_results(results, path)
            if name == "cnn" and len(trained) == 2:
                agreement = cross_engine_agreement(trained["nnlite"], trained["keras"], data[1][0])
                agreement.update(model=name, seed=seed, protocol_name=protocol_name)
                print(f"[parity]   agreement {agreement}", flush=True)
                results["agreement"] = [a for a in results["agreement"] if not (
                    a["model"] == name and a["seed"] == seed
                    and a["protocol_name"] == protocol_name)] + [agreement]
                save_results(results, path)


def agreement_run(name="cnn", seed=0, epochs=1, path=JSON_PATH):
    """Train ``name`` in both engines under the seed protocol shortened to ``epochs`` and count
    same-class predictions on the 10,000 test digits after moving each model to the other
    engine. (Cheaper than the full protocol; the check is about the transfer, not accuracy.)"""
    from baselines.train import mnist_arrays, train_keras
    recipe = protocol_recipe("seed", name).replace(seed=seed, epochs=epochs)
    data = mnist_arrays()
    results = load_results(path)
    results.setdefault("machine_per_launch", []).append(machine_info())
    nn_model, nn_rec = train_nnlite(recipe, data)
    print(f"[parity] agreement: nnlite {name} test {nn_rec['test_accuracy']:.4f}", flush=True)
    k_model, k_rec = train_keras(recipe, data)
    print(f"[parity] agreement: keras {name} test {k_rec['test_accuracy']:.4f}", flush=True)
    agreement = cross_engine_agreement(nn_model, k_model, data[1][0])
    agreement.update(model=name, seed=seed, protocol_name=f"seed protocol, {epochs} epoch(s)",
                     nnlite_test_accuracy=nn_rec["test_accuracy"],
                     keras_test_accuracy=k_rec["test_accuracy"],
                     nnlite_seconds=nn_rec["history"]["seconds"],
                     keras_seconds=k_rec["history"]["seconds"])
    print(f"[parity]   agreement {agreement}", flush=True)
    results["agreement"] = [a for a in results["agreement"] if not (
        a["model"] == name and a["seed"] == seed
        and a["protocol_name"] == agreement["protocol_name"])] + [agreement]
    save_results(results, path)


NUMERICAL = [("ann", {}, "ANN"), ("cnn", {}, "CNN (L2 0.01 on conv kernels)"),
             ("vgg16", {"width": 0.125, "dropout": 0.0}, "VGG16 width 0.125, dropout 0")]


def numerical(path=NUMERICAL_JSON, batch_size=8, steps=50, lr=1e-3):
    """The ``python -m baselines compare`` checks for each model in float32 and float64, plus where the CNN's
    float32 gradient differences come from: each engine's float32 error against nnlite's
    float64 gradient (itself equal to Keras' float64 gradient, see the float64 column)."""
    from baselines import parity as P
    results = {"machine": machine_info()}
    entries = []
    for name, kwargs, title in NUMERICAL:
        print(f"[parity] numerical checks: {title}", flush=True)
        entries.append({"model": name, "title": title, "batch_size": batch_size, "steps": steps,
                        "lr": lr, "results": {
                            dtype: P.compare(name, dtype=dtype, batch_size=batch_size,
                                             steps=steps, lr=lr, **kwargs)
                            for dtype in ("float32", "float64")}})
    nn, k = P.make_pair("cnn")
    x, y = P.test_batch(batch_size, 1)
    _, g_ref = P.nnlite_loss_and_grads(P.with_dtype(nn, "float64"), x.astype("float64"), y)
    _, g_nn = P.nnlite_loss_and_grads(nn, x, y)
    _, g_k = P.keras_loss_and_grads(k, x, y)
    results["numerical"] = entries
    results["cnn_float32_gradient_error"] = [
        {"weight": w, "max_abs_grad_float64": float(np.abs(r).max()),
         "nnlite_float32_error": float(np.abs(a - r).max()),
         "keras_float32_error": float(np.abs(b - r).max())}
        for w, r, a, b in zip(P.weight_names(nn), g_ref, g_nn, g_k)]
    save_results(results, path)


def parse_plan(items):
    """['ann:0,1,2', 'cnn:0'] -> [('ann', [0, 1, 2]), ('cnn', [0])]."""
    plan = []
    for item in items:
        name, _, seeds = item.partition(":")
        if name not in MODELS or not seeds:
            raise SystemExit(f"bad plan item {item!r}: use MODEL:SEED[,SEED...] with MODEL in "
                             f"{list(MODELS)}")
        plan.append((name, [int(s) for s in seeds.split(",")]))
    return plan


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("run", help="train both engines (resumable; writes parity.json)")
    r.add_argument("--plan", nargs="+", default=["ann:0,1,2", "cnn:0,1,2"],
                   help="MODEL:SEEDS items, run in order (default: ann:0,1,2 cnn:0,1,2)")
    r.add_argument("--protocol", choices=["seed", "tuned"], default="seed",
                   help="seed: Adam 1e-4, 5 epochs; tuned: each model's chosen recipe "
                        "(nnlite.recipe.TUNED)")
    r.add_argument("--json", default=JSON_PATH)
    r.add_argument("--engines", nargs="+", choices=["nnlite", "keras"],
                   default=["nnlite", "keras"], help="train only these engines (no agreement "
                                                     "check unless both)")
    r.add_argument("--limit", type=int, help="smoke run: first N images, 1 epoch (use --json "
                                             "elsewhere)")
    a = sub.add_parser("agreement", help="train a model briefly in both engines, swap them, "
                                         "count same predictions on the test set")
    a.add_argument("--model", default="cnn", choices=MODELS)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--epochs", type=int, default=1)
    a.add_argument("--json", default=JSON_PATH)
    n = sub.add_parser("numerical", help="run the nnlite-compare checks for the report")
    n.add_argument("--json", default=NUMERICAL_JSON)
    m = sub.add_parser("report", help="write parity.md from parity.json")
    m.add_argument("--json", nargs="+", help="training-run JSON files (default: parity.json "
                                             "and every parity_runs_*.json beside it)")
    m.add_argument("--numerical-json", default=NUMERICAL_JSON)
    m.add_argument("--md", default=MD_PATH)
    args = p.parse_args(argv)
    if args.action == "run":
        run(parse_plan(args.plan), protocol_name=args.protocol, path=args.json, limit=args.limit,
            engines=tuple(args.engines))
    elif args.action == "numerical":
        numerical(path=args.json)
    elif args.action == "agreement":
        agreement_run(args.model, args.seed, args.epochs, path=args.json)
    else:
        from experiments.parity_report import write_report
        import glob
        from experiments.parity_study import nnlite_records
        from experiments.plan import parity_nnlite_runs
        paths = args.json or [JSON_PATH] + sorted(
            glob.glob(os.path.join(RESULTS, "parity_runs_*.json")))
        paths = [p for p in paths if os.path.isfile(p)]
        extra = [r for protocol, runs in parity_nnlite_runs().items()
                 for r in nnlite_records(protocol, runs)]
        write_report(paths, args.numerical_json, args.md, extra_runs=extra)


if __name__ == "__main__":
    sys.exit(main())
