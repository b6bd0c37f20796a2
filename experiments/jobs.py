"""One unit of work of the study: a job has an id, a state and a ``run()``.

    TrainJob   one nnlite training run (``common.train_and_test``): results/<experiment>/<name>/
    StepJob    a cheap step on finished runs (a choice, a summary, an analysis); it is done when
               its output exists and the inputs it was computed from have not changed since
    KerasJob   (experiments/parity_study.py) one Keras baseline run, recorded in parity.json

States: "done", "partial" (resumes from its checkpoint), "to do", "redo" (a stored result of
another recipe or without a timing record: run again), "waiting" (its recipe or inputs depend
on jobs that have not finished, e.g. the tuned recipe not chosen yet).

Environment:
    NNLITE_STUDY_SMOKE=1            every recipe shrunk to 600 images and 1 epoch (tests)
    NNLITE_STUDY_ACCEPT_UNTIMED=1   a result of the same recipe without a timing record counts
                                    as done (by default it is run again, to be timed)
"""
import json
import os

from experiments.common import RESULTS, finished_result, run_state, train_and_test
from nnlite.files import write_json

SMOKE = os.environ.get("NNLITE_STUDY_SMOKE") == "1"
SMOKE_LIMIT, SMOKE_EPOCHS = 600, 1
ACCEPT_UNTIMED = os.environ.get("NNLITE_STUDY_ACCEPT_UNTIMED") == "1"
STEPS_FILE = os.path.join(RESULTS, "study_steps.json")     # StepJob id -> inputs it last used


def shrink(recipe):
    """``recipe`` as the study runs it: unchanged, or tiny under NNLITE_STUDY_SMOKE=1."""
    if recipe is None or not SMOKE:
        return recipe
    return recipe.replace(limit=SMOKE_LIMIT, epochs=SMOKE_EPOCHS)


class Job:
    """Base: ``id`` (unique, "experiment/name"), ``engine`` ("nnlite", "keras" or None for a
    step), ``state()`` -> (state, detail), ``run()``, and for the time estimate
    ``estimate_recipe()`` (the recipe to cost, or None) or ``estimate_seconds``."""
    engine = None
    estimate_seconds = 5.0

    def recipe(self):
        return None

    def estimate_recipe(self):
        return self.recipe()

    def state(self):
        raise NotImplementedError

    def run(self):
        raise NotImplementedError

    def timing(self):
        """The finished run's timing record (wall_s_per_epoch, cpu_s_per_epoch, ...) or None."""
        return None


class TrainJob(Job):
    """Train one recipe with nnlite and test it once.

    recipe: a ``Recipe``, or a function returning one (None while it cannot be decided yet,
    e.g. the chosen tuned recipe); ``estimate``: the recipe to cost while it is undecided;
    ``needs``: the id of the job that decides it (shown while waiting)."""
    engine = "nnlite"

    def __init__(self, experiment, name, recipe, plots=False, keep_predictions=False,
                 estimate=None, needs=None):
        self.experiment, self.name, self.id = experiment, name, f"{experiment}/{name}"
        self._recipe, self._estimate, self.needs = recipe, estimate, needs
        self.plots, self.keep_predictions = plots, keep_predictions

    def recipe(self):
        return shrink(self._recipe() if callable(self._recipe) else self._recipe)

    def estimate_recipe(self):
        return self.recipe() or shrink(self._estimate)

    def state(self):
        recipe = self.recipe()
        if recipe is None:
            return "waiting", f"needs {self.needs}"
        return run_state(self.experiment, self.name, recipe, ACCEPT_UNTIMED)

    def run(self):
        recipe = self.recipe()
        if recipe is None:
            raise RuntimeError(f"{self.id}: its recipe is not decided yet (needs {self.needs})")
        return train_and_test(self.experiment, self.name, recipe, plots=self.plots,
                              keep_predictions=self.keep_predictions,
                              accept_untimed=ACCEPT_UNTIMED)

    def timing(self):
        recipe = self.recipe()
        result = finished_result(self.experiment, self.name, recipe) if recipe else None
        return result.get("timing") if result else None


class StepJob(Job):
    """A cheap step: ``inputs()`` -> a JSON-able summary of what it reads (e.g. [[run name,
    val_acc], ...]) or None while those are not ready; ``action(inputs)`` writes ``output``
    (a path under the results folder)."""

    def __init__(self, id, inputs, action, output, estimate_seconds=5.0):
        self.id, self.inputs, self.action, self.output = id, inputs, action, output
        self.estimate_seconds = estimate_seconds

    def state(self):
        inputs = self.inputs()
        if inputs is None:
            return "waiting", "its inputs are not finished"
        done = (os.path.isfile(os.path.join(RESULTS, self.output))
                and _steps().get(self.id) == json.loads(json.dumps(inputs)))
        return ("done", "") if done else ("to do", "")

    def run(self):
        inputs = self.inputs()
        if inputs is None:
            raise RuntimeError(f"{self.id}: its inputs are not finished")
        self.action(inputs)
        steps = _steps()
        steps[self.id] = inputs
        write_json(STEPS_FILE, steps)


def _steps():
    try:
        with open(STEPS_FILE) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}
