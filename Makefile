# Everything a newcomer needs: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

DEMO := runs/demo
demo: $(STAMP)
	$(PY) examples/demo_data.py $(DEMO)/data
	$(VENV)/bin/foldstack cv $(DEMO)/data/train.csv --target churn --out $(DEMO)/run
	$(VENV)/bin/foldstack predict $(DEMO)/run $(DEMO)/data/test.csv --id-col customer --proba \
		-o $(DEMO)/submission.csv
	$(PY) examples/demo_score.py $(DEMO)/submission.csv $(DEMO)/data/test_labels.csv

test: $(STAMP)
	$(VENV)/bin/ruff check foldstack tests bench examples
	$(PY) -m pytest -q
	# The docstring examples; naming foldstack overrides testpaths, so the suite is not rerun.
	$(PY) -m pytest -q --doctest-modules foldstack -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check foldstack tests bench examples

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# Execute the example notebooks (full settings) and save them with their outputs;
# `make notebooks ONLY=multiclass` runs one of them.
.PHONY: notebooks
notebooks: $(STAMP)
	$(PY) examples/run_notebooks.py $(if $(ONLY),--only $(ONLY))
