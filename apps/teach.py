"""Teach a model one drawing: a few Adam steps on it, mixed with the user's saved drawings and a
replay sample of MNIST, so the model learns the drawing without forgetting MNIST.

    teacher = Teacher(model, image28, label=7, mine=(x_mine, y_mine), replay=(x_mnist, y_mnist))
    while not teacher.done:
        teacher.step()                  # one optimizer step (the app runs one per frame)
    teacher.before, teacher.after       # the drawing's probabilities (10,) before and after
    teacher.losses                      # the drawing's loss before and after every step
    path = save_taught(model, "my_models", "cnn")   # my_models/cnn-taught-<n>.npz, a new file

Every batch holds ``COPIES`` jittered copies of the drawing, up to ``MINE`` of the user's
saved drawings and ``REPLAY`` MNIST training images, and goes through the engine's own
``Sequential.train_step`` with a fresh Adam at a small learning rate. Teaching stops after
``STEPS`` steps, or as soon as the drawing reads right with probability ``SURE`` (after at
least ``MIN_STEPS``): each step moves every weight a little, so fewer steps forget less.
During teaching BatchNormalization keeps its moving statistics (momentum 1: a few mixed
batches should not redefine what "normal" input looks like for every later reading) and the
L2 penalty is left out (see ``without_l2``). apps/teach_eval.py measures the result:
held-out drawings of the same writer, and MNIST test accuracy, before and after.
"""
import contextlib
import os
import re

import numpy as np

from nnlite.layers import BatchNormalization
from nnlite.ops.threads import blas_threads
from nnlite.optimizers import Adam
from nnlite.preprocess import Augment

STEPS = 24                # at most this many optimizer steps per taught drawing,
MIN_STEPS = 4             # at least this many,
SURE = 0.9                # and no more once the drawing reads right with this probability
LEARNING_RATE = 2e-5
COPIES = 4                # jittered copies of the drawing in every batch
MINE = 4                  # the user's saved drawings in every batch (when there are any)
REPLAY = 28               # MNIST training images in every batch
JITTER = Augment(shift=1.5, rotation=8.0, scale=0.08)


@contextlib.contextmanager
def without_l2(model):
    """No L2 penalty inside the block. The study's CNN puts L2 on kernels that BatchNorm
    follows: in training BatchNorm's batch statistics absorb the kernels' shrinking, but with
    the moving statistics kept, a few hundred fresh-Adam steps of that pull alone would shrink
    every kernel and break inference."""
    layers = [layer for layer in model.layers if layer.kernel_regularizer is not None]
    saved = [layer.kernel_regularizer for layer in layers]
    for layer in layers:
        layer.kernel_regularizer = None
    try:
        yield
    finally:
        for layer, reg in zip(layers, saved):
            layer.kernel_regularizer = reg


@contextlib.contextmanager
def frozen_batchnorm(model):
    """BatchNormalization layers keep their moving statistics inside the block."""
    layers = [layer for layer in model.layers if isinstance(layer, BatchNormalization)]
    saved = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 1.0
    try:
        yield
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum


def _as_float(x):
    x = np.asarray(x)
    return (x.astype(np.float32) / 255.0) if x.dtype == np.uint8 else x.astype(np.float32)


class Teacher:
    """Teaches ``model`` (an nnlite Sequential, changed in place) that ``image`` (28, 28) in
    [0, 1] is ``label``. mine, replay: (images (N, 28, 28) uint8 or float, labels) or None."""

    def __init__(self, model, image, label, mine=None, replay=None, steps=STEPS,
                 lr=LEARNING_RATE, seed=0):
        self.model, self.label, self.steps = model, int(label), int(steps)
        self.image = _as_float(image).reshape(28, 28)
        self.mine = None if mine is None or len(mine[0]) == 0 else (_as_float(mine[0]),
                                                                      np.asarray(mine[1]))
        self.replay = None if replay is None else (replay[0], np.asarray(replay[1]))
        self.rng = np.random.default_rng(seed)
        model.compile(Adam(lr))
        self.before = self.after = self.probs()
        self.losses = [self._loss(self.before)]       # the drawing's loss, before every step
        self.batch_losses = []                         # the batch's loss at every step

    @property
    def done(self):
        """After ``steps`` steps, or earlier once the drawing reads right with ``SURE``."""
        taken = len(self.batch_losses)
        return taken >= self.steps or (taken >= MIN_STEPS and self.after[self.label] >= SURE)

    def probs(self):
        with blas_threads(1):
            return self.model.predict_proba(self.image[None, :, :, None])[0]

    def _loss(self, probs):
        return float(-np.log(max(float(probs[self.label]), 1e-12)))

    def batch(self):
        """One mixed batch: (x (N, 28, 28, 1) float32, y (N,) int64)."""
        xs = [JITTER(np.repeat(self.image[None, :, :, None], COPIES, axis=0), self.rng)]
        ys = [np.full(COPIES, self.label)]
        for source, k in ((self.mine, MINE), (self.replay, REPLAY)):
            if source is not None:
                pick = self.rng.choice(len(source[0]), size=min(k, len(source[0])), replace=False)
                xs.append(_as_float(source[0][pick])[..., None])
                ys.append(source[1][pick])
        return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)

    def step(self):
        """One optimizer step; returns the drawing's loss after it."""
        x, y = self.batch()
        # blas_threads also reads subnormal floats as zero here: a tuned CNN's near-zero kernels
        # made one step 8x slower without it (nnlite/ops/fpenv.py).
        with frozen_batchnorm(self.model), without_l2(self.model), blas_threads(1):
            loss, _ = self.model.train_step(x, y)
        self.batch_losses.append(float(loss))
        self.after = self.probs()
        self.losses.append(self._loss(self.after))
        return self.losses[-1]

    def run(self):
        while not self.done:
            self.step()
        return self


def save_taught(model, folder, key):
    """Save ``model`` as folder/<key>-taught-<n>.npz with the next unused n; returns the path.
    Never overwrites a file."""
    os.makedirs(folder, exist_ok=True)
    taken = [int(m.group(1)) for name in os.listdir(folder)
             if (m := re.fullmatch(rf"{re.escape(key)}-taught-(\d+)\.npz", name))]
    n = max(taken, default=0) + 1
    while os.path.exists(path := os.path.join(folder, f"{key}-taught-{n}.npz")):
        n += 1
    model.save(path)
    return path
