# The two commands of the README:
#   make run    trains and evaluates a model with a quick default, prints its test accuracy
#   make test   runs the test suite
# Both create .venv and install nnlite with all its extras on first use; so do
#   make draw     the drawing app                     (python -m apps)
#   make bench    nnlite vs Keras and PyTorch: speed and memory (python -m benchmarks)
#   make verdict  is nnlite faster than Keras here? one line in ~90 s (python -m benchmarks --verdict)
#   make compare  nnlite vs Keras numerical parity     (python -m baselines compare MODEL)
# ARGS passes options through, e.g. make draw ARGS="--demo 2026 --screenshot out.png".
# The app, the benchmark and the baselines run from this checkout; pip installs only nnlite.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
export NNLITE_DATA_DIR ?= $(abspath $(CURDIR)/../shared/data)
MODEL  ?= cnn
EPOCHS ?= 1
ARGS   ?=

.PHONY: install run test draw peers bench verdict compare

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/nnlite train $(MODEL) --epochs $(EPOCHS) --lr 1e-3 --schedule cosine --preprocess standardize --out runs/quickstart-$(MODEL) --overwrite
	$(VENV)/bin/nnlite evaluate runs/quickstart-$(MODEL)/model.npz --out runs/quickstart-$(MODEL)/eval --overwrite

test: install
	$(PY) -m pytest -q

draw: install
	$(PY) -m apps $(ARGS)

# the benchmark's second peer, PyTorch's CPU build, pinned (an unpinned torch is a CUDA build)
peers: install
	$(PY) -m pip install -q -e ".[torch]"

bench: peers
	$(PY) -m benchmarks $(ARGS)

verdict: peers
	$(PY) -m benchmarks --verdict $(ARGS)

compare: install
	$(PY) -m baselines compare $(MODEL) $(ARGS)

# make study: the whole experiment study, one job at a time, resumable (python -m experiments
# run, then report); ARGS="--only PATTERN" runs a part; python -m experiments list shows the plan.
.PHONY: study
study: install
	$(PY) -m experiments run $(ARGS)
	$(PY) -m experiments report
