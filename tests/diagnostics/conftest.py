"""Small CV reports whose diagnosis is known, shared by the diagnostics tests (built once)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from foldstack.exceptions import CandidateFailedWarning
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.selection import cross_validate_candidates

# plain numeric inputs: the periodic embedding costs more than these tiny tests need
FAST = dict(numeric_embedding=None)
# These tables are under 1,024 rows, where early_stopping="auto" trains without a validation
# split; the epoch-curve tests need the validation loss, so they ask for one.
VALIDATED = dict(early_stopping=True, **FAST)


def _cv(candidates, X, y):
    return cross_validate_candidates(candidates, X, y, cv=5, random_state=0, verbose=0)


@pytest.fixture(scope="session")
def moons():
    return make_moons(200, noise=0.3, random_state=0)


@pytest.fixture(scope="session")
def moons_report(moons):
    """Non-linear binary problem: a stump, a forest, a linear model and three small MLPs.

    ``mlp_3_epochs`` (the last step of a Pipeline) stops long before converging, ``mlp_huge_lr`` uses lr=50 with Adam (its
    losses jump around), ``mlp_diverges`` uses lr=50 with plain SGD (its loss becomes NaN).
    """
    small = dict(width=16, depth=2, batch_size=32, dropout=0.0, augmentation=None, **VALIDATED)
    candidates = {
        "stump": DecisionTreeClassifier(max_depth=1),
        "forest": RandomForestClassifier(n_estimators=30, min_samples_leaf=5),
        "logreg": LogisticRegression(),
        "mlp_3_epochs": Pipeline([("scale", StandardScaler()),
                                  ("mlp", TabularMLPClassifier(max_epochs=3, lr=2e-3, **small))]),
        "mlp_huge_lr": TabularMLPClassifier(lr=50.0, lr_schedule="none", max_epochs=20,
                                            **small),
        "mlp_diverges": TabularMLPClassifier(lr=50.0, optimizer="sgd", lr_schedule="none",
                                             max_epochs=5, **small),
    }
    with pytest.warns(CandidateFailedWarning, match="mlp_diverges"):
        return _cv(candidates, *moons)


@pytest.fixture(scope="session")
def noisy_report():
    """120 rows, 10 features, 20 % flipped labels: models that memorize overfit."""
    X, y = make_classification(n_samples=120, n_features=10, n_informative=3, n_redundant=0,
                               flip_y=0.2, random_state=0)
    candidates = {
        "deep_tree": DecisionTreeClassifier(),
        "mlp_no_regularization": TabularMLPClassifier(
            width=64, depth=2, dropout=0.0, weight_decay=0.0, augmentation=None,
            early_stopping=False, max_epochs=40, lr=1e-2, lr_schedule="none", batch_size=32,
            **FAST),
    }
    return _cv(candidates, X, y)


@pytest.fixture(scope="session")
def linear_report():
    """A logistic problem: a regularized logistic regression is the right model."""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(300, 4))
    y = (X @ [1.5, -1.0, 0.5, 0.0] + rng.logistic(size=300) * 0.5 > 0).astype(int)
    candidates = {"logreg": LogisticRegression(C=1.0), "deep_tree": DecisionTreeClassifier(),
                  "stump": DecisionTreeClassifier(max_depth=1)}
    return _cv(candidates, X, y)


@pytest.fixture(scope="session")
def multiclass_report(small_multiclass):
    candidates = {"logreg": LogisticRegression(),
                  "tree": DecisionTreeClassifier(max_depth=3),
                  "mlp": TabularMLPClassifier(width=16, depth=1, max_epochs=8, batch_size=32,
                                              **VALIDATED)}
    return _cv(candidates, *small_multiclass)


@pytest.fixture(scope="session")
def regression_report(small_regression):
    candidates = {"ridge": Ridge(), "tree": DecisionTreeRegressor(max_depth=4),
                  "mlp": TabularMLPRegressor(width=16, depth=1, max_epochs=10, batch_size=32,
                                             **VALIDATED)}
    return _cv(candidates, *small_regression)
