"""The one walk through wrappers to the final estimator (utils._estimators), both modes."""

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from foldstack.diagnostics._remedies import FAMILIES, family_of
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor
from foldstack.utils._estimators import final_estimator, wrapped_estimators


def _nested():
    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), Ridge()), func=np.log1p,
        inverse_func=np.expm1)


def test_parameter_walk_gives_the_set_params_prefix():
    prefix, final = final_estimator(_nested())
    assert prefix == "regressor__ridge__"
    assert isinstance(final, Ridge)
    est = _nested()
    est.set_params(**{prefix + "alpha": 3.0})
    assert final_estimator(est)[1].alpha == 3.0


def test_fitted_walk_reaches_the_trained_models():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.uniform(1, 2, size=40)
    est = GridSearchCV(_nested(), {"regressor__ridge__alpha": [1.0]}, cv=2).fit(X, y)
    path, final = final_estimator(est, fitted=True)
    assert path == "best_estimator___regressor___ridge__"
    assert isinstance(final, Ridge) and hasattr(final, "coef_")
    # the parameter walk reaches the (unfitted) template instead
    assert not hasattr(final_estimator(est)[1], "coef_")


def test_passthrough_last_step_stops_at_the_pipeline():
    pipe = Pipeline([("scale", StandardScaler()), ("model", "passthrough")])
    assert final_estimator(pipe) == ("", pipe)
    assert final_estimator(pipe, fitted=True) == ("", pipe)
    assert [p for p, _ in wrapped_estimators(Ridge())] == [""]


def test_mlp_family_is_recognised_by_the_public_classes():
    mlp = next(f for f in FAMILIES if f.name == "mlp")
    assert family_of(TabularMLPClassifier()) is mlp
    assert family_of(TabularMLPRegressor()) is mlp

    class MyMLP(TabularMLPRegressor):
        pass

    assert family_of(MyMLP()) is mlp
    assert family_of(Ridge()).name != "mlp"
