"""Learning-rate schedules: callables of the optimizer step (0-based), as Keras'
LearningRateSchedule. For per-epoch schedules use callbacks.LearningRateScheduler."""
import math

from .errors import ConfigError


class StepDecay:
    """lr = initial * factor ** floor(step / every)."""

    def __init__(self, initial, every, factor=0.5):
        if every <= 0 or initial <= 0 or factor <= 0:
            raise ConfigError("StepDecay needs initial > 0, every > 0, factor > 0")
        self.initial, self.every, self.factor = float(initial), int(every), float(factor)

    def __call__(self, step):
        return self.initial * self.factor ** (step // self.every)

    def get_config(self):
        return {"kind": "step", "initial": self.initial, "every": self.every, "factor": self.factor}


class CosineDecay:
    """Keras' CosineDecay: lr = initial * ((1 - alpha) * 0.5 (1 + cos(pi * t)) + alpha),
    t = min(step, decay_steps) / decay_steps."""

    def __init__(self, initial, decay_steps, alpha=0.0):
        if decay_steps <= 0 or initial <= 0:
            raise ConfigError("CosineDecay needs initial > 0 and decay_steps > 0")
        self.initial, self.decay_steps, self.alpha = float(initial), int(decay_steps), float(alpha)

    def __call__(self, step):
        t = min(step, self.decay_steps) / self.decay_steps
        return self.initial * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * t)) + self.alpha)

    def get_config(self):
        return {"kind": "cosine", "initial": self.initial, "decay_steps": self.decay_steps,
                "alpha": self.alpha}
