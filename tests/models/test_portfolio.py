"""The shipped portfolio: it loads, it is what bench/portfolio.py selected, it builds."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foldstack as fs
from bench import portfolio as script
from foldstack.exceptions import InvalidParameterError
from foldstack.models._portfolio import portfolio_data

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_file_is_the_scripts_selection():
    data = json.loads((ROOT / "foldstack" / "models" / "portfolio.json").read_text())
    assert data == portfolio_data()
    steps = pd.read_csv(ROOT / "bench" / "results" / "portfolio_steps.csv")
    for task in ("binary", "multiclass", "regression"):
        entry = data["tasks"][task]
        selected = steps[steps["task"] == task].sort_values("step")
        assert [c["name"] for c in entry["configs"]] == selected["config"].tolist()
        for c in entry["configs"]:   # each configuration as the script defines it
            assert (c["family"], c["params"]) == (script.CONFIGS[c["name"]].family,
                                                  script.CONFIGS[c["name"]].params)
        assert entry["configs"][0]["name"] == "linear"      # the fast anchor
        assert entry["default_size"] == max(2, int(selected["within_default_cost"].sum()))


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_portfolio_builds_its_configurations_in_order(task):
    everything = fs.models.portfolio(task, random_state=3, size="all")
    names = [c["name"] for c in portfolio_data()["tasks"][task]["configs"]]
    assert list(everything) == names
    default = fs.models.portfolio(task)
    assert list(default) == names[:portfolio_data()["tasks"][task]["default_size"]]
    assert list(fs.models.portfolio(task, size=1)) == ["linear"]
    assert len(fs.models.portfolio(task, size=1000)) == len(names)
    for name, est in everything.items():   # every seeded configuration gets the seed
        seeds = {v for k, v in est.get_params().items() if k.endswith("random_state")
                 and not k.startswith("columns__")}
        # the linear models are deterministic (a ridge has no seed at all)
        assert seeds <= {3, None} and (name in ("linear", "linear_cv") or 3 in seeds), (
            name, seeds)


def test_portfolio_refuses_a_bad_size_or_task():
    with pytest.raises(InvalidParameterError, match="`size` must be"):
        fs.models.portfolio("binary", size=0)
    with pytest.raises(InvalidParameterError, match="task"):
        fs.models.portfolio("ranking")


def test_the_package_costs_are_the_scripts_cost_model():
    """The a-priori costs refit from the committed units (and the suite's shapes) as shipped."""
    units = script.unit_shapes(script._units(list(script.CONFIGS)))
    shipped, refit = portfolio_data()["costs"], script.cost_model(units)
    assert set(shipped) == set(refit)
    for name in refit:   # least squares: equal up to the last rounded digit on any BLAS
        assert shipped[name] == pytest.approx(refit[name], abs=2e-4), name
    assert portfolio_data()["cost_max_mcells"] == script.cost_max_mcells(units)


def test_expected_fold_seconds_knows_only_the_portfolios_own_configurations():
    everything = fs.models.portfolio("multiclass", size="all")
    costs = fs.models.expected_fold_seconds(everything, "multiclass", 3000, 12, n_classes=4)
    assert set(costs) == set(everything) and all(v > 0 for v in costs.values())
    bigger = fs.models.expected_fold_seconds(everything, "multiclass", 30000, 12, n_classes=4)
    assert all(bigger[n] > costs[n] for n in costs)
    changed = {"catboost": everything["catboost"].set_params(depth=10),   # not as configured
               "mine": everything["linear"],                               # not a config name
               "xgboost": everything["linear"]}                            # another class
    assert fs.models.expected_fold_seconds(changed, "multiclass", 3000, 12, n_classes=4) == {}


def test_expected_costs_follow_the_power_law_then_grow_with_the_cells():
    data = portfolio_data()
    a, b, c = data["costs"]["xgboost_depth4"]
    top = data["cost_max_mcells"]
    one = {"xgboost_depth4": fs.models.portfolio("binary", size="all")["xgboost_depth4"]}

    def expected(rows, columns):
        return fs.models.expected_fold_seconds(one, "binary", rows, columns)["xgboost_depth4"]

    small = expected(1000, 10)       # 0.01 Mcells, inside the fitted range
    assert small == pytest.approx(np.exp(a) * 0.01 ** b)
    at_top = np.exp(a) * top ** b
    assert expected(int(top * 1e6 * 10), 1) == pytest.approx(at_top * 10, rel=1e-6)
    with pytest.raises(InvalidParameterError, match="task"):
        fs.models.expected_fold_seconds(one, "ranking", 10, 10)
