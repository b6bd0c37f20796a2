"""Every command line, fed hostile arguments: no traceback ever, exit 2 with a message naming the
culprit (the flag, the file), 130 on Ctrl+C, and outputs that never overwrite earlier ones.

Commands: ``nnlite data|train|evaluate|trace``, ``python -m apps``, ``python -m benchmarks``,
``python -m baselines compare``. Most cases run in-process through each ``main(argv)`` (fast);
start-up, Ctrl+C and broken pipes run in a fresh process. A full disk is simulated by making
``os.fsync`` fail with ENOSPC; an unwritable folder by a path under a regular file (the tests
may run as root, for whom chmod does not forbid anything).
"""
import errno
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from apps import cli as apps_cli
from baselines import cli as baselines_cli
from benchmarks import cli as benchmarks_cli
from benchmarks import verdict
from nnlite import cli, zoo
from nnlite.commands import train as train_command
from nnlite.files import atomic_write, current_umask, write_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LONG = "/" + "x" * 300 + "/" + "y" * 5000          # over NAME_MAX and PATH_MAX
TINY_TRAIN = ["train", "ann", "--limit", "64", "--epochs", "1", "--validation-split", "0",
              "--quiet"]


def refused(main, argv, capsys, *culprits, code=2):
    """Run ``main(argv)``: exit ``code``, no traceback, every culprit named on stderr."""
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for culprit in culprits:
        assert culprit in err, (culprit, err)
    return err


@pytest.fixture
def a_file(tmp_path):
    """A regular file: a path under it can be neither a folder nor created."""
    path = tmp_path / "plain-file"
    path.write_text("not a folder")
    return path


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "models" / "ann.npz"
    path.parent.mkdir()
    zoo.ann(seed=0).save(path)
    return path


def digits_folder(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(
            folder / f"{i % 10}_drawn{i}.png")
    return folder


def png_claiming(width, height):
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's header)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# -- nnlite: numbers and typos, refused by argparse ---------------------------------------------
@pytest.mark.parametrize("argv,flag", [
    (["--seed", "-1"], "--seed"), (["--limit", "0"], "--limit"), (["--limit", "-5"], "--limit"),
    (["--epochs", "0"], "--epochs"), (["--batch-size", "0"], "--batch-size"),
    (["--lr", "0"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--lr", "fast"], "--lr"), (["--width", "0"], "--width"), (["--dropout", "1"], "--dropout"),
    (["--validation-split", "1"], "--validation-split"),
    (["--resume", "--overwrite"], "--overwrite"),
])
def test_train_refuses_bad_numbers(argv, flag, capsys):
    refused(cli.main, ["train", "ann", *argv], capsys, f"argument {flag}")


@pytest.mark.parametrize("argv,culprits", [
    (["train", "ann", "--epocs", "3"], ["--epocs", "did you mean --epochs?"]),
    (["evaluate", "m.npz", "--galery", "3"], ["did you mean --gallery?"]),
    (["data", "download", "mnist", "--mirorr", "x"], ["did you mean --mirror?"]),
    (["trian", "ann"], ["did you mean 'train'?"]),
    (["evaluate", "m.npz", "--gallery", "-5"], ["argument --gallery", "integer >= 0"]),
    (["trace", "ann", "--seed", "-1"], ["argument --seed"]),
    (["data", "download", "mnist", "--mirror", "notaurl"], ["argument --mirror", "notaurl"]),
])
def test_nnlite_typos_and_bad_values(argv, culprits, capsys):
    refused(cli.main, argv, capsys, *culprits)


# -- nnlite train: --out ----------------------------------------------------------------------
def test_train_out_that_cannot_be_a_folder(tmp_path, a_file, capsys):
    refused(cli.main, [*TINY_TRAIN, "--out", str(a_file)], capsys, "--out", "not a folder")
    refused(cli.main, [*TINY_TRAIN, "--out", str(a_file / "run")], capsys, "--out",
            "a part of the path is a file")
    refused(cli.main, [*TINY_TRAIN, "--out", str(tmp_path) + LONG], capsys, "--out",
            "too long")


def test_train_never_overwrites_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*TINY_TRAIN, "--out", str(out)]) == 0
    model = (out / "model.npz").read_bytes()
    err = refused(cli.main, [*TINY_TRAIN, "--out", str(out)], capsys, "--out", "--overwrite")
    assert "already holds files" in err and (out / "model.npz").read_bytes() == model
    (out / "notes.txt").write_text("mine")
    assert cli.main([*TINY_TRAIN, "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert (out / "model.npz").read_bytes() != model
    assert (out / "notes.txt").read_text() == "mine"        # only the run's own files replaced
    mode = stat.S_IMODE(os.stat(out / "model.npz").st_mode)
    assert mode == 0o666 & ~current_umask()                 # not mkstemp's 0600


def test_an_interrupted_run_is_refused_without_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"PK")
    (out / "run.json").write_text("{}")
    err = refused(cli.main, [*TINY_TRAIN, "--out", str(out)], capsys, "interrupted run",
                  "add --resume")
    assert str(out) in err


@pytest.mark.parametrize("content", [b"\x00\xff garbage", b'{"config": {"model": "ann"}}',
                                     b"[1, 2]", b'{"config": ' * 100_000, b""])
def test_resume_refuses_a_corrupt_or_incomplete_run_json(tmp_path, content, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"PK")
    (out / "run.json").write_bytes(content)
    refused(cli.main, ["train", "ann", "--out", str(out), "--resume"], capsys,
            "run.json: not a run.json written by nnlite train")


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "run"
    refused(cli.main, [*TINY_TRAIN, "--out", str(out)], capsys, "run.json", "the disk is full")
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


@pytest.mark.parametrize("exc,code,says", [
    (MemoryError(), 2, "error: not enough memory"),
    (ValueError("bad data"), 2, "error: bad data"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/x"), 2, "/data/x: permission"),
    (KeyboardInterrupt(), 130, "nnlite train: interrupted"),
    (RuntimeError("oops"), 1, "internal error: RuntimeError: oops"),
])
def test_the_top_level_handler(exc, code, says, tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise exc
    monkeypatch.setattr(train_command, "run", fail)
    refused(cli.main, [*TINY_TRAIN, "--out", str(tmp_path / "r")], capsys, says, code=code)


def test_nnlite_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(train_command, "run", lambda *a, **k: 1 / 0)
    monkeypatch.setenv("NNLITE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main([*TINY_TRAIN, "--out", str(tmp_path / "r")])


# -- nnlite evaluate, trace, data -----------------------------------------------------------------
def test_evaluate_a_decompression_bomb_png(tmp_path, model_file, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folder = digits_folder(tmp_path / "drawn")
    (folder / "7_bomb.png").write_bytes(png_claiming(100_000, 100_000))
    refused(cli.main, ["evaluate", str(model_file), "--images", str(folder)], capsys,
            "7_bomb.png")
    (folder / "7_bomb.png").write_bytes(png_claiming(28, 28)[:40])     # truncated
    refused(cli.main, ["evaluate", str(model_file), "--images", str(folder)], capsys,
            "7_bomb.png")


def test_evaluate_writes_a_new_folder_each_time_never_beside_the_model(tmp_path, model_file,
                                                                       monkeypatch, capsys):
    folder = digits_folder(tmp_path / "drawn")
    monkeypatch.chdir(tmp_path)
    beside = sorted(os.listdir(model_file.parent))
    for _ in range(2):
        assert cli.main(["evaluate", str(model_file), "--images", str(folder)]) == 0
    evals = sorted(os.listdir(tmp_path / "runs"))
    assert len(evals) == 2 and all(e.startswith("eval-ann-images-") for e in evals)
    assert sorted(os.listdir(model_file.parent)) == beside
    out = tmp_path / "runs" / evals[0]
    refused(cli.main, ["evaluate", str(model_file), "--images", str(folder), "--out", str(out)],
            capsys, "--out", "--overwrite")
    assert cli.main(["evaluate", str(model_file), "--images", str(folder), "--out", str(out),
                     "--overwrite"]) == 0


def test_evaluate_failures_leave_no_empty_folder(tmp_path, a_file, model_file, monkeypatch,
                                                 capsys):
    monkeypatch.chdir(tmp_path)
    refused(cli.main, ["evaluate", str(model_file), "--images", str(tmp_path / "none")], capsys,
            "--images")
    assert not os.listdir(tmp_path / "runs")
    refused(cli.main, ["evaluate", str(model_file), "--out", str(a_file / "ev")], capsys,
            "--out")
    refused(cli.main, ["evaluate", str(tmp_path / "missing.npz")], capsys, "missing.npz")


def test_trace_json_that_cannot_be_written(a_file, capsys):
    refused(cli.main, ["trace", "ann", "--batch-size", "2", "--json", str(a_file / "t.json")],
            capsys, "t.json", "a part of the path is a file")


def test_data_download_dest_that_cannot_be_written(tmp_path, a_file, capsys):
    refused(cli.main, ["data", "download", "mnist", "--dest", str(a_file / "mnist")], capsys,
            "--dest", "a part of the path is a file")
    refused(cli.main, ["data", "download", "mnist", "--dest", str(tmp_path) + LONG], capsys,
            "--dest", "too long")


# -- files: umask, symlinks, full disk ----------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_atomic_write_respects_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_text(tmp_path / "new.txt", "x")
        assert current_umask() == mask
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o666 & ~mask


def test_atomic_write_keeps_a_replaced_files_mode(tmp_path):
    path = tmp_path / "private.json"
    path.write_text("{}")
    os.chmod(path, 0o600)
    write_text(path, "[]")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_text() == "[]"


def test_atomic_write_writes_through_symlinks(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(os.path.join("real", "model.json"))          # a relative link
    write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "created.json")
    write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "real" / "created.json").read_text() == "made"
    assert sorted(os.listdir(tmp_path / "real")) == ["created.json", "model.json"]


def test_atomic_write_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    path.write_text("previous")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as info:
        atomic_write(path, lambda fh: fh.write(b"new"))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_text() == "previous" and os.listdir(tmp_path) == ["metrics.json"]


# -- python -m apps -----------------------------------------------------------------------------
def test_apps_refuses_unknown_models_and_missing_folders(tmp_path, a_file, capsys):
    err = refused(apps_cli.main, ["--model", "foo"], capsys, "--model", "'foo'", "cnn", "vgg16")
    assert "invalid choice" in err
    missing = tmp_path / "nowhere"
    refused(apps_cli.main, ["--models-dir", str(missing)], capsys, "--models-dir",
            str(missing.resolve()))
    refused(apps_cli.main, ["--models-dir", str(tmp_path), "--screenshot",
                            str(a_file / "shot.png")], capsys, "--screenshot")
    for argv, flag in ((["--brush", "0"], "--brush"), (["--seed", "-1"], "--seed"),
                       (["--demo", "20x6"], "--demo"), (["--modle", "cnn"], "--model?")):
        refused(apps_cli.main, argv, capsys, flag)


def test_apps_says_where_it_looked_for_models(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert apps_cli.check_models_dir(str(empty)) == str(empty.resolve())
    err = capsys.readouterr().err
    assert str(empty.resolve()) in err and "cnn.npz" in err


def test_apps_default_models_folder_is_the_checkouts():
    assert apps_cli.build_parser().parse_args([]).models_dir == os.path.join(ROOT, "models")


# -- python -m benchmarks -----------------------------------------------------------------------
@pytest.mark.parametrize("argv,culprits", [
    (["--repeats", "0"], ["--repeats"]), (["--batches", "32", "0"], ["--batches"]),
    (["--nnlite-threads", "-1"], ["--nnlite-threads"]), (["--budget", "0"], ["--budget"]),
    (["--quick", "--verdict"], ["one of --verdict, --quick"]),
    (["--budget", "5"], ["--budget goes with --verdict"]),
    (["--verdikt"], ["did you mean --verdict?"]),
    (["--quick", "--out", "/dev/null/x.json"], ["--out"]),
    (["--quick", "--out", "x.json", "--plot", "/dev/null/p.png"], ["--plot"]),
])
def test_benchmarks_refuses(argv, culprits, capsys):
    refused(benchmarks_cli.main, argv, capsys, *culprits)


def test_quick_and_custom_runs_never_write_the_committed_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = benchmarks_cli.build_parser().parse_args
    quick = benchmarks_cli._default_out(args(["--quick"]), "quick")
    custom = benchmarks_cli._default_out(args(["--models", "cnn"]), "full")
    for path in (quick, custom):
        assert os.path.dirname(os.path.dirname(path)) == "runs"
    assert quick != benchmarks_cli._default_out(args(["--quick"]), "quick")
    assert benchmarks_cli._default_out(args([]), "full") == os.path.join(
        benchmarks_cli.RESULTS, "bench-full.json")


def test_verdict_without_keras_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(verdict, "keras_available", lambda: (False, "keras is not installed"))
    refused(benchmarks_cli.main, ["--verdict"], capsys, "--verdict compares with Keras")


class FakeWorker:
    """benchmarks.harness.WorkerProcess without a process: nnlite trains at 2,000 samples/s,
    Keras at 1,000 (warm-up and timed runs alike)."""
    rates = {"nnlite": 2000.0, "keras": 1000.0}
    calls = []

    def __init__(self, engine, env_extra=None):
        self.engine = engine

    def send(self, op, **kw):
        self.pending = (op, kw)

    def receive(self, op):
        rate = self.rates[self.engine]
        return {"warmup_train_s": {"32": [{"steady_samples": 160, "steady_s": 160 / rate}]}}

    def call(self, op, batch, samples):
        FakeWorker.calls.append((self.engine, samples))
        return {"steady_samples": samples - batch, "steady_s": (samples - batch) / self.rates[
            self.engine], "fit_s": samples / self.rates[self.engine]}

    def close(self):
        pass


def test_verdict_interleaves_sizes_and_says_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(verdict, "keras_available", lambda: (True, ""))
    monkeypatch.setattr(verdict, "WorkerProcess", FakeWorker)
    FakeWorker.calls = []
    out = tmp_path / "v.json"
    assert benchmarks_cli.main(["--verdict", "--repeats", "3", "--budget", "30", "--out",
                                str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("verdict: against Keras on this machine, nnlite is faster for ann, "
                           "cnn and vgg16 (") and "ann 2.00x (2.00-2.00)" in line
    assert "load average" in line and len(line.splitlines()) == 1
    engines = [e for e, _ in FakeWorker.calls]
    assert engines[:4] == ["nnlite", "keras", "keras", "nnlite"]       # order alternates
    samples = {s for _, s in FakeWorker.calls}
    assert all(s % 32 == 0 and s >= verdict.MIN_BATCHES * 32 for s in samples)
    # 30 s budget, 3 models, 3 rounds, 2 engines: each timed run ~1.5 s at Keras' 1,000/s
    assert max(samples) <= 1000 * verdict.RUN_S[1] + 32
    assert json.loads(out.read_text())["line"] == line


# -- python -m baselines compare ----------------------------------------------------------------
@pytest.mark.parametrize("argv,culprits", [
    (["compare", "cnn", "--steps", "0"], ["--steps"]), (["compare", "cnn", "--lr", "-1"], ["--lr"]),
    (["compare", "cnn", "--seed", "-1"], ["--seed"]),
    (["compare", "cnn", "--batch-size", "0"], ["--batch-size"]),
    (["compare", "cnn", "--width", "nan"], ["--width"]),
    (["compare", "cnn", "--stpes", "3"], ["did you mean --steps?"]),
    (["compare", "resnet"], ["MODEL must be ann, cnn, vgg16"]),
    (["compare", "/nonexistent/m.npz"], ["/nonexistent/m.npz"]),
    (["compair", "cnn"], ["did you mean 'compare'?"]),
])
def test_baselines_compare_refuses(argv, culprits, capsys):
    refused(baselines_cli.main, argv, capsys, *culprits)


def test_compare_labels_float32_rounding_apart_from_real_failures():
    def rows(*within):
        return [{"check": f"check {i}", "value": 1e-3, "tolerance": 1e-6, "within": w}
                for i, w in enumerate(within)]
    table = baselines_cli.format_table("cnn", {"float32": rows(True, False, False),
                                               "float64": rows(True, True, False)})
    lines = table.splitlines()
    assert " ok " in lines[3] + " " and "ROUNDING" in lines[4] and "FAIL" in lines[5]
    assert lines[5].count("FAIL") == 2 and "FAIL" not in lines[4]
    assert "ROUNDING: beyond the tolerance in float32 but within it in float64" in table
    assert "in float64: the engines compute different things" in table
    only32 = baselines_cli.format_table("cnn", {"float32": rows(True, False)})
    assert "ROUNDING" not in only32 and "rerun with --dtype both" in only32


# -- fresh processes: start-up, Ctrl+C, broken pipes ----------------------------------------------
ENTRY_POINTS = {"nnlite": ["-m", "nnlite", "--help"], "apps": ["-m", "apps", "--help"],
                "benchmarks": ["-m", "benchmarks", "--help"],
                "baselines": ["-m", "baselines", "compare", "--help"],
                "nnlite script": [os.path.join(os.path.dirname(sys.executable), "nnlite"),
                                  "--help"]}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_ctrl_c_while_importing_is_one_line(entry, tmp_path):
    """A KeyboardInterrupt raised while nnlite's modules import (as a Ctrl+C in the first half
    second would), made certain by an import hook in sitecustomize."""
    argv = ENTRY_POINTS[entry]
    if entry == "nnlite script" and not os.path.exists(argv[0]):
        pytest.skip("the nnlite console script is not installed next to this Python")
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'nnlite.sequential':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().endswith("interrupted")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("delay", [0.2, 0.6])
def test_a_real_ctrl_c_early_in_nnlite_train(delay, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "nnlite", *TINY_TRAIN, "--epochs", "50",
                             "--out", str(tmp_path / "run")], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    # 130 from nnlite's handlers; -SIGINT only if the signal beat Python's own start-up
    assert proc.returncode in (130, -signal.SIGINT), err


def test_a_closed_pipe_is_not_a_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "nnlite", "train", "--help"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                       # like `nnlite train --help | head -0`
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
