"""scikit-learn's estimator checks on the tabular networks (tiny settings, so they run fast).

No check is expected to fail.  ``check_methods_subset_invariance`` passes because the tests
run torch single-threaded (conftest): with several threads, float32 products can differ by
~1e-7 with the number of rows predicted at once, just above the check's tolerance.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from foldstack.models import CategoryDtypeEncoder, TabularMLPClassifier, TabularMLPRegressor

_SMALL = dict(width=32, depth=2, max_epochs=30, lr=1e-2, random_state=0)


@parametrize_with_checks([TabularMLPClassifier(**_SMALL), TabularMLPRegressor(**_SMALL),
                          CategoryDtypeEncoder()],
                         expected_failed_checks=lambda estimator: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)
