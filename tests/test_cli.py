"""The package and its command line: light to import, --help everywhere; the drawing app, the
benchmark and the Keras comparison run from the checkout with ``python -m``."""
import os
import subprocess
import sys

import pytest

from nnlite import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SATELLITES = ("apps", "baselines", "benchmarks", "experiments")

# python -m <these> --help: the options each one must offer
SATELLITE_OPTIONS = {
    ("apps",): ["--models-dir", "--model", "--save-dir", "--brush", "--features", "--demo",
                "--seed", "--screenshot"],
    ("benchmarks",): ["--verdict", "--budget", "--quick", "--json", "--profile", "--models",
                      "--repeats", "--no-keras", "--batches", "--nnlite-threads",
                      "--keras-threads", "--no-widths", "--out", "--plot"],
    ("baselines", "compare"): ["MODEL", "--width", "--batch-size", "--steps", "--lr", "--seed",
                               "--dtype"],
}


def test_import_nnlite_pulls_in_neither_tensorflow_nor_pygame_nor_the_satellites():
    code = ("import sys, nnlite, nnlite.cli; nnlite.cli.build_parser(); "
            f"print(sorted(m for m in ('tensorflow', 'keras', 'pygame', 'cv2', *{SATELLITES!r}) "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_nnlite_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "nnlite", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("data", "train", "evaluate", "trace"):
        assert command in out
    assert sorted(cli.COMMANDS) == ["data", "evaluate", "trace", "train"]


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_subcommand_has_a_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: nnlite " + command in capsys.readouterr().out


@pytest.mark.parametrize("command", ["draw", "bench", "compare"])
def test_satellite_features_are_not_nnlite_subcommands(command, capsys):
    assert cli.main([command, "--help"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("command", SATELLITE_OPTIONS, ids=" ".join)
def test_python_dash_m_satellite_help_from_the_checkout(command):
    out = subprocess.run([sys.executable, "-m", *command, "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("usage: python -m " + " ".join(command))
    for option in SATELLITE_OPTIONS[command]:
        assert option in out


def test_satellites_refuse_bad_arguments_with_exit_code_2(capsys):
    from apps.cli import main as apps_main
    from baselines.cli import main as baselines_main
    from benchmarks.cli import main as benchmarks_main
    assert apps_main(["--brush", "0"]) == 2
    assert "--brush: expected an integer in 1..200, got 0" in capsys.readouterr().err
    assert benchmarks_main(["--quick", "--repeats", "0"]) == 2
    assert "--repeats: expected an integer >= 1, got 0" in capsys.readouterr().err
    assert baselines_main(["compare", "resnet"]) == 2
    assert "MODEL must be ann, cnn, vgg16" in capsys.readouterr().err


def test_pip_installs_only_nnlite():
    """pyproject's package list names nnlite alone: the satellites run from the checkout."""
    tomllib = pytest.importorskip("tomllib")        # Python 3.11+
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["nnlite*"]
    assert project["tool"]["pytest"]["ini_options"]["pythonpath"] == ["."]
