"""The whole study as one ordered list of jobs (``python -m experiments list`` prints it).

Order (fixed; the driver runs the jobs one at a time in this order, the study's protocol
first, then what the accuracy goals need, then the remaining questions):
 1. the study's protocol with nnlite: ann, cnn, vgg16 (width 0.25) x seeds 0, 1, 2
    (Adam 1e-4, batch 32, 5 epochs, 48,000 / 12,000 / 10,000, pixels / 255);
 2. the same recipes and seeds with Keras (baselines/), then the summary beside the original
    study's numbers, and the width-1.0 VGG16 step timing;
 3. tuned: for ann, cnn, vgg16 and vgg16_bn: the candidates, the choice on validation
    accuracy, the chosen recipe with seeds 1 and 2, the installation of a better model file;
 4. the ensemble of record (decided in advance, see below);
 5. preprocessing: ann and cnn under the study's protocol, 6 conditions x seeds 0, 1, 2,
    paired by seed (same initial weights and shuffling), then the paired tests;
 6. Fashion-MNIST: every tuned candidate for its full epochs, then the summary;
 7. the tuned recipes of record (3 seeds per model) with Keras.
Reports are regenerated separately (``python -m experiments report``).

Ensemble of record (fixed before any run; ``experiments/ensemble.py``): the mean of the softmax
probabilities of the nine runs of record of the tuned CNN, VGG16 and VGG16-BN (the chosen
recipe of each, seeds 0, 1, 2); the ANN is not a member.

Goals on the MNIST test set: ANN >= 99.0 %, CNN >= 99.6 %, VGG16 (width 0.25) >= 99.6 %,
ensemble of record >= 99.7 %.
"""
import fnmatch

from experiments import ensemble, fashion, parity_study, preprocessing, seed_protocol, tuned

GOALS = {"ann": 99.0, "cnn": 99.6, "vgg16": 99.6, "vgg16_bn": 99.6, "ensemble": 99.7}


def seed_runs():
    """[(TrainJob, model, seed)] of the study's protocol."""
    return [(job, job.recipe().model, job.recipe().seed) for job in seed_protocol.jobs()]


def tuned_runs_of_record():
    """[(TrainJob, model, seed)] of the tuned runs of record: per model the chosen candidate's
    own run (seed 0) and the chosen recipe with seeds 1, 2."""
    return [(job, model, seed) for model in tuned.CANDIDATES
            for job, seed in tuned.record_runs(model)]


def _keras_twins(protocol, runs):
    return [parity_study.KerasJob(protocol, job, model, seed) for job, model, seed in runs]


def study_jobs():
    """Every job of the study, in the order the driver runs them."""
    seeds = seed_runs()
    jobs = [job for job, _, _ in seeds]
    jobs += _keras_twins("seed", seeds)
    jobs += seed_protocol.step_jobs()
    jobs += tuned.jobs()
    jobs.append(ensemble.job())
    jobs += preprocessing.jobs() + [preprocessing.analysis_job()]
    jobs += fashion.jobs() + [fashion.summary_job()]
    jobs += _keras_twins("tuned", tuned_runs_of_record())
    return jobs


def parity_nnlite_runs():
    """{protocol: [TrainJob]}: the nnlite runs the parity report compares with Keras."""
    return {"seed": [job for job, _, _ in seed_runs()],
            "tuned": [job for job, _, _ in tuned_runs_of_record()]}


def select(jobs, patterns):
    """The jobs whose id matches any of ``patterns`` (shell-style, e.g. "tuned/cnn-*", or a
    plain substring); all of them without patterns."""
    if not patterns:
        return list(jobs)
    return [j for j in jobs if any(fnmatch.fnmatchcase(j.id, p) or ("*" not in p and p in j.id)
                                   for p in patterns)]
