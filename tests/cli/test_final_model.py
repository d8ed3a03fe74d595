"""The final model `foldstack cv` saves: members of weight zero are left out of it."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from foldstack.cli._finish import without_zero_weights


def _report(small_numeric_binary):
    X, y = small_numeric_binary
    cands = {"lr": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=2),
             "deep": DecisionTreeClassifier()}
    return X, fs.selection.cross_validate_candidates(cands, X, y, cv=3, verbose=0)


def test_zero_weight_members_are_left_out_and_predictions_unchanged(small_numeric_binary,
                                                                    tmp_path):
    X, report = _report(small_numeric_binary)
    ens = fs.ensemble.AveragingClassifier.from_report(report, weights=[0.7, 0.0, 0.3])
    small = without_zero_weights(ens)
    assert list(small.named_estimators_) == ["lr", "deep"]
    np.testing.assert_allclose(small.weights_, [0.7, 0.3])
    assert len(small.estimators_) == 2
    # the same sum without its zero terms: equal to the last bit or two
    np.testing.assert_allclose(small.predict_proba(X), ens.predict_proba(X), rtol=1e-12)
    assert len(ens.estimators_) == 3            # the ensemble itself is left as it was
    fs.persist.save_model(small, tmp_path / "m")
    np.testing.assert_array_equal(fs.persist.load_model(tmp_path / "m").predict_proba(X),
                                  small.predict_proba(X))


def test_models_without_zero_weights_come_back_as_they_are(small_numeric_binary):
    _, report = _report(small_numeric_binary)
    equal = fs.ensemble.AveragingClassifier.from_report(report)
    assert without_zero_weights(equal) is equal
    stacking = fs.ensemble.StackingClassifier.from_report(report)
    assert without_zero_weights(stacking) is stacking
    single = report.fold_average("lr")
    assert without_zero_weights(single) is single
