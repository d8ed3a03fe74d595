"""The tabular networks' newer options: TabM ensembles (k), piecewise-linear embeddings,
RealMLP's robust scaling, feature scaling, NTK parametrisation and betas, seed bagging and the
loss.  Each takes effect, clones, pickles and round-trips through foldstack's persistence."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import tabm
import torch
from sklearn.base import clone

from foldstack.exceptions import InvalidParameterError
from foldstack.models import TabularMLPClassifier, TabularMLPRegressor, _module
from foldstack.persist import load_model, save_model


def _outputs(est, X):
    """The module's raw outputs in eval mode: (n, k, n_out) for an ensemble."""
    x_num, x_cat = est.encoder_.transform(X)
    module = est.net_.module_.eval()
    with torch.no_grad():
        return module(torch.as_tensor(x_num), torch.as_tensor(x_cat)).double().numpy()


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------- k

def test_k_builds_a_tabm_ensemble_whose_members_are_averaged(tiny, mixed_frame,
                                                            binary_target):
    params = {**tiny, "depth": 2}
    plain = TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    ens = TabularMLPClassifier(**params, k=4).fit(mixed_frame, binary_target)
    layers = list(ens.net_.module_.body.layers)
    hidden = [m for m in layers if isinstance(m, tabm.LinearBatchEnsemble)]
    heads = [m for m in layers if isinstance(m, tabm.LinearEnsemble)]
    assert len(hidden) == 2 and len(heads) == 1
    # one shared weight matrix per layer; adapters r, s and biases per member; k heads
    assert hidden[1].weight.shape == (16, 16)
    assert hidden[1].r.shape == hidden[1].s.shape == hidden[1].bias.shape == (4, 16)
    assert heads[0].weight.shape == (4, 16, 2)
    members = _outputs(ens, mixed_frame)
    assert members.shape == (len(mixed_frame), 4, 2)
    assert not np.allclose(members[:, 0], members[:, 1])  # the members differ
    expected = _softmax(members).mean(axis=1)  # the mean of the members' probabilities
    np.testing.assert_allclose(ens.predict_proba(mixed_frame), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ens.predict_proba(mixed_frame), plain.predict_proba(mixed_frame))


def test_k_regression_averages_member_outputs(tiny, mixed_frame, regression_target):
    reg = TabularMLPRegressor(**tiny, k=3).fit(mixed_frame, regression_target)
    members = _outputs(reg, mixed_frame)
    assert members.shape == (len(mixed_frame), 3, 1)
    expected = members.mean(axis=1)[:, 0] * reg.y_scale_[0] + reg.y_mean_[0]
    np.testing.assert_allclose(reg.predict(mixed_frame), expected, rtol=1e-5)


def test_k_1_is_the_plain_network(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny, k=1).fit(mixed_frame, binary_target)
    names = [n for n, _ in clf.net_.module_.body.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"]
    assert not any(isinstance(m, (tabm.LinearBatchEnsemble, tabm.LinearEnsemble))
                   for m in clf.net_.module_.modules())
    default = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    np.testing.assert_array_equal(clf.predict_proba(mixed_frame),
                                  default.predict_proba(mixed_frame))


def test_ensemble_training_loss_is_the_mean_over_members():
    from foldstack.models._training import TabularNet

    net = TabularNet(module=_module.TabularNetwork, criterion=torch.nn.CrossEntropyLoss,
                     module__n_num=3, module__cardinalities=[], module__n_out=2,
                     module__body_params={"hidden_layer_sizes": (4,), "k": 3})
    net.initialize()
    out = torch.randn(5, 3, 2)
    y = torch.tensor([0, 1, 1, 0, 1])
    per_member = [torch.nn.functional.cross_entropy(out[:, i], y) for i in range(3)]
    assert float(net._loss(out, y)) == pytest.approx(float(torch.stack(per_member).mean()))


# --------------------------------------------------------------------- piecewise-linear

def test_piecewise_linear_bins_come_from_the_training_rows(tiny, mixed_frame,
                                                          regression_target, monkeypatch):
    seen = []
    original = _module.piecewise_bins
    monkeypatch.setattr(_module, "piecewise_bins",
                        lambda x, n_bins: seen.append(np.array(x)) or original(x, n_bins))
    params = {**tiny, "numeric_embedding": "piecewise_linear", "validation_fraction": 0.25}
    reg = TabularMLPRegressor(**params).fit(mixed_frame, regression_target)
    (x_train,) = seen
    n = len(mixed_frame)
    assert x_train.shape == (n - round(0.25 * n), 3)   # 3 numeric columns, training rows only
    x_num, _ = reg.encoder_.transform(mixed_frame)
    all_rows = {float(v) for v in x_num[:, 0]}
    assert {float(v) for v in x_train[:, 0]} < all_rows  # a strict subset: validation left out
    module = reg.net_.module_
    assert module.piecewise is not None and module.n_piecewise == 3
    bins = reg.net_.get_params()["module__piecewise_bins"]
    assert bins[0][0] == pytest.approx(float(x_train[:, 0].min()))
    assert bins[0][-1] == pytest.approx(float(x_train[:, 0].max()))
    assert len(bins[0]) == 49   # 48 quantile bins of a continuous column
    assert module.n_in == 3 * 17 + x_num.shape[1] - 3 + sum(
        e.embedding_dim for e in module.embeddings)
    assert np.isfinite(reg.predict(mixed_frame)).all()


def test_piecewise_bins_handle_constant_and_binary_columns():
    x = np.column_stack([np.arange(10.0), np.ones(10), np.r_[np.zeros(5), np.ones(5)]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # one-bin columns are expected, not warned about
        bins = _module.piecewise_bins(x, 48)
    assert len(bins[0]) == 10 and bins[1] == [0.0, 2.0] and bins[2] == [0.0, 1.0]
    emb = _module.PiecewiseLinearEmbedding(bins, dim=4)
    assert emb(torch.as_tensor(x, dtype=torch.float32)).shape == (10, 3 * 5)


# --------------------------------------------------------------------- robust_smooth_clip

def test_robust_smooth_clip_is_bounded_by_the_clip(tiny, mixed_frame, binary_target):
    X = mixed_frame.assign(num=mixed_frame["num"] * 100, const=1.0)
    clf = TabularMLPClassifier(**{**tiny, "numeric_transform": "robust_smooth_clip",
                                  "max_epochs": 1}).fit(X, binary_target)
    assert clf.encoder_.numeric_transform == "robust_smooth_clip"
    extreme = X.head(3).assign(num=[1e9, -1e9, 0.0], const=[5.0, -7.0, 1.0])
    scaled, _ = clf.encoder_.transform(extreme)
    assert np.abs(scaled[:, :4]).max() <= 3.0             # x / sqrt(1 + (x/3)^2) -> +-3
    assert scaled[0, 0] == pytest.approx(3.0, rel=1e-4)
    np.testing.assert_array_equal(scaled[:, 3], 0.0)      # constant in training: always 0
    x_num, _ = clf.encoder_.transform(X)
    assert abs(float(np.median(x_num[:, 0]))) < 1e-6        # centred on the median


# --------------------------------------------------------- feature scaling, ntk and betas

def test_feature_scaling_is_a_trained_vector_of_ones(tiny, mixed_frame, binary_target):
    clf = TabularMLPClassifier(**tiny, feature_scaling=True).fit(mixed_frame, binary_target)
    module = clf.net_.module_
    scale = module.feature_scale
    assert isinstance(scale, torch.nn.Parameter) and scale.shape == (module.n_in,)
    assert any(p is scale for group in clf.net_.optimizer_.param_groups
               for p in group["params"])
    assert not torch.allclose(scale, torch.ones_like(scale))   # it moved from 1
    off = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    assert off.net_.module_.feature_scale is None


def test_ntk_parametrization_changes_the_initialisation():
    torch.manual_seed(0)
    standard = _module.MLP(n_in=400, n_out=2, hidden_layer_sizes=(300,))
    torch.manual_seed(0)
    ntk = _module.MLP(n_in=400, n_out=2, hidden_layer_sizes=(300,), parametrization="ntk")
    scales = [m for m in ntk.layers if isinstance(m, _module.InputScale)]
    assert [s.fan_in for s in scales] == [400, 300]
    w_std, w_ntk = standard.layers[0].weight.detach(), ntk.layers[1].weight.detach()
    assert float(w_ntk.std()) == pytest.approx(1.0, abs=0.02)          # N(0, 1)
    assert float(w_std.std()) < 0.05                                   # ~ 1 / sqrt(3 * 400)
    assert float(ntk.layers[1].bias.detach().std()) == pytest.approx(1.0, abs=0.2)
    assert torch.count_nonzero(ntk.layers[-1].bias) == 0               # output bias 0
    # the forward pass divides by sqrt(fan_in): pre-activations of unit scale
    x = torch.randn(256, 400)
    assert float((x @ w_ntk.T / 20.0).std()) == pytest.approx(1.0, abs=0.05)
    ens = _module.MLP(n_in=8, n_out=2, hidden_layer_sizes=(6,), k=3, parametrization="ntk")
    assert float(ens.layers[-1].weight.detach().abs().mean()) > 0.5   # N(0, 1) heads, not rsqrt-uniform
    assert ens(torch.randn(5, 8)).shape == (5, 3, 2)


def test_ntk_network_trains(tiny, mixed_frame, regression_target):
    params = {**tiny, "max_epochs": 20, "early_stopping": False}
    ntk = TabularMLPRegressor(**params, parametrization="ntk").fit(mixed_frame,
                                                                   regression_target)
    assert any(isinstance(m, _module.InputScale) for m in ntk.net_.module_.modules())
    assert ntk.history_[-1]["train_loss"] < ntk.history_[0]["train_loss"]


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_betas_reach_the_optimizer(tiny, mixed_frame, binary_target, optimizer):
    clf = TabularMLPClassifier(**{**tiny, "max_epochs": 1, "optimizer": optimizer},
                               betas=(0.9, 0.95)).fit(mixed_frame, binary_target)
    assert clf.net_.optimizer_.param_groups[0]["betas"] == (0.9, 0.95)
    default = TabularMLPClassifier(**{**tiny, "max_epochs": 1, "optimizer": optimizer})
    default.fit(mixed_frame, binary_target)
    assert default.net_.optimizer_.param_groups[0]["betas"] == (0.9, 0.999)


# ------------------------------------------------------------------------------ n_seeds

def test_n_seeds_trains_several_networks_and_averages_them(tiny, mixed_frame, binary_target):
    bag = TabularMLPClassifier(**{**tiny, "n_seeds": 3}).fit(mixed_frame, binary_target)
    assert len(bag.nets_) == 3 and bag.nets_[0] is bag.net_
    assert bag.history_ == [{k: v for k, v in row.items() if k != "batches"}
                            for row in bag.net_.history]
    weights = [next(n.module_.parameters()).detach() for n in bag.nets_]
    assert not torch.allclose(weights[0], weights[1])   # different seeds
    x_num, x_cat = bag.encoder_.transform(mixed_frame)
    X_t = (torch.as_tensor(x_num), torch.as_tensor(x_cat))
    each = [_softmax(n.predict_raw(X_t).double().numpy()) for n in bag.nets_]
    np.testing.assert_allclose(bag.predict_proba(mixed_frame), np.mean(each, axis=0),
                               rtol=1e-5, atol=1e-7)
    single = TabularMLPClassifier(**tiny).fit(mixed_frame, binary_target)
    np.testing.assert_array_equal(single.nets_[0].predict_raw(X_t).numpy(),
                                  bag.net_.predict_raw(X_t).numpy())  # the first seed is kept


def test_n_seeds_regression_mean(tiny, mixed_frame, regression_target):
    bag = TabularMLPRegressor(**{**tiny, "n_seeds": 2}).fit(mixed_frame, regression_target)
    x_num, x_cat = bag.encoder_.transform(mixed_frame)
    X_t = (torch.as_tensor(x_num), torch.as_tensor(x_cat))
    raw = np.mean([n.predict_raw(X_t).double().numpy()[:, 0] for n in bag.nets_], axis=0)
    np.testing.assert_allclose(bag.predict(mixed_frame), raw * bag.y_scale_[0] + bag.y_mean_[0],
                               rtol=1e-5, atol=1e-5)   # averaged in float32


# --------------------------------------------------------------------------------- loss

@pytest.fixture(scope="module")
def outliers():
    """y = 2 x0 + noise, with 10 of 200 targets shifted by +200."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(200, 2))
    clean = 2 * X[:, 0]
    y = clean + 0.1 * rng.normal(size=200)
    hit = rng.choice(200, 10, replace=False)
    y[hit] += 200.0
    keep = np.ones(200, bool)
    keep[hit] = False
    return X, y, clean, keep


def test_mae_and_huber_resist_outliers_in_y(outliers):
    X, y, clean, keep = outliers
    params = dict(width=16, depth=1, max_epochs=40, lr=1e-2, batch_size=32,
                  early_stopping=False, numeric_embedding=None, random_state=0)
    error = {}
    for loss in ("mse", "mae", "huber"):
        reg = TabularMLPRegressor(**params, loss=loss).fit(X, y)
        error[loss] = np.abs(reg.predict(X) - clean)[keep].mean()
    assert error["mae"] < 0.2 * error["mse"]
    assert error["huber"] < 0.5 * error["mse"]


def test_regression_losses_build_their_criterion_and_report_validation_loss(
        tiny, mixed_frame, regression_target):
    for loss, cls in (("mse", torch.nn.MSELoss), ("mae", torch.nn.L1Loss),
                      ("huber", torch.nn.HuberLoss)):
        reg = TabularMLPRegressor(**tiny, loss=loss, huber_delta=0.5).fit(mixed_frame,
                                                                          regression_target)
        assert type(reg.net_.criterion_) is cls
        assert all(np.isfinite(row["valid_loss"]) and "valid_score" in row
                   for row in reg.history_)
    assert reg.net_.criterion_.delta == 0.5


def test_focal_loss_trains_and_differs_from_cross_entropy(tiny, mixed_frame, binary_target):
    from foldstack.models._losses import FocalLoss

    params = {**tiny, "early_stopping": False}
    ce = TabularMLPClassifier(**params).fit(mixed_frame, binary_target)
    focal = TabularMLPClassifier(**params, loss="focal").fit(mixed_frame, binary_target)
    assert type(focal.net_.criterion_) is FocalLoss and focal.net_.criterion_.gamma == 2.0
    assert focal.history_[-1]["train_loss"] < focal.history_[0]["train_loss"]
    assert not np.allclose(focal.predict_proba(mixed_frame), ce.predict_proba(mixed_frame))
    assert focal.score(mixed_frame, binary_target) > 0.6
    weighted = TabularMLPClassifier(**{**params, "max_epochs": 1}, loss="focal",
                                    class_weight="balanced").fit(mixed_frame, binary_target)
    assert weighted.net_.criterion_.weight is not None   # class_weight is the alpha


def test_focal_loss_with_gamma_0_is_the_cross_entropy():
    from foldstack.models._losses import FocalLoss

    logits, y = torch.randn(20, 3), torch.randint(0, 3, (20,))
    weight = torch.tensor([1.0, 2.0, 0.5])
    for kwargs in ({}, {"weight": weight}):
        assert float(FocalLoss(0.0, **kwargs)(logits, y)) == pytest.approx(
            float(torch.nn.CrossEntropyLoss(**kwargs)(logits, y)), rel=1e-5)
    # gamma > 0 lowers the loss of confident, correct rows most
    confident = torch.tensor([[8.0, 0.0, 0.0]])
    target = torch.tensor([0])
    assert float(FocalLoss(2.0)(confident, target)) < 1e-3 * float(
        torch.nn.CrossEntropyLoss()(confident, target))


# ------------------------------------------------------- clone, pickle and persistence

_OPTIONS = [
    dict(k=3),
    dict(numeric_embedding="piecewise_linear"),
    dict(numeric_transform="robust_smooth_clip"),
    dict(feature_scaling=True),
    dict(parametrization="ntk", betas=(0.9, 0.95)),
    dict(n_seeds=2),
    dict(k=2, n_seeds=2, numeric_embedding="piecewise_linear", feature_scaling=True,
         parametrization="ntk", batch_norm=True),
]


@pytest.mark.parametrize("options", _OPTIONS, ids=lambda o: "-".join(map(str, o)))
def test_options_clone_pickle_and_persist(tiny, mixed_frame, binary_target, regression_target,
                                          options, tmp_path):
    params = {**tiny, "max_epochs": 2, **options}
    cases = [(TabularMLPClassifier(**params, loss="focal"), binary_target),
             (TabularMLPRegressor(**params, loss="huber"), regression_target)]
    for est, y in cases:
        assert clone(est).get_params() == est.get_params()
        est.fit(mixed_frame, y)
        expected = (est.predict_proba(mixed_frame) if hasattr(est, "predict_proba")
                    else est.predict(mixed_frame))
        unpickled = pickle.loads(pickle.dumps(est))
        path = save_model(est, tmp_path / type(est).__name__)
        assert not any(p.suffix == ".pkl" for p in path.iterdir())   # no pickle needed
        loaded = load_model(path)
        assert len(loaded.nets_) == len(est.nets_) and loaded.nets_[0] is loaded.net_
        for back in (unpickled, loaded):
            got = (back.predict_proba(mixed_frame) if hasattr(back, "predict_proba")
                   else back.predict(mixed_frame))
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------ invalid values

@pytest.mark.parametrize("cls, params, match", [
    (TabularMLPClassifier, {"k": 0}, r"`k` must be an int in the range \[1, inf\]; got 0"),
    (TabularMLPRegressor, {"k": 2.5}, r"`k` must be an int"),
    (TabularMLPRegressor, {"n_seeds": 0}, r"`n_seeds` must be an int in the range \[1"),
    (TabularMLPRegressor, {"loss": "focal"},
     r"`loss` must be one of 'huber', 'mae', 'mse'; got 'focal'"),
    (TabularMLPClassifier, {"loss": "mse"},
     r"`loss` must be one of 'cross_entropy', 'focal'; got 'mse'"),
    (TabularMLPClassifier, {"loss": "focall"}, r"Did you mean 'focal'\?"),
    (TabularMLPRegressor, {"huber_delta": 0.0}, r"`huber_delta` must be a float in the range "
                                                 r"\(0, inf\)"),
    (TabularMLPClassifier, {"focal_gamma": -1.0}, r"`focal_gamma` must be a float"),
    (TabularMLPRegressor, {"parametrization": "mup"},
     r"`parametrization` must be one of 'ntk', 'standard'"),
    (TabularMLPRegressor, {"numeric_embedding": "piecewise"},
     r"`numeric_embedding` must be .*'periodic', 'piecewise_linear'.*Did you mean"),
    (TabularMLPRegressor, {"numeric_transform": "robust_clip"},
     r"`numeric_transform` must be one of .*'robust_smooth_clip'"),
    (TabularMLPRegressor, {"feature_scaling": "yes"}, r"`feature_scaling` must be a bool"),
    (TabularMLPClassifier, {"betas": (0.9,)}, r"`betas` must be a tuple of two floats in "
                                              r"\[0, 1\)"),
    (TabularMLPClassifier, {"betas": (0.9, 1.0)}, r"`betas` must be a tuple of two floats"),
    (TabularMLPClassifier, {"betas": 0.9}, r"`betas` must be an instance of tuple"),
])
def test_invalid_values_name_the_parameter_and_the_allowed_values(
        mixed_frame, binary_target, cls, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        cls(**params).fit(mixed_frame, binary_target if cls is TabularMLPClassifier
                          else np.arange(len(mixed_frame), dtype=float))


class _Body(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.layer = torch.nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.layer(x)


@pytest.mark.parametrize("params", [{"k": 2}, {"parametrization": "ntk"}])
def test_ensemble_and_ntk_need_the_default_body(mixed_frame, binary_target, params):
    with pytest.raises(InvalidParameterError, match="default MLP body only"):
        TabularMLPClassifier(module=_Body, **params).fit(mixed_frame, binary_target)
