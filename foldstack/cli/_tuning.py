"""``--tune N``: search each model's hyperparameters on the shared folds before ranking."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger("foldstack.cli")


def tune_candidates(candidates: dict[str, Any], opts: Any, X: Any, y: Any, task: str,
                    groups: Any, scoring: Any, cache: Path, *, deadline: float | None,
                    verbose: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tune every candidate; return the candidates left to cross-validate and the results.

    A tuned model's CV record (its best trial, on the same folds) joins the report as is, so
    it is not cross-validated again.  Studies live in ``<cache>/tune.sqlite3`` under names
    derived from the run, so rerunning the command resumes them.
    """
    from foldstack.models import search_space
    from foldstack.selection import make_splits, tune

    splits = make_splits(opts.cv, X, y.to_numpy() if hasattr(y, "to_numpy") else y, task,
                         groups=groups, n_repeats=opts.repeats, random_state=opts.seed)
    remaining, results = dict(candidates), {}
    for name, est in candidates.items():
        time_limit = None if deadline is None else deadline - time.time()
        if time_limit is not None and time_limit <= 0:
            logger.warning("time limit reached: %s is not tuned", name)
            continue
        space = opts.space.get(name) or search_space(name, task)
        logger.info("tuning %s: %d trials", name, opts.tune)
        result = tune(est, space, X, y, cv=splits, scoring=scoring, task=task,
                      n_trials=opts.tune, time_limit=time_limit, cache_dir=cache,
                      study_name=f"{name}-seed{opts.seed}", random_state=opts.seed,
                      n_jobs=opts.n_jobs, verbose=verbose)
        logger.info("%s: best %s %.4f with %s", name, result.metric, result.best_score,
                    result.best_params)
        results[name] = result
        del remaining[name]
    return remaining, results
