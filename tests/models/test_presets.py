"""Named parameter sets of the networks (``mlp_preset``)."""

import pytest
from sklearn.base import clone

from foldstack.exceptions import InvalidParameterError
from foldstack.models import MLP_PRESETS, TabularMLPClassifier, TabularMLPRegressor, mlp_preset


def test_v1_preset_spells_out_the_old_default():
    clf = TabularMLPClassifier(**mlp_preset("v1"))
    reg = TabularMLPRegressor(**mlp_preset("v1", "regression"))
    # the budget that trained small tables 300 epochs on every row
    assert (clf.early_stopping, clf.max_epochs) == ("auto", "auto")
    assert (clf.activation, clf.augmentation) == ("silu", "mixup")
    assert (reg.activation, reg.augmentation) == ("gelu", None)
    assert clone(clf).get_params() == clf.get_params()


def test_v1_preset_trains_small_tables_on_every_row(small_numeric_binary):
    X, y = small_numeric_binary
    params = {**mlp_preset("v1"), "width": 8, "depth": 1, "numeric_embedding": None}
    clf = TabularMLPClassifier(**params, random_state=0).fit(X, y)
    assert (clf.early_stopping_, clf.max_epochs_) == (False, 300)
    assert len(clf.history_) == 300


def test_preset_is_a_fresh_dict():
    mlp_preset("v1")["lr"] = 1.0
    assert mlp_preset("v1")["lr"] == 2e-3
    assert MLP_PRESETS == ("v1",)


@pytest.mark.parametrize("name, task, match", [
    ("v0", "classification", "unknown network preset 'v0'; choose one of 'v1'"),
    ("v1", "ranking", "task must be 'classification' or 'regression'"),
])
def test_preset_errors_name_the_choices(name, task, match):
    with pytest.raises(InvalidParameterError, match=match):
        mlp_preset(name, task)
