"""Remedies name the candidate's own parameters, in the documented order (no fitting).

Most tests read the text lines that diagnose shows (``remedies`` below renders the records);
the last ones read the records themselves.
"""

import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

from foldstack.diagnostics import Remedy
from foldstack.diagnostics import remedies as remedy_records
from foldstack.diagnostics._remedies import FAMILIES, render_lines
from foldstack.models import TabularMLPClassifier


def remedies(*args, **kwargs):
    """The remedies as the text lines diagnose shows."""
    return render_lines(remedy_records(*args, **kwargs))


def categories(lines):
    return [line.split(":")[0] for line in lines]


def test_variance_order_and_xgboost_parameters_in_a_pipeline():
    est = Pipeline([("scale", StandardScaler()), ("model", XGBClassifier(max_depth=8))])
    lines = remedies(est, "high_variance")
    assert categories(lines) == ["more data", "stronger regularization", "a simpler model",
                                 "tuning"]
    assert "lower model__max_depth from 8 (e.g. to 4)" in lines[1]
    assert "raise model__min_child_weight from 1" in lines[1]   # xgboost's default for None
    assert "lower model__n_estimators from 100" in lines[1]
    assert "model__max_depth" in lines[-1]


def test_bias_order_and_xgboost_defaults():
    lines = remedies(XGBClassifier(), "high_bias")
    assert categories(lines) == ["a bigger model", "longer or better optimization",
                                 "better features", "tuning"]
    assert "raise max_depth from 6 (e.g. to 8)" in lines[0]
    assert "raise n_estimators from 100 (e.g. to 200)" in lines[1]


def test_mlp_variance_names_dropout_weight_decay_and_early_stopping():
    mlp = TabularMLPClassifier(width=256, dropout=0.0, weight_decay=0.0, early_stopping=False,
                               augmentation=None)
    lines = remedies(mlp, "high_variance")
    text = "\n".join(lines)
    assert "set augmentation='noise' (now None)" in lines[0]
    mixup = TabularMLPClassifier(augmentation="mixup", augmentation_strength=0.2)
    assert "raise augmentation_strength from 0.2 (e.g. to 0.4)" in remedies(
        mixup, "high_variance")[0]
    assert "raise dropout from 0.0 (e.g. to 0.2)" in lines[1]
    assert "raise weight_decay from 0.0 (e.g. to 0.001)" in lines[1]
    assert "lower width from 256 (e.g. to 128)" in text
    assert "early stopping: set early_stopping=True (now False)" in text


def test_mlp_bias_names_capacity_and_epochs():
    mlp = TabularMLPClassifier(width=256, depth=3, max_epochs=3)
    lines = remedies(make_pipeline(StandardScaler(), mlp), "high_bias")
    assert "raise tabularmlpclassifier__width from 256 (e.g. to 512)" in lines[0]
    assert "raise tabularmlpclassifier__depth from 3 (e.g. to 4)" in lines[0]
    assert "raise tabularmlpclassifier__max_epochs from 3 (e.g. to 6)" in lines[1]


class _Body(torch.nn.Module):
    def __init__(self, n_in, n_out, hidden=8):
        super().__init__()
        self.net = torch.nn.Linear(n_in, n_out)


_ARCHITECTURE = ("dropout", "width", "depth", "hidden_layer_sizes", "activation", "batch_norm")


@pytest.mark.parametrize("verdict", ["high_variance", "high_bias", "high_bias_and_variance"])
def test_custom_module_remedies_name_module_params_not_the_default_architecture(verdict):
    # a user's module is built from module_params alone: dropout, width, depth... do nothing
    mlp = TabularMLPClassifier(module=_Body, module_params={"hidden": 6}, width=256, depth=3,
                               dropout=0.0, weight_decay=0.0, max_epochs=3,
                               early_stopping=False, augmentation=None)
    lines = remedies(make_pipeline(StandardScaler(), mlp), verdict,
                     findings=["overfitting", "underfitting"])
    text = "\n".join(lines)
    assert not any(f"tabularmlpclassifier__{p} " in text for p in _ARCHITECTURE)
    if verdict != "high_bias":
        assert ("a simpler model: regularize or simplify the custom module _Body through "
                "tabularmlpclassifier__module_params (now {'hidden': 6})") in lines
        assert "raise tabularmlpclassifier__weight_decay from 0.0" in text
        assert "set tabularmlpclassifier__early_stopping=True (now False)" in text
        assert "set tabularmlpclassifier__augmentation='noise' (now None)" in text
    if verdict != "high_variance":
        assert ("a bigger model: enlarge the custom module _Body through "
                "tabularmlpclassifier__module_params") in text
        assert "raise tabularmlpclassifier__max_epochs from 3 (e.g. to 6)" in text
    assert lines[-1] == ("tuning: search tabularmlpclassifier__weight_decay, "
                         "tabularmlpclassifier__lr, tabularmlpclassifier__module_params (with "
                         "a callable space) with fs.selection.tune on the same folds")


def test_both_lists_bias_remedies_first():
    lines = remedies(DecisionTreeClassifier(max_depth=3), "high_bias_and_variance")
    cats = categories(lines)
    assert cats.index("a bigger model") < cats.index("more data") < cats.index(
        "stronger regularization")


@pytest.mark.parametrize("est, verdict, expected", [
    (DecisionTreeClassifier(max_depth=1), "high_bias", "raise max_depth from 1 (e.g. to 2)"),
    (DecisionTreeClassifier(), "high_variance", "set max_depth=4 (now None)"),
    (DecisionTreeClassifier(max_depth=8), "high_variance", "lower max_depth from 8 (e.g. to 4)"),
    (RandomForestClassifier(), "high_variance", "raise min_samples_leaf from 1 (e.g. to 5)"),
    (RandomForestClassifier(n_estimators=50), "high_variance",
     "raise n_estimators from 50 (e.g. to 300)"),
    (LogisticRegression(C=10.0), "high_variance", "lower C from 10 (e.g. to 1)"),
    (LogisticRegression(), "high_bias", "raise C from 1 (e.g. to 10)"),
    (LogisticRegression(), "high_bias", "non-linear features"),
    (Ridge(alpha=1.0), "high_variance", "raise alpha from 1 (e.g. to 10)"),
    (KNeighborsClassifier(n_neighbors=3), "high_variance", "raise n_neighbors from 3"),
    (HistGradientBoostingClassifier(), "high_variance", "lower max_leaf_nodes from 31"),
    (TransformedTargetRegressor(regressor=Ridge(alpha=2.0)), "high_variance",
     "raise regressor__alpha from 2"),
])
def test_each_family_names_its_parameter(est, verdict, expected):
    assert expected in "\n".join(remedies(est, verdict))


def test_epoch_findings_lead_when_they_agree_with_the_verdict():
    mlp = TabularMLPClassifier(lr=50.0, max_epochs=3, dropout=0.1, grad_clip=None)
    lines = remedies(mlp, "high_bias", findings=["oscillating"])
    assert lines[0] == ("learning rate too high: lower lr from 50 (e.g. to 5); set "
                        "grad_clip=1.0 (now None)")
    lines = remedies(mlp, "high_bias", findings=["still_improving"])
    assert lines[0].startswith("train longer: raise max_epochs from 3 (e.g. to 6)")
    assert "raise max_epochs" not in "\n".join(lines[1:])     # not repeated further down
    # "train longer" would add variance: not offered for a high-variance verdict
    lines = remedies(mlp, "high_variance", findings=["still_improving"])
    assert not any(x.startswith("train longer") for x in lines)
    lines = remedies(mlp, "high_variance", findings=["overfitting"])
    assert lines[0].startswith("stop earlier / regularize: raise dropout from 0.1")


def test_failed_candidates():
    error = ("fold 0: TrainingDivergedError: TabularMLPClassifier: training diverged at "
             "epoch 1: the train loss became nan (lr=50).\n\nTraceback ...")
    lines = remedies(TabularMLPClassifier(lr=50.0), "failed", error=error)
    assert lines[0].startswith("learning rate too high (training diverged): lower lr from 50")
    assert lines[1].startswith("fix the error: fold 0: TrainingDivergedError")
    lines = remedies(LogisticRegression(), "failed", error="fold 2: ValueError: boom")
    assert lines == ["fix the error: fold 2: ValueError: boom"]


class _Custom(ClassifierMixin, BaseEstimator):
    def __init__(self, knob=1):
        self.knob = knob


@pytest.mark.parametrize("verdict", ["high_bias", "high_variance", "high_bias_and_variance",
                                     "good_fit", "unknown"])
def test_unknown_estimators_get_generic_remedies(verdict):
    lines = remedies(_Custom(), verdict)
    assert lines and lines[-1].startswith("tuning: search its main hyperparameters")


def test_ensembles_are_improved_through_their_members():
    lines = remedies(LogisticRegression(), "good_fit", kind="ensemble")
    assert any(x.startswith("members: add diverse candidates") for x in lines)
    assert not any(x.startswith("ensembles:") for x in lines)


def test_early_stopped_xgboost_is_not_told_to_change_its_rounds():
    from foldstack.models import TabularXGBClassifier

    stopped = remedies(TabularXGBClassifier(n_estimators=300), "high_variance")
    assert not any("n_estimators" in line for line in stopped)
    fixed = remedies(TabularXGBClassifier(n_estimators=300, early_stopping=False),
                     "high_variance")
    assert any("lower n_estimators from 300" in line for line in fixed)
    assert any("set early_stopping=True (now False)" in line for line in fixed)
    bias = remedies(TabularXGBClassifier(n_estimators=300), "high_bias")
    assert not any("n_estimators" in line for line in bias)


def test_a_remedy_is_a_record_of_one_move():
    est = Pipeline([("scale", StandardScaler()), ("model", DecisionTreeClassifier(max_depth=8))])
    found = remedy_records(est, "high_variance")
    assert all(isinstance(r, Remedy) for r in found)
    depth = next(r for r in found if r.param == "model__max_depth")
    assert depth == Remedy("stronger regularization", "lower", "model__max_depth", 8, 4,
                           "high_variance")
    assert depth.is_move and depth.key == ("model__max_depth", "lower")
    assert depth.text() == "lower model__max_depth from 8 (e.g. to 4)"
    assert str(depth) == "stronger regularization: lower model__max_depth from 8 (e.g. to 4)"
    more = found[0]
    assert (more.category, more.param, more.is_move) == ("more data", None, False)
    assert more.action.startswith("more training rows")
    assert found[-1].category == "tuning" and found[-1].reason == "high_variance"
    with pytest.raises(AttributeError):
        depth.suggested = 2                                  # frozen


def test_set_moves_show_the_new_value_as_code_and_none_defaults_resolve():
    assert str(Remedy("learning rate too high", "set", "grad_clip", None, 1.0)) == \
        "learning rate too high: set grad_clip=1.0 (now None)"
    # xgboost leaves max_depth None: the record holds the default it stands for
    depth = next(r for r in remedy_records(XGBClassifier(), "high_bias")
                 if r.param == "max_depth")
    assert (depth.action, depth.current, depth.suggested) == ("raise", 6, 8)


def test_render_lines_joins_one_category_per_line():
    found = [Remedy("a", "raise", "x", 1, 2), Remedy("a", "free text"),
             Remedy(None, "on its own"), Remedy("b", "set", "y", None, "z")]
    assert render_lines(found) == ["a: raise x from 1 (e.g. to 2); free text", "on its own",
                                   "b: set y='z' (now None)"]


def test_dedupe_compares_records_not_text():
    mlp = TabularMLPClassifier(lr=0.01, max_epochs=3, dropout=0.1)
    found = remedy_records(mlp, "high_bias_and_variance",
                           findings=["overfitting", "still_improving", "underfitting"])
    keys = [r.key for r in found]
    assert len(keys) == len(set(keys))
    # raised x3 for "train longer" and x10 for "learning rate too low": one move, the first
    lr = [r for r in found if r.param == "lr"]
    assert [(r.category, r.action, r.suggested) for r in lr] == [("train longer", "raise", 0.03)]
    # the epoch curves' dropout raise is not repeated under stronger regularization
    dropout = [r for r in found if r.param == "dropout" and r.action == "raise"]
    assert [(r.category, r.reason) for r in dropout] == [
        ("stop earlier / regularize", "epoch curves: overfitting")]
    # a parameter moved both ways (bias then variance) keeps both moves
    width = {r.action for r in found if r.param == "width"}
    assert width == {"raise", "lower"}


def test_the_learning_rate_has_one_remedy_path():
    # every family knob on the learning rate is the shared _learning_rate knob
    for family in FAMILIES:
        knobs = [k for kind in (family.variance, family.bias) for ks in kind.values()
                 for k in ks if k.param == family.lr]
        assert all(k.suggest.__qualname__.startswith("_learning_rate") for k in knobs), \
            family.name
    # so xgboost's None learning rate reads as its default on every path, and is lowered once
    xgb = XGBClassifier()
    found = remedy_records(xgb, "high_variance", findings=["diverged"])
    lr = [r for r in found if r.param == "learning_rate"]
    assert [(r.category, r.action, r.current, r.suggested, r.reason) for r in lr] == [
        ("learning rate too high", "lower", 0.3, 0.03, "epoch curves: diverged")]
    plain = [r for r in remedy_records(xgb, "high_variance") if r.param == "learning_rate"]
    assert [(r.category, r.suggested) for r in plain] == [("stronger regularization", 0.09)]
    failed = remedy_records(xgb, "failed", error="fold 0: loss became nan")
    assert (failed[0].param, failed[0].suggested, failed[0].reason) == (
        "learning_rate", 0.03, "failed: training diverged")
