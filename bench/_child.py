"""Run one bench script as ``python -m bench.<script>`` would, its CSVs written to another folder.

    python -m bench._child RESULTS_DIR SCRIPT [ARGS ...]

The scripts write through ``bench._table.publish``, which writes to ``bench._table.RESULTS``;
this sets that folder to RESULTS_DIR first, then runs ``bench.<SCRIPT>`` as ``__main__`` with
ARGS as its command line.  ``python -m bench`` starts every script this way, so that
``--quick`` runs land in bench/results/quick/ and never overwrite the full results.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    """Point ``bench._table.RESULTS`` at ``argv[0]``, then run ``bench.<argv[1]>``.

    Parameters
    ----------
    argv : list of str
        RESULTS_DIR, SCRIPT, then the script's own arguments.
    """
    import bench._table

    results, script, *rest = argv
    bench._table.RESULTS = Path(results).resolve()
    bench._table.RESULTS.mkdir(parents=True, exist_ok=True)
    sys.argv = [f"bench.{script}", *rest]
    runpy.run_module(f"bench.{script}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1:])
