"""The study's Keras runs, one job per (protocol, model, seed), and the study's nnlite runs of
the same recipes read back from their result files in parity.json's record format.

A ``KerasJob`` trains the recipe of an nnlite run (``jobs.TrainJob``) with Keras on the same
data (``nnlite.recipe.load_data``: the same 48,000 / 12,000 / 10,000 images), records it in
parity.json with its timing (wall and CPU seconds of the process, load average at start and
end) and, for the CNN, moves both trained models to the other engine and counts same-class
predictions on the test set. The nnlite side is never trained twice: the parity report reads
it from the nnlite run's result.json (``nnlite_records``).
"""
import os

import numpy as np

from experiments import parity
from experiments.common import RESULTS, Stopwatch, data_for, finished_result, model_path
from experiments.jobs import Job
from nnlite.errors import ConfigError
from nnlite.recipe import Recipe

JSON_PATH = os.path.join(RESULTS, "parity.json")


def _same(record, recipe):
    try:
        return Recipe.from_dict(record.get("recipe")) == recipe
    except (ConfigError, TypeError):
        return False


def _latest(runs, engine, model, seed, protocol):
    found = [r for r in runs if r["engine"] == engine and r["model"] == model
             and r["seed"] == seed and r.get("protocol_name", "seed") == protocol]
    return found[-1] if found else None


class KerasJob(Job):
    """Keras twin of ``nnlite_job`` (a TrainJob): same recipe, same seed."""
    engine = "keras"

    def __init__(self, protocol, nnlite_job, model, seed):
        self.protocol, self.nnlite_job, self.model, self.seed = protocol, nnlite_job, model, seed
        self.id = f"parity/{protocol}/keras-{model}-s{seed}"

    def recipe(self):
        return self.nnlite_job.recipe()

    def estimate_recipe(self):
        return self.nnlite_job.estimate_recipe()

    def state(self):
        recipe = self.recipe()
        if recipe is None:
            return "waiting", f"needs {self.nnlite_job.needs}"
        record = _latest(parity.load_results(JSON_PATH)["runs"], "keras", self.model, self.seed,
                         self.protocol)
        if record is not None:
            if "recipe" not in record:
                return "redo", "its parity.json record predates recorded recipes and timing"
            if not _same(record, recipe):
                return "redo", "its parity.json record is of another recipe"
            if "timing" not in record:
                return "redo", "its parity.json record has no timing record"
            return "done", ""
        if self.model == "cnn" and self.nnlite_job.state()[0] != "done":
            return "waiting", f"needs {self.nnlite_job.id} (agreement check)"
        return "to do", ""

    def run(self):
        return keras_run(self.protocol, self.recipe(), self.nnlite_job)

    def timing(self):
        record = _latest(parity.load_results(JSON_PATH)["runs"], "keras", self.model, self.seed,
                         self.protocol)
        return record.get("timing") if record and _same(record, self.recipe()) else None


def keras_run(protocol, recipe, nnlite_job, path=JSON_PATH):
    """Train ``recipe`` with Keras, add its record (and the CNN's agreement) to ``path``."""
    from baselines.train import train_keras
    from nnlite import load_model
    data = data_for(recipe)
    watch = Stopwatch().start()
    model, record = train_keras(recipe, data)
    watch.stop()
    record.update(protocol_name=protocol, threads=os.environ.get("OMP_NUM_THREADS", "default"),
                  started_utc=watch.utc0, finished_utc=watch.utc1, machine=parity.machine_info())
    record["timing"] = {**watch.record(),
                        "wall_s_per_epoch": float(np.mean(record["history"]["seconds"])),
                        "cpu_s_per_epoch": float(np.mean(record["history"]["cpu_seconds"])),
                        "train_images": int(len(data[0][0]) * (1 - recipe.validation_split))}
    print(f"[parity] keras {recipe.model} seed {recipe.seed} ({protocol}): test "
          f"{record['test_accuracy']:.4f}, {record['timing']['wall_s_per_epoch']:.1f} s/epoch "
          f"wall, {record['timing']['cpu_s_per_epoch']:.1f} s/epoch CPU", flush=True)
    results = parity.load_results(path)
    results["runs"] = [r for r in results["runs"] if not (
        r["engine"] == "keras" and r["model"] == recipe.model and r["seed"] == recipe.seed
        and r.get("protocol_name", "seed") == protocol)] + [record]
    parity.save_results(results, path)
    nn = finished_result(nnlite_job.experiment, nnlite_job.name, recipe)
    if recipe.model == "cnn" and nn is not None:
        nn_model = load_model(model_path(nn))
        agreement = parity.cross_engine_agreement(nn_model, model, data[1][0])
        agreement.update(model=recipe.model, seed=recipe.seed, protocol_name=protocol,
                         nnlite_test_accuracy=nn["test_acc"],
                         keras_test_accuracy=record["test_accuracy"])
        results["agreement"] = [a for a in results.get("agreement", []) if not (
            a["model"] == recipe.model and a["seed"] == recipe.seed
            and a["protocol_name"] == protocol)] + [agreement]
        parity.save_results(results, path)
    return record


def study_keras_records(protocol, recipes, path=JSON_PATH):
    """parity.json's latest Keras record for each (model, seed) of ``recipes`` ({(model, seed):
    Recipe}) whose recipe is that one."""
    runs = parity.load_results(path)["runs"]
    found = []
    for (model, seed), recipe in recipes.items():
        record = _latest(runs, "keras", model, seed, protocol)
        if record is not None and _same(record, recipe):
            found.append(record)
    return found


def nnlite_records(protocol, train_jobs):
    """The finished nnlite runs of ``train_jobs`` as parity.json records (engine "nnlite")."""
    import json
    records = []
    for job in train_jobs:
        recipe = job.recipe()
        result = finished_result(job.experiment, job.name, recipe) if recipe else None
        if result is None:
            continue
        with open(os.path.join(RESULTS, job.experiment, job.name, "history.json")) as fh:
            h = json.load(fh)
        records.append({
            "engine": "nnlite", "model": recipe.model, "seed": recipe.seed,
            "recipe": recipe.to_dict(), "protocol_name": protocol, "source": job.id,
            "history": {"loss": h["loss"], "accuracy": h["acc"], "val_loss": h.get("val_loss"),
                        "val_accuracy": h.get("val_acc"), "seconds": h["seconds"]},
            "test_loss": result["test_loss"], "test_accuracy": result["test_acc"],
            "threads": (result.get("machine", {}).get("threads", {})
                        .get("OMP_NUM_THREADS", "default")),
            **({"timing": result["timing"], "machine": result["machine"]}
               if "timing" in result else {})})
    return records
