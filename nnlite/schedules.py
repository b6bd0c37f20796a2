"""Learning-rate schedules: callables of the optimizer step (0-based), as Keras'
LearningRateSchedule. For per-epoch schedules use callbacks.LearningRateScheduler."""
import math

from .validation import positive_int, real


class StepDecay:
    """lr = initial * factor ** floor(step / every)."""

    def __init__(self, initial, every, factor=0.5):
        self.initial = real(initial, "StepDecay initial", lambda v: v > 0, "a number > 0")
        self.every = positive_int(every, "StepDecay every")
        self.factor = real(factor, "StepDecay factor", lambda v: v > 0, "a number > 0")

    def __call__(self, step):
        return self.initial * self.factor ** (step // self.every)

    def get_config(self):
        return {"kind": "step", "initial": self.initial, "every": self.every, "factor": self.factor}


class CosineDecay:
    """Keras' CosineDecay: lr = initial * ((1 - alpha) * 0.5 (1 + cos(pi * t)) + alpha),
    t = min(step, decay_steps) / decay_steps."""

    def __init__(self, initial, decay_steps, alpha=0.0):
        self.initial = real(initial, "CosineDecay initial", lambda v: v > 0, "a number > 0")
        self.decay_steps = positive_int(decay_steps, "CosineDecay decay_steps")
        self.alpha = real(alpha, "CosineDecay alpha", lambda v: 0 <= v <= 1,
                          "a number in [0, 1]")

    def __call__(self, step):
        t = min(step, self.decay_steps) / self.decay_steps
        return self.initial * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * t)) + self.alpha)

    def get_config(self):
        return {"kind": "cosine", "initial": self.initial, "decay_steps": self.decay_steps,
                "alpha": self.alpha}
