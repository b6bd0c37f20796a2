"""docs/backprop.ipynb runs: every code cell, in order, in one namespace, without Jupyter.

The notebook's own asserts compare its hand calculation with the engine (forward, backward,
gradient check, Adam), so running it is the test. The JSON is read with the json module;
nbformat/nbclient are not needed.
"""
import contextlib
import io
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "docs", "backprop.ipynb")


def _load():
    with open(NOTEBOOK, encoding="utf-8") as fh:
        return json.load(fh)


def _source(cell):
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def test_notebook_is_plain_nbformat_4_python():
    nb = _load()
    assert nb["nbformat"] == 4
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 5
    for cell in code:
        # plain Python only: no IPython magics or shell escapes, which exec() cannot run
        for line in _source(cell).splitlines():
            assert not line.lstrip().startswith(("%", "!")), line


def test_every_code_cell_runs_in_order(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    for number, cell in enumerate(_load()["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = compile(_source(cell), f"backprop.ipynb, cell {number}", "exec")
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)              # an exception fails the test, naming the cell
    text = printed.getvalue()
    assert "relative error" in text and "5. AFTER THE STEP" in text
    assert namespace["model"].optimizer.iterations == 2    # the two Adam steps were taken
