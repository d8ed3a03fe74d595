"""Every example notebook runs top to bottom, with its small settings.

Each notebook is copied to a temporary folder and executed there by nbclient in a fresh kernel
with ``FOLDSTACK_NOTEBOOK_SMALL=1`` (fewer rows, folds, epochs and trials) and one thread per
library, so the committed notebooks and their outputs are never rewritten. A foldstack warning
raised in a notebook fails it, as it fails the rest of the suite.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
EXPECTED = {"churn_competition", "house_prices_regression", "custom_network", "multiclass"}
CELL_TIMEOUT = 300  # seconds per cell; a whole small-mode notebook takes well under a minute
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours the traceback


def _runner():
    """examples/run_notebooks.py (not a package): the same execution as `make notebooks`."""
    spec = importlib.util.spec_from_file_location("run_notebooks", EXAMPLES / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_notebooks_are_there():
    assert EXPECTED <= {p.stem for p in NOTEBOOKS}


def test_committed_notebooks_are_valid_and_start_with_the_size_switch():
    import nbformat

    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert 'os.environ.get("FOLDSTACK_NOTEBOOK_SMALL") == "1"' in code[0], path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_small_mode(path, tmp_path):
    from nbclient.exceptions import CellExecutionError

    before = path.read_bytes()
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    try:
        nb = _runner().execute(copy, small=True, threads=1, timeout=CELL_TIMEOUT,
                               strict_warnings=True)
    except CellExecutionError as exc:
        message = ANSI_COLOURS.sub("", str(exc))
        pytest.fail(f"{path.name} failed in small mode:\n{message}", pytrace=False)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert path.read_bytes() == before, "the committed notebook was modified"
