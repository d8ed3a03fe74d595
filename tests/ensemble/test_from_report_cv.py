"""from_report takes the report's own splitter and metrics; refits are the engine's fit."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, recall_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from foldstack.ensemble import AveragingClassifier, StackingClassifier
from foldstack.persist import load_model, save_model
from foldstack.selection import CVReport

CANDIDATES = {"logreg": LogisticRegression(),
              "tree": DecisionTreeClassifier(max_depth=2, random_state=0)}


def _cv(X, y, **kw):
    return fs.selection.cross_validate_candidates(CANDIDATES, X, y, verbose=0, **kw)


@pytest.fixture(scope="module")
def grouped(small_numeric_binary):
    X, y = small_numeric_binary
    groups = np.arange(len(y)) % 6
    return X, y, groups, _cv(X, y, cv=GroupKFold(3), groups=groups)


@pytest.mark.parametrize("cls", [StackingClassifier, AveragingClassifier])
def test_group_folds_reach_the_ensemble(grouped, cls):
    X, y, groups, report = grouped
    assert isinstance(report.cv, GroupKFold) and report.cv.n_splits == 3
    ens = cls.from_report(report)
    assert ens.cv is report.cv            # before: KFold(3), which mixes the groups
    assert isinstance(clone(ens).get_params()["cv"], GroupKFold)
    # a clone refits on group folds: the groups go to fit
    again = clone(ens).fit(X, y, groups=groups)
    assert all(np.array_equal(a, b) for (_, a), (_, b)
               in zip(again.cv_report_.splits, report.splits))
    with pytest.raises(ValueError, match="groups"):
        clone(ens).fit(X, y)


def test_default_folds_are_the_reports_stratified_splitter(small_numeric_binary):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=3, random_state=4)
    ens = StackingClassifier.from_report(report)
    assert isinstance(ens.cv, StratifiedKFold)
    assert (ens.cv.n_splits, ens.cv.shuffle, ens.cv.random_state) == (3, True, 4)
    assert ens.scoring is None            # the task's default metrics
    refit = clone(ens).fit(X, y)
    assert all(np.array_equal(a, b) for (_, a), (_, b)
               in zip(refit.cv_report_.splits, report.splits))


def test_index_pairs_stay_the_ensembles_folds(small_numeric_binary):
    X, y = small_numeric_binary
    pairs = list(KFold(3, shuffle=True, random_state=1).split(X))
    report = _cv(X, y, cv=pairs)
    ens = AveragingClassifier.from_report(report)
    assert ens.cv is report.splits
    twin = clone(ens)
    assert len(twin.get_params()["cv"]) == 3
    refit = twin.fit(X, y)                # the same rows: the same folds
    assert all(np.array_equal(a, b) for (_, a), (_, b)
               in zip(refit.cv_report_.splits, report.splits))


def test_scoring_is_the_reports_metrics(small_numeric_binary):
    X, y = small_numeric_binary
    named = _cv(X, y, cv=3, scoring=["log_loss", "accuracy"])
    assert StackingClassifier.from_report(named).scoring == ["log_loss", "accuracy"]
    renamed = _cv(X, y, cv=3, scoring={"ll": "neg_log_loss", "acc": "accuracy"})
    ens = AveragingClassifier.from_report(renamed)
    assert ens.scoring == {"ll": "log_loss", "acc": "accuracy"}
    # a renamed built-in is scored by the ensemble too (it was NaN when looked up by name)
    assert np.isfinite(ens.cv_score_)
    assert clone(ens).fit(X, y).cv_report_.scoring == renamed.scoring
    scorer = make_scorer(recall_score)
    custom = _cv(X, y, cv=3, scoring={"roc_auc": "roc_auc", "rec": scorer})
    assert AveragingClassifier.from_report(custom).scoring == {"roc_auc": "roc_auc",
                                                               "rec": scorer}


def test_loaded_report_without_scoring_falls_back_to_names(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=3, scoring=["roc_auc", make_scorer(recall_score)])
    loaded = CVReport.load(report.save(tmp_path / "r"))
    assert loaded.scoring is None
    assert StackingClassifier.from_report(loaded).scoring is None   # the scorer is gone


def test_ensemble_with_a_splitter_saves_without_pickle(grouped, tmp_path):
    X, _, _, report = grouped
    ens = StackingClassifier.from_report(report)
    for copy in (pickle.loads(pickle.dumps(ens)), load_model(save_model(ens, tmp_path / "m"))):
        assert isinstance(copy.cv, GroupKFold) and copy.cv.n_splits == 3
        assert np.allclose(copy.predict_proba(X), ens.predict_proba(X))


def test_refit_is_the_engines_fit_clone(small_numeric_binary, monkeypatch):
    from foldstack.ensemble import _base
    from foldstack.selection import _engine

    X, y = small_numeric_binary
    report = _cv(X, y, cv=3)
    calls = []

    def spy(estimator, X, y, seed, n_threads):
        calls.append(seed)
        return _engine.fit_clone(estimator, X, y, seed, n_threads)

    monkeypatch.setattr(_base, "fit_clone", spy)
    ens = AveragingClassifier.from_report(report, X=X, refit=True)
    assert len(calls) == 2
    assert all(len(m.models) == 1 for m in ens.estimators_)


def test_crafted_splitter_in_a_saved_ensemble_is_refused(grouped, tmp_path):
    from foldstack.exceptions import UnsafeModelError

    path = save_model(StackingClassifier.from_report(grouped[3]), tmp_path / "m")
    manifest = path / "manifest.json"
    text = manifest.read_text()
    assert '"GroupKFold"' in text
    manifest.write_text(text.replace('"GroupKFold"', '"PredefinedSplit"', 1))
    with pytest.raises(UnsafeModelError, match="splitters"):
        load_model(path)
