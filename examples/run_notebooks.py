"""Execute the example notebooks and save them in place, with their outputs.

    python examples/run_notebooks.py                         # every examples/*.ipynb
    python examples/run_notebooks.py --only churn_competition
    python examples/run_notebooks.py --small                 # quick check, nothing saved

Each notebook runs top to bottom in a fresh kernel whose working directory is the notebook's
folder. By default the notebooks run with their full settings and are saved with their
outputs (``make notebooks``); ``--small`` sets ``FOLDSTACK_NOTEBOOK_SMALL=1`` (fewer rows,
folds, epochs and trials: well under a minute each) and saves nothing. The test suite
(``tests/examples``) uses :func:`execute` in small mode on copies of the notebooks.

Threads: the kernel gets ``OMP_NUM_THREADS`` (and the MKL / OpenBLAS equivalents) from
``--threads``, by default the environment's ``OMP_NUM_THREADS`` or 1. The networks of these
notebooks are small, so one thread per process is fastest, and two-thread OpenMP pools slow down
badly on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
SMALL_VARIABLE = "FOLDSTACK_NOTEBOOK_SMALL"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Prepended (in memory only) by execute(strict_warnings=True): a foldstack warning fails the
# run, as it fails the test suite (pyproject's filterwarnings).
STRICT_WARNINGS_CELL = (
    "import warnings\n"
    "from foldstack.exceptions import FoldstackWarning\n"
    "warnings.simplefilter('error', FoldstackWarning)")


def notebooks(only: str | None = None) -> list[Path]:
    """The example notebooks, sorted; ``only`` selects one by name (with or without .ipynb)."""
    paths = sorted(EXAMPLES.glob("*.ipynb"))
    if only is None:
        return paths
    stem = only.removesuffix(".ipynb")
    chosen = [p for p in paths if p.stem == stem]
    if not chosen:
        names = ", ".join(p.stem for p in paths)
        raise SystemExit(f"run_notebooks: no notebook named {only!r} in {EXAMPLES}; "
                         f"the notebooks are: {names}.")
    return chosen


def kernel_env(*, small: bool, threads: int | None = None) -> dict[str, str]:
    """The kernel's environment: this process's, plus the size switch and thread limits."""
    env = dict(os.environ)
    if small:
        env[SMALL_VARIABLE] = "1"
    else:
        env.pop(SMALL_VARIABLE, None)
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    return env


def execute(path: str | os.PathLike, *, small: bool, threads: int | None = None,
            timeout: int = 900, strict_warnings: bool = False):
    """Run the notebook at ``path`` in a fresh kernel and return it with its outputs.

    The file is not modified. ``timeout`` is per cell, in seconds. A cell that raises makes
    this raise ``nbclient.exceptions.CellExecutionError``, whose message holds the cell's
    source and traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if strict_warnings:
        nb.cells.insert(0, nbformat.v4.new_code_cell(STRICT_WARNINGS_CELL))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env(small=small, threads=threads))
    if strict_warnings:
        nb.cells.pop(0)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="NAME", help="run only this notebook (e.g. multiclass)")
    parser.add_argument("--small", action="store_true",
                        help=f"quick settings ({SMALL_VARIABLE}=1); the notebooks are not saved")
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP/BLAS/torch threads of the kernel (default: "
                             "$OMP_NUM_THREADS or 1)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (900)")
    args = parser.parse_args(argv)

    import nbformat
    from nbclient.exceptions import CellExecutionError

    for path in notebooks(args.only):
        mode = "small" if args.small else "full"
        print(f"{path.name}: running ({mode} settings) ...", flush=True)
        start = time.perf_counter()
        try:
            nb = execute(path, small=args.small, threads=args.threads, timeout=args.timeout)
        except CellExecutionError as exc:
            print(f"{path.name}: FAILED after {time.perf_counter() - start:.0f} s\n{exc}",
                  file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - start
        if not args.small:
            nbformat.write(nb, path)
        print(f"{path.name}: done in {elapsed:.0f} s{'' if args.small else ', saved'}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
