"""Pruning inside a network's training: a trial's fold 0 reports every epoch to the pruner.

A trial reports its running CV mean after each fold at steps ``0 .. n_folds - 1``.  When the
estimator holds a foldstack network (:class:`~foldstack.models.TabularMLPClassifier` or
``Regressor``, a Pipeline step included) and the pruner is a percentile pruner (``"median"``,
:class:`optuna.pruners.MedianPruner`, :class:`optuna.pruners.PercentilePruner`), the trial
also reports the network's validation score after each epoch of its fold 0, so that a bad
configuration stops within its first fold.  How the two kinds of reports share one trial:

- Steps.  Pruners compare the values of trials at the same step, so epoch ``e`` (skorch's
  1-based epoch number) of fold 0 is reported at step ``EPOCH_STEP + e``, far above any fold
  step: epoch values are only ever compared with other trials' values at the same epoch of
  the same fold (same rows, same internal validation split, same seed), never with a fold's
  CV mean.  Only fold 0 reports epochs: it is where a trial has no other evidence yet, and
  from fold 1 on the fold-level running mean (the study's own metric, on whole folds) is the
  better signal; reporting every epoch of every fold would also write one storage row per
  epoch for little gain.
- Values.  ``valid_score`` (accuracy, or R²: higher is better, and the same measure whatever
  the configuration, unlike the loss) is reported as it is in a study that maximizes, and
  negated in one that minimizes (log loss, RMSE): a lower reported value is then better, as
  the study's direction says.
- Judging.  :class:`optuna.pruners.PercentilePruner` compares the *best* value a trial
  reported over all its steps with the other trials' values at the current step, and takes
  the current step to be the largest one reported.  Mixing accuracies into a log-loss trial
  would break both, so :class:`FoldEpochPruner` shows the pruner only one kind of step: a
  trial that has reported a fold step is judged on its fold steps, one that has not on its
  epoch steps.  That is exact because epochs are reported only during fold 0, before its
  fold step.
- Stopping.  The reporter raises :class:`EpochPruned` out of the network's ``fit``; the fold
  task records that as a failed fold, which :meth:`Problem.evaluate` turns into a pruned
  trial (``optuna.TrialPruned``) without storing the half-trained fold in the cache.  The
  reporter remembers that it pruned, so a meta-estimator that swallows the exception and
  fits again is stopped at its next epoch, and the fold is still pruned, not failed.

Epochs are followed through :mod:`foldstack.utils._epochs` (a ``ContextVar``): only networks
trained in the thread and process that run the trial report.  ``tune``'s own worker processes
(``n_jobs``) each run whole trials, folds included, so they prune epochs too; networks fitted
in threads or processes that a meta-estimator starts (``BaggingClassifier(n_jobs=2)``) report
nothing and their trials keep fold-level pruning.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

# epoch e of fold 0 is reported at step EPOCH_STEP + e; fold steps are 0 .. n_folds - 1
EPOCH_STEP = 1_000_000
# the pruner is first asked after this many epochs: a configuration that starts slowly but
# learns well is not judged on its first, noisiest epochs (they are reported all the same)
EPOCH_WARMUP = 5


class EpochPruned(Exception):
    """Raised out of a network's ``fit`` when the pruner stops the trial mid-fold."""


def has_network(estimator: Any) -> bool:
    """Whether ``estimator`` is, or holds (a Pipeline step...), a foldstack network."""
    from foldstack.models import TabularMLPClassifier, TabularMLPRegressor

    objects = [estimator, *estimator.get_params(deep=True).values()]
    return any(isinstance(o, (TabularMLPClassifier, TabularMLPRegressor)) for o in objects)


def judges_epochs(pruner: Any) -> bool:
    """Whether ``pruner`` can judge epoch steps: a percentile pruner (median included).

    Others cannot: Hyperband's and successive halving's rungs are step counts (an epoch step
    would pass them all at once), a threshold is in the metric's units.
    """
    import optuna

    return isinstance(pruner, optuna.pruners.PercentilePruner)


class FoldEpochPruner:
    """An Optuna pruner that judges a trial's fold steps and its epoch steps apart.

    It shows ``pruner`` the trial with the steps of one kind only: its fold steps once it
    has reported one (fold 0 is over), else its epoch steps.  Optuna calls only ``prune``.
    """

    def __init__(self, pruner: Any) -> None:
        self.pruner = pruner

    def prune(self, study: Any, trial: Any) -> bool:
        values = trial.intermediate_values
        folds = {s: v for s, v in values.items() if s < EPOCH_STEP}
        kept = folds if folds else values
        if len(kept) != len(values):
            trial = copy.copy(trial)  # a view: the trial Optuna holds is left as it is
            trial.intermediate_values = kept
        return self.pruner.prune(study, trial)

    def __repr__(self) -> str:
        return f"FoldEpochPruner({self.pruner!r})"


class TrialEpochs:
    """The epoch reporter of one trial's fold 0 (set with ``utils._epochs.epoch_reporter``).

    It follows the first network of the fold that has a validation split (a meta-estimator
    fitting several would otherwise report several curves at the same steps).
    """

    def __init__(self, trial: Any, greater_is_better: bool) -> None:
        self.trial = trial
        self.sign = 1.0 if greater_is_better else -1.0
        self.net: Any = None
        self.pruned: str | None = None  # why, once the pruner stopped the trial

    def __call__(self, net: Any, row: Mapping[str, Any]) -> None:
        if self.pruned is not None:  # any later fit of this fold stops at its first epoch
            raise EpochPruned(self.pruned)
        score = row.get("valid_score")
        if score is None or not math.isfinite(score):
            return  # no validation split: nothing comparable to report
        if self.net is None:
            self.net = net
        elif net is not self.net:
            return
        epoch = int(row["epoch"])
        self.trial.report(self.sign * float(score), EPOCH_STEP + epoch)
        if epoch >= EPOCH_WARMUP and self.trial.should_prune():
            self.pruned = (f"pruned in fold 0 at epoch {epoch}: network validation score "
                           f"{score:.5g}")
            raise EpochPruned(self.pruned)
