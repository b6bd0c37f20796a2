"""Soak test (an experiment, not a CI test): train the ANN on MNIST for 20 epochs with a
checkpoint every epoch, press "Ctrl+C" at 3 random moments, resume each time, and check that
the final weights and test accuracy equal those of an uninterrupted run with the same seed.

Each training segment is a separate Python process (`--child`), so every resume starts from
the checkpoint file alone, as after a real Ctrl+C. All processes import a frozen copy of the
nnlite package taken when the soak starts, so edits to the working tree during a soak do not
change the code under test. The interruptions are real SIGINT signals sent by this parent
when the child's step counter reaches a random target step; the child's Ctrl+C handler
finishes the step, writes the checkpoint and exits.

    nice -n 5 python -m experiments.soak                                # ~2 x 20 ANN epochs
    python -m experiments.soak --epochs 2 --out runs/soak-smoke --no-write  # a quick smoke run

Writes experiments/results/soak.json and experiments/results/soak.md.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


# -- child: one training segment -------------------------------------------------------------
def child(args):
    import nnlite
    from nnlite import zoo
    from nnlite.callbacks import Callback
    from nnlite.datasets import load_mnist

    class Progress(Callback):
        """Publish the optimizer step so the parent knows when to interrupt."""

        def on_batch_end(self, batch, logs=None):
            with open(args.progress, "w") as fh:
                fh.write(str(self.model.optimizer.iterations))

    print(f"segment: nnlite from {os.path.dirname(nnlite.__file__)}", file=sys.stderr)
    (x, y), (x_test, y_test) = load_mnist()
    x, y = x[:args.train_samples], y[:args.train_samples]
    x = x[..., None].astype(np.float32) / 255
    x_test = x_test[..., None].astype(np.float32) / 255
    # dropout: also exercises the checkpointing of the Dropout mask generators
    model = zoo.ann(seed=args.seed, dropout=args.dropout)
    model.compile(nnlite.optimizers.Adam(1e-3))
    ckpt = os.path.join(args.dir, "run.ckpt.npz")
    resume = ckpt if args.resume else None
    try:
        history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs,
                            validation_split=0.1, verbose=0, checkpoint_path=ckpt, resume=resume,
                            callbacks=[Progress()])
    except KeyboardInterrupt:
        sys.exit(130)
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # training is over: a late signal is moot
    test_loss, test_acc = model.evaluate(x_test, y_test)
    model.save(os.path.join(args.dir, "final.npz"))
    with open(os.path.join(args.dir, "final.json"), "w") as fh:
        json.dump({"test_loss": test_loss, "test_accuracy": test_acc,
                   "history": {k: v for k, v in history.history.items() if k != "seconds"}}, fh)


# -- parent -----------------------------------------------------------------------------------
def child_command(args, run_dir, resume=False):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--dir", run_dir,
           "--progress", os.path.join(run_dir, "progress"), "--epochs", str(args.epochs),
           "--seed", str(args.seed), "--batch-size", str(args.batch_size),
           "--dropout", str(args.dropout), "--train-samples", str(args.train_samples)]
    return cmd + (["--resume"] if resume else [])


def child_env(code_dir):
    # one BLAS thread per process: the two runs share 2 cores; results are identical either way
    return {**os.environ, "PYTHONPATH": code_dir, "OPENBLAS_NUM_THREADS": "1"}


def freeze_code(out):
    """Copy the nnlite package into ``out``/code so every process runs the same code."""
    import nnlite
    code = os.path.join(out, "code")
    if os.path.exists(code):
        shutil.rmtree(code)
    shutil.copytree(os.path.dirname(nnlite.__file__), os.path.join(code, "nnlite"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    return code


def run_segment(args, run_dir, resume, code_dir, interrupt_at=None):
    """Run one child; if ``interrupt_at`` (a step), SIGINT it once it has reached that step.
    Returns (exit code, step at which the signal was sent or None)."""
    progress = os.path.join(run_dir, "progress")
    if os.path.exists(progress):
        os.unlink(progress)
    proc = subprocess.Popen(child_command(args, run_dir, resume), env=child_env(code_dir))
    sent_at = None
    while proc.poll() is None:
        time.sleep(0.05)
        if interrupt_at is None or sent_at is not None:
            continue
        try:
            with open(progress) as fh:
                step = int(fh.read() or 0)
        except (OSError, ValueError):
            continue
        if step >= interrupt_at:
            proc.send_signal(signal.SIGINT)
            sent_at = step
    return proc.returncode, sent_at


def checkpoint_position(run_dir):
    from nnlite.modelfile import read_npz
    meta, _ = read_npz(os.path.join(run_dir, "run.ckpt.npz"))
    pos = meta["checkpoint"]["position"]
    return {"epoch": pos["epoch"], "batch": pos["batch"],
            "optimizer_step": meta["checkpoint"]["optimizer"]["iterations"]}


def code_digest(code_dir):
    """SHA-256 over the frozen package's .py files: which code the soak ran."""
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(code_dir)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py"):
                with open(os.path.join(root, f), "rb") as fh:
                    h.update(f.encode() + fh.read())
    return h.hexdigest()


def parent(args):
    import nnlite
    os.makedirs(args.out, exist_ok=True)
    ref_dir, int_dir = os.path.join(args.out, "reference"), os.path.join(args.out, "interrupted")
    for d in (ref_dir, int_dir):
        os.makedirs(d, exist_ok=True)
        for f in ("run.ckpt.npz", "final.npz", "final.json"):
            if os.path.exists(os.path.join(d, f)):
                os.unlink(os.path.join(d, f))
    n_train = int(min(60000, args.train_samples) * (1 - 0.1))
    steps_per_epoch = -(-n_train // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    rng = np.random.default_rng(args.interrupt_seed)
    # the last epoch is left uninterrupted, so a signal can never land after training ended
    targets = sorted(int(t) for t in rng.choice(np.arange(1, total_steps - steps_per_epoch),
                                                args.interrupts, replace=False))
    print(f"soak: {args.epochs} epochs x {steps_per_epoch} steps; interrupting at steps {targets}",
          flush=True)

    t0 = time.time()
    code_dir = freeze_code(args.out)
    # the uninterrupted reference runs alongside the interrupted chain (2 cores)
    ref = subprocess.Popen(child_command(args, ref_dir), env=child_env(code_dir))
    interruptions, resume = [], False
    for target in targets:
        code, sent = run_segment(args, int_dir, resume, code_dir, interrupt_at=target)
        if code != 130:
            raise SystemExit(f"segment meant to be interrupted at step {target} exited {code}")
        pos = checkpoint_position(int_dir)
        interruptions.append({"target_step": target, "signal_sent_at_step": sent, **pos})
        print(f"  interrupted: {interruptions[-1]}", flush=True)
        resume = True
    code, _ = run_segment(args, int_dir, resume, code_dir)
    if code != 0:
        raise SystemExit(f"final segment exited {code}")
    if ref.wait() != 0:
        raise SystemExit(f"reference run exited {ref.returncode}")
    seconds = time.time() - t0

    a = nnlite.load_model(os.path.join(ref_dir, "final.npz")).get_weights()
    b = nnlite.load_model(os.path.join(int_dir, "final.npz")).get_weights()
    with open(os.path.join(ref_dir, "final.json")) as fh:
        ref_final = json.load(fh)
    with open(os.path.join(int_dir, "final.json")) as fh:
        int_final = json.load(fh)
    result = {
        "model": f"ann(dropout={args.dropout})", "optimizer": "Adam(1e-3)",
        "epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed,
        "validation_split": 0.1, "steps_per_epoch": steps_per_epoch,
        "interrupt_seed": args.interrupt_seed, "train_samples": args.train_samples,
        "code_sha256": code_digest(code_dir), "interruptions": interruptions,
        "weights_bit_identical": bool(all(np.array_equal(x, y) for x, y in zip(a, b))),
        "max_abs_weight_difference": float(max(np.max(np.abs(x - y)) for x, y in zip(a, b))),
        "n_weight_arrays": len(a),
        "test_accuracy": {"uninterrupted": ref_final["test_accuracy"],
                          "interrupted_and_resumed": int_final["test_accuracy"]},
        "test_loss": {"uninterrupted": ref_final["test_loss"],
                      "interrupted_and_resumed": int_final["test_loss"]},
        "history_identical": ref_final["history"] == int_final["history"],
        "wall_seconds": round(seconds, 1),
    }
    print(json.dumps(result, indent=1))
    if args.write_results:
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "soak.json"), "w") as fh:
            json.dump(result, fh, indent=1)
        with open(os.path.join(RESULTS, "soak.md"), "w") as fh:
            fh.write(summary_md(result))
    ok = result["weights_bit_identical"] and result["history_identical"]
    return 0 if ok else 1


def summary_md(r):
    rows = "\n".join(f"| {i + 1} | {p['target_step']} | {p['signal_sent_at_step']} | "
                     f"{p['epoch'] + 1} | {p['batch']} | {p['optimizer_step']} |"
                     for i, p in enumerate(r["interruptions"]))
    acc = r["test_accuracy"]
    return f"""# Soak: interrupted and resumed training equals an uninterrupted run

Produced by `nice -n 5 python -m experiments.soak --interrupt-seed {r['interrupt_seed']}`
(numbers: `soak.json`; the nnlite code it ran has SHA-256 `{r['code_sha256'][:16]}...` over its
.py files).

{r['model']}, {r['optimizer']}, batch {r['batch_size']}, {r['epochs']} epochs
({r['steps_per_epoch']} steps each), seed {r['seed']}, checkpoint every epoch. The interrupted
run is a chain of processes; each one receives a real SIGINT (Ctrl+C) when its step counter
reaches a random target, writes its checkpoint and exits; the next one resumes from the file.

| # | target step | SIGINT sent at step | checkpoint epoch | batch in epoch | optimizer step |
|---|---|---|---|---|---|
{rows}

| | uninterrupted | interrupted {len(r['interruptions'])}x and resumed |
|---|---|---|
| test accuracy | {acc['uninterrupted']:.4f} | {acc['interrupted_and_resumed']:.4f} |
| test loss | {r['test_loss']['uninterrupted']:.6f} | {r['test_loss']['interrupted_and_resumed']:.6f} |

- final weights bit-identical ({r['n_weight_arrays']} arrays): **{r['weights_bit_identical']}**
  (max |difference| = {r['max_abs_weight_difference']})
- per-epoch history (loss, accuracy, val_loss, val_accuracy, lr) identical:
  **{r['history_identical']}**
- wall time {r['wall_seconds']} s (both runs side by side on a shared 2-core machine)
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--interrupts", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="training seed (both runs)")
    p.add_argument("--interrupt-seed", type=int, default=None,
                   help="seed for the random interruption steps (default: fresh)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--train-samples", type=int, default=60000,
                   help="use the first N MNIST training images (smoke runs)")
    p.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "nnlite-soak"),
                   help="working folder for checkpoints and model files (not committed)")
    p.add_argument("--no-write", dest="write_results", action="store_false",
                   help="do not write experiments/results/soak.{json,md}")
    # internal: one training segment
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dir", help=argparse.SUPPRESS)
    p.add_argument("--progress", help=argparse.SUPPRESS)
    p.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    if args.interrupt_seed is None:
        args.interrupt_seed = int(np.random.SeedSequence().entropy % 2 ** 32)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
