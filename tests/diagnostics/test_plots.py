"""Every plot renders for binary, multiclass and regression reports, with the right contents."""

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from foldstack.diagnostics import (
    diagnose,
    epoch_curves,
    learning_curve,
    plot_confusion_matrix,
    plot_correlation,
    plot_epoch_curves,
    plot_leaderboard,
    plot_learning_curve,
    plot_residuals,
    plot_roc_pr,
    plot_train_validation,
)
from foldstack.exceptions import InvalidParameterError

REPORTS = ["moons_report", "multiclass_report", "regression_report"]


def bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def labelled(ax, prefix):
    return [line for line in ax.get_lines() if line.get_label().startswith(prefix)]


def rendered(fig):
    png = fig.to_png()
    assert isinstance(fig, Figure) and png.startswith(b"\x89PNG") and len(png) > 5000
    assert fig._repr_png_().startswith(b"\x89PNG")
    return fig


@pytest.mark.parametrize("name", REPORTS)
def test_leaderboard(name, request):
    report = request.getfixturevalue(name)
    ax = rendered(plot_leaderboard(report)).axes[0]
    ok = report.leaderboard().query("status == 'ok'")
    (container,) = bars(ax)
    assert len(container) == len(ok)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(ok.index)
    assert ax.get_yticks()[0] == max(ax.get_yticks())            # the best on top
    widths = sorted(p.get_width() for p in container)
    np.testing.assert_allclose(widths, sorted(ok[f"mean_test_{report.primary}"]))
    assert report.primary in ax.get_xlabel() and "mean ± std" in ax.get_xlabel()
    assert len(labelled(ax, "dummy baseline")) == 1


@pytest.mark.parametrize("name", REPORTS)
def test_train_validation(name, request):
    report = request.getfixturevalue(name)
    diag = diagnose(report)
    ax = rendered(plot_train_validation(report, diagnosis=diag)).axes[0]
    ok = diag[diag["verdict"] != "failed"]
    train, val = bars(ax)
    assert len(train) == len(val) == len(ok)
    np.testing.assert_allclose([p.get_height() for p in train], ok["train"])
    np.testing.assert_allclose([p.get_height() for p in val], ok["validation"])
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [f"{n}\n{v.replace('_', ' ')}" for n, v in zip(ok.index, ok["verdict"])]
    assert report.primary in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == ["training", "validation"]


def test_learning_curve_plot(moons, moons_report):
    from sklearn.linear_model import LogisticRegression

    curve = learning_curve(LogisticRegression(), *moons, cv=moons_report.splits,
                           train_sizes=(0.5, 1.0))
    ax = rendered(plot_learning_curve(curve)).axes[0]
    train, val = labelled(ax, "training"), labelled(ax, "validation")
    assert len(train) == len(val) == 1 and len(val[0].get_xdata()) == 2
    np.testing.assert_allclose(val[0].get_ydata(), curve.summary()["mean_test"])
    assert ax.get_xlabel() == "training rows" and ax.get_ylabel() == "roc_auc"
    assert len(ax.collections) == 2                       # the two std bands
    with pytest.raises(InvalidParameterError, match="LearningCurve"):
        plot_learning_curve(curve.summary())


@pytest.mark.parametrize("name, candidate", [("moons_report", "mlp_3_epochs"),
                                             ("multiclass_report", "mlp"),
                                             ("regression_report", "mlp")])
def test_epoch_curves_plot(name, candidate, request):
    curves = epoch_curves(request.getfixturevalue(name), candidate)
    ax = rendered(plot_epoch_curves(curves)).axes[0]
    folds = curves["fold"].nunique()
    assert len(labelled(ax, "fold")) == 2 * folds          # training and validation per fold
    assert len(ax.collections) == folds                    # one best-epoch dot per fold
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_yscale() == "linear"


def test_epoch_curves_plot_of_a_diverging_run_uses_a_log_scale(moons_report):
    ax = plot_epoch_curves(epoch_curves(moons_report, "mlp_huge_lr")).axes[0]
    assert ax.get_yscale() == "log"
    with pytest.raises(InvalidParameterError, match="epoch_curves"):
        plot_epoch_curves(moons_report.leaderboard())


@pytest.mark.parametrize("name", ["moons_report", "multiclass_report"])
def test_confusion_matrix(name, request):
    report = request.getfixturevalue(name)
    fig = rendered(plot_confusion_matrix(report))
    ax, ax2 = fig.axes[:2]
    k = len(report.classes)
    best = report.best()
    pred = report.classes[report.oof[best].argmax(axis=1)]
    expected = confusion_matrix(report.y, pred, labels=report.classes)
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    assert len(ax.texts) == k * k
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert best in ax.get_title()
    metric_bars = bars(ax2)
    assert len(metric_bars) == 3 and all(len(c) == k for c in metric_bars)
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["precision", "recall", "F1"]


def test_roc_pr_binary(moons_report):
    roc, pr = rendered(plot_roc_pr(moons_report)).axes
    assert len(roc.get_lines()) == 2 and len(pr.get_lines()) == 2   # curve + chance/prevalence
    assert roc.get_xlabel() == "false positive rate" and pr.get_xlabel() == "recall"
    auc = moons_report.results[moons_report.best()].fold_scores()["roc_auc"].mean()
    label = roc.get_lines()[0].get_label()
    assert label.startswith("1 (AUC ") and abs(float(label[7:12]) - auc) < 0.03


def test_roc_pr_multiclass(multiclass_report):
    roc, pr = plot_roc_pr(multiclass_report, "logreg").axes
    k = len(multiclass_report.classes)
    assert len(roc.get_lines()) == k + 1 and len(pr.get_lines()) == k
    assert [line.get_label().split(" ")[0] for line in pr.get_lines()] == ["a", "b", "c"]


def test_residuals(regression_report):
    ax = rendered(plot_residuals(regression_report)).axes[0]
    (points,) = ax.collections
    assert len(points.get_offsets()) == len(regression_report.y)
    assert len(ax.get_lines()) == 1                                  # the zero line
    assert ax.get_xlabel() == "predicted (out-of-fold)"
    assert ax.get_ylabel() == "residual (true - predicted)"
    assert regression_report.best() in ax.get_title()


@pytest.mark.parametrize("name", REPORTS)
def test_correlation(name, request):
    report = request.getfixturevalue(name)
    fig = rendered(plot_correlation(report))
    ax = fig.axes[0]
    k = len(report.ok_names)
    np.testing.assert_allclose(ax.get_images()[0].get_array(), report.correlation())
    assert len(ax.texts) == k * k
    assert [t.get_text() for t in ax.get_yticklabels()] == list(report.ok_names)


def test_plots_refuse_the_wrong_task(moons_report, regression_report):
    with pytest.raises(InvalidParameterError, match="regression report"):
        plot_confusion_matrix(regression_report)
    with pytest.raises(InvalidParameterError, match="regression report"):
        plot_roc_pr(regression_report)
    with pytest.raises(InvalidParameterError, match="for regression reports"):
        plot_residuals(moons_report)
    with pytest.raises(InvalidParameterError, match="CVReport"):
        plot_leaderboard("report")


def test_no_pyplot_and_lazy_matplotlib():
    code = (
        "import sys, numpy as np\n"
        "import foldstack.diagnostics as D\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported by foldstack.diagnostics'\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from foldstack.selection import cross_validate_candidates\n"
        "rng = np.random.RandomState(0); X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0) * 1\n"
        "r = cross_validate_candidates({'lr': LogisticRegression()}, X, y, cv=3, verbose=0)\n"
        "D.plot_leaderboard(r).to_png(); D.plot_roc_pr(r).to_png()\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
