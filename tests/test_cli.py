"""The package and its command line: light to import, --help everywhere."""
import subprocess
import sys

import pytest

from nnlite import cli


def test_import_nnlite_pulls_in_neither_tensorflow_nor_pygame():
    code = ("import sys, nnlite, nnlite.cli; nnlite.cli.build_parser(); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'pygame', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_nnlite_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "nnlite", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("data", "train", "evaluate", "compare", "bench", "draw", "trace"):
        assert command in out


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_subcommand_has_a_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: nnlite " + command in capsys.readouterr().out
