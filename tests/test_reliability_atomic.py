"""Guarantee 3: model files and checkpoints are written to a temporary file beside the target,
fsynced, then renamed over it. A crash at any moment leaves the previous file intact and
loadable: proven by failing writes injected in-process and by SIGKILLing a process mid-write.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import nnlite
from nnlite.callbacks import History
from nnlite.checkpoint import load_checkpoint, save_checkpoint
from nnlite.layers import Dense, Flatten


def small_model(seed=0):
    model = nnlite.Sequential([Flatten(), Dense(8), Dense(3)], input_shape=(4, 4, 1), seed=seed)
    return model.compile(nnlite.optimizers.Adam(1e-3))


def _broken_savez(exc):
    def savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")        # some bytes reach the temporary file
        raise exc
    return savez


@pytest.mark.parametrize("exc", [OSError("disk full (injected)"), KeyboardInterrupt()])
def test_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch, exc):
    """Also for Ctrl+C arriving during the write (KeyboardInterrupt is a BaseException)."""
    model = small_model()
    x = np.random.default_rng(0).random((16, 4, 4, 1), dtype=np.float32)
    y = np.arange(16) % 3
    ckpt = tmp_path / "run.ckpt.npz"
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, checkpoint_path=ckpt)
    before = ckpt.read_bytes()
    monkeypatch.setattr(np, "savez", _broken_savez(exc))
    with pytest.raises(type(exc)):
        save_checkpoint(ckpt, model, History(), {"epoch": 5})
    monkeypatch.undo()
    assert ckpt.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.ckpt.npz"]          # the temporary file was removed
    position = load_checkpoint(ckpt, small_model(), History())
    assert position["epoch"] == 1


def test_failed_model_save_keeps_the_previous_model(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    small_model(seed=1).save(path)
    before = nnlite.load_model(path).get_weights()
    monkeypatch.setattr(np, "savez", _broken_savez(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        small_model(seed=2).save(path)
    monkeypatch.undo()
    for a, b in zip(before, nnlite.load_model(path).get_weights()):
        assert np.array_equal(a, b)
    assert os.listdir(tmp_path) == ["model.npz"]


WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    import nnlite
    from nnlite.layers import Dense
    path = sys.argv[1]
    # ~16 MB of weights, so one save takes long enough to be killed in the middle
    model = nnlite.Sequential([Dense(2000)], input_shape=(2000,), seed=0)
    version = 0
    while True:
        version += 1
        model.set_weights([np.full_like(w, version) for w in model.get_weights()])
        print(version, flush=True)        # about to write this version
        model.save(path)
""")


def _wait_for_temp_file(folder, timeout=30.0):
    """Poll until a temporary file exists (a write is in progress)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.endswith(".tmp") for p in os.listdir(folder)):
            return True
    return False


def test_sigkill_during_saves_never_leaves_a_broken_file(tmp_path):
    """A process saves versions 1, 2, 3, ... of a 16 MB model over one path; it is SIGKILLed
    at varying moments, half of them while a temporary file exists (mid-write). Every time,
    the file on disk loads and is one complete version."""
    path = tmp_path / "model.npz"
    killed_mid_write = 0
    delays = np.random.default_rng(0).uniform(0, 0.05, 6)
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                stdout=subprocess.PIPE, text=True)
        try:
            for _ in range(2 + attempt % 3):          # let some saves complete first
                line = proc.stdout.readline()
            assert line.strip(), "writer died"
            if attempt % 2 == 0:
                _wait_for_temp_file(tmp_path)
            else:
                time.sleep(delays[attempt])
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            proc.stdout.close()
        started = int(line)
        leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        killed_mid_write += bool(leftovers)
        weights = nnlite.load_model(path).get_weights()
        assert all(np.unique(w).size == 1 for w in weights)          # one version, not a mix
        values = {float(w.flat[0]) for w in weights}
        assert len(values) == 1
        assert values.pop() >= started - 1                           # complete and recent
        for p in leftovers:                              # what a crash leaves: a stray .tmp
            os.unlink(tmp_path / p)
    assert killed_mid_write >= 3, "too few kills landed inside a write"
