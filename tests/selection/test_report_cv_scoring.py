"""A report's cv and scoring survive save / load, pickling and foldstack.persist as data."""

import json
import pickle
import shutil

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, recall_score
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    TimeSeriesSplit,
)
from sklearn.tree import DecisionTreeClassifier

import foldstack as fs
from foldstack.exceptions import DataError
from foldstack.persist import load_model, save_model
from foldstack.selection import CVReport
from foldstack.selection._report import SPLITTERS, splitter_data, splitter_from_data
from foldstack.selection._scoring import METRICS

CANDIDATES = {"logreg": LogisticRegression(),
              "tree": DecisionTreeClassifier(max_depth=2, random_state=0)}


def _cv(X, y, **kw):
    return fs.selection.cross_validate_candidates(CANDIDATES, X, y, verbose=0, **kw)


def _same_splitter(a, b):
    return type(a) is type(b) and splitter_data(a) == splitter_data(b)


@pytest.fixture(scope="module")
def groups(small_numeric_binary):
    return np.arange(len(small_numeric_binary[1])) % 6


@pytest.mark.parametrize("cv", [
    3, GroupKFold(3), RepeatedStratifiedKFold(n_splits=2, n_repeats=2, random_state=1),
    ShuffleSplit(3, test_size=0.25, random_state=0), TimeSeriesSplit(3),
], ids=lambda cv: type(cv).__name__)
def test_save_load_rebuilds_the_splitter(small_numeric_binary, groups, tmp_path, cv):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=cv, groups=groups if isinstance(cv, GroupKFold) else None)
    loaded = CVReport.load(report.save(tmp_path / "r"))
    assert type(loaded.cv) in SPLITTERS.values()
    assert _same_splitter(loaded.cv, report.cv)
    assert loaded.scoring == report.scoring


def test_int_cv_is_saved_as_the_stratified_splitter(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    path = _cv(X, y, cv=3, random_state=7).save(tmp_path / "r")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["cv"] == {"class": "StratifiedKFold",
                          "params": {"n_splits": 3, "shuffle": True, "random_state": 7}}
    assert CVReport.load(path).cv.random_state == 7


@pytest.mark.parametrize("make_cv", [
    lambda X, y, g: list(KFold(3).split(X)),   # index pairs
    lambda X, y, g: LeaveOneGroupOut(),         # a splitter outside the list
], ids=["pairs", "other splitter"])
def test_other_folds_load_as_the_splits(small_numeric_binary, tmp_path, make_cv):
    X, y = small_numeric_binary
    g = np.arange(len(y)) % 3
    report = _cv(X, y, cv=make_cv(X, y, g), groups=g)
    loaded = CVReport.load(report.save(tmp_path / "r"))
    assert loaded.cv is loaded.splits
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(loaded.cv, report.splits))


def test_scoring_round_trip_builtin_and_renamed(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=3, scoring={"ll": "neg_log_loss", "accuracy": "accuracy"})
    loaded = CVReport.load(report.save(tmp_path / "r"))
    assert [m.name for m in loaded.scoring] == ["ll", "accuracy"]
    assert loaded.scoring == report.scoring
    assert loaded.scoring[0].func is METRICS["log_loss"].func
    # and it scores another pass the same way
    again = _cv(X, y, cv=loaded.cv, scoring=loaded.scoring)
    assert np.allclose(again.scores["value"], report.scores["value"])


def test_custom_scorer_loads_as_none(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=3, scoring=["roc_auc", make_scorer(recall_score)])
    assert report.scoring[1].scorer is not None
    path = report.save(tmp_path / "r")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["scoring"] == [{"name": "roc_auc", "builtin": "roc_auc"},
                               {"name": "recall_score", "builtin": None}]
    loaded = CVReport.load(path)
    assert loaded.scoring is None
    assert loaded.metrics == report.metrics


def test_report_of_an_older_foldstack_loads(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    path = _cv(X, y, cv=3, scoring=["log_loss", "accuracy"]).save(tmp_path / "r")
    meta = json.loads((path / "meta.json").read_text())
    del meta["cv"], meta["scoring"]
    (path / "meta.json").write_text(json.dumps(meta))
    loaded = CVReport.load(path)
    assert loaded.cv is loaded.splits
    assert loaded.scoring == (METRICS["log_loss"], METRICS["accuracy"])


def test_older_report_with_a_custom_metric_name_has_no_scoring(small_numeric_binary, tmp_path):
    X, y = small_numeric_binary
    path = _cv(X, y, cv=3, scoring=["roc_auc", make_scorer(recall_score)]).save(tmp_path / "r")
    meta = json.loads((path / "meta.json").read_text())
    del meta["cv"], meta["scoring"]
    (path / "meta.json").write_text(json.dumps(meta))
    assert CVReport.load(path).scoring is None


@pytest.fixture(scope="module")
def saved(tmp_path_factory, small_numeric_binary):
    X, y = small_numeric_binary
    return _cv(X, y, cv=3).save(tmp_path_factory.mktemp("report") / "report")


def _meta(key, value):
    def change(meta):
        meta[key] = value
    return change


CRAFTED = {
    "cv class outside the list": _meta("cv", {"class": "PredefinedSplit",
                                               "params": {"test_fold": [0, 1]}}),
    "cv a dotted name": _meta("cv", {"class": "os.system", "params": {}}),
    "cv a subclass name": _meta("cv", {"class": "BaseCrossValidator", "params": {}}),
    "cv unknown parameter": _meta("cv", {"class": "KFold",
                                         "params": {"n_splits": 3, "cmd": "rm -rf /"}}),
    "cv parameter of another splitter": _meta("cv", {"class": "KFold",
                                                     "params": {"n_splits": 3, "gap": 1}}),
    "cv text n_splits": _meta("cv", {"class": "KFold", "params": {"n_splits": "3"}}),
    "cv bool n_splits": _meta("cv", {"class": "KFold", "params": {"n_splits": True}}),
    "cv random_state a table": _meta("cv", {"class": "KFold", "params": {
        "n_splits": 3, "shuffle": True, "random_state": {"$t": "pickle"}}}),
    "cv other number of folds": _meta("cv", {"class": "KFold", "params": {"n_splits": 5}}),
    "cv extra key": _meta("cv", {"class": "KFold", "params": {"n_splits": 3}, "x": 1}),
    "cv a string": _meta("cv", "KFold"),
    "cv a list": _meta("cv", ["KFold", 3]),
    "scoring a string": _meta("scoring", "roc_auc"),
}


def _scoring(change):
    def apply(meta):
        change(meta["scoring"])
    return apply


CRAFTED.update({
    "scoring unknown built-in": _scoring(lambda s: s[0].update(builtin="__import__")),
    "scoring built-in of another task": _scoring(lambda s: s[0].update(builtin="rmse")),
    "scoring name not the metric": _scoring(lambda s: s[0].update(name="other")),
    "scoring one metric short": _scoring(lambda s: s.pop()),
    "scoring builtin a number": _scoring(lambda s: s[0].update(builtin=3)),
    "scoring entry a list": _scoring(lambda s: s.__setitem__(0, ["roc_auc", "roc_auc"])),
    "scoring sign flipped": _scoring(lambda s: s[1].update(builtin="roc_auc")),
})


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_cv_or_scoring_is_refused(saved, tmp_path, name):
    path = tmp_path / "r"
    shutil.copytree(saved, path)
    meta = json.loads((path / "meta.json").read_text())
    CRAFTED[name](meta)
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="damaged"):
        CVReport.load(path)


def test_splitter_data_refuses_what_it_cannot_rebuild():
    class MyKFold(KFold):
        pass

    assert splitter_data(MyKFold(3)) is None                      # a subclass may differ
    assert splitter_data(KFold(3, shuffle=True,
                               random_state=np.random.RandomState(0))) is None
    assert splitter_data(LeaveOneGroupOut()) is None
    assert splitter_data(None) is None
    with pytest.raises(ValueError):
        splitter_from_data({"class": "KFold", "params": {"n_splits": 3}}, n_folds=4)


def test_pickle_and_persist_keep_cv_and_scoring(small_numeric_binary, groups, tmp_path):
    X, y = small_numeric_binary
    report = _cv(X, y, cv=GroupKFold(3), groups=groups, scoring={"ll": "log_loss"})
    for copy in (pickle.loads(pickle.dumps(report)),
                 load_model(save_model(report, tmp_path / "m"))):
        assert _same_splitter(copy.cv, report.cv)
        assert copy.scoring == report.scoring
    pairs = _cv(X, y, cv=list(KFold(3).split(X)))
    assert pickle.loads(pickle.dumps(pairs)).cv is not None


def test_saved_ensemble_keeps_its_report(small_numeric_binary, tmp_path):
    """A fitted ensemble holds its CVReport; foldstack.persist saves it without a pickle."""
    X, y = small_numeric_binary
    ens = fs.ensemble.StackingClassifier(list(CANDIDATES.items()), cv=3).fit(X, y)
    loaded = load_model(save_model(ens, tmp_path / "m"))
    assert _same_splitter(loaded.cv_report_.cv, ens.cv_report_.cv)
    assert loaded.cv_report_.scoring == ens.cv_report_.scoring
    assert np.allclose(loaded.predict_proba(X), ens.predict_proba(X))
