"""Cross-validate candidates once on shared folds, compare them, tune them."""

from foldstack.selection import tuning
from foldstack.selection._compare import Comparison, corrected_ttest
from foldstack.selection._cv import cross_validate_candidates
from foldstack.selection._fold_average import FoldAverage, predict_aligned
from foldstack.selection._report import CandidateResult, CVReport
from foldstack.selection._scoring import DEFAULT_METRICS, METRICS, Metric, resolve_scoring
from foldstack.selection._splits import make_splits
from foldstack.selection.tuning import TuneResult, tune

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "CVReport",
    "CandidateResult",
    "Comparison",
    "FoldAverage",
    "Metric",
    "TuneResult",
    "corrected_ttest",
    "cross_validate_candidates",
    "make_splits",
    "predict_aligned",
    "resolve_scoring",
    "tune",
    "tuning",
]
