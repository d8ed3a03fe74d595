"""TabularMLPClassifier / TabularMLPRegressor: scikit-learn estimators that build a skorch net.

Constructors only store parameters; ``fit`` validates them, learns the preprocessing from the
training rows (:class:`~foldstack.models._preprocess.MLPInputEncoder`), and trains a
:class:`~foldstack.models._training.TabularNet`.  torch and skorch are imported inside ``fit``
and the predict methods, so constructing, cloning or grid-searching an estimator stays cheap.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import (
    assert_all_finite,
    check_consistent_length,
    check_random_state,
    column_or_1d,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted

from foldstack.exceptions import DataError, InvalidParameterError
from foldstack.models._docs import ATTRIBUTES_DOC, common_doc
from foldstack.models._preprocess import (
    NUMERIC_TRANSFORMS,
    MLPInputEncoder,
    _validated_frame,
    infer_column_types,
    raw_table_tags,
)
from foldstack.models._schedules import SCHEDULES
from foldstack.utils._deadline import time_is_up
from foldstack.utils._validation import Interval, Options, check_params

logger = logging.getLogger(__name__)

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "selu", "silu")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")
LR_SCHEDULES = tuple(SCHEDULES)  # the kinds, from the one table of schedules
AUGMENTATIONS = ("noise", "mixup")
NUMERIC_EMBEDDINGS = ("periodic", "piecewise_linear")
PARAMETRIZATIONS = ("standard", "ntk")
CLASSIFICATION_LOSSES = ("cross_entropy", "focal")
REGRESSION_LOSSES = ("mse", "mae", "huber")


def auto_batch_size(n_rows: int) -> int:
    """The batch size ``batch_size="auto"`` picks for ``n_rows`` training rows.

    Small tables get small batches (enough optimizer steps per epoch), 256 is the default for
    ordinary tables, and large tables get larger batches (fewer, cheaper steps per epoch).

    Examples
    --------
    >>> [auto_batch_size(n) for n in (200, 1000, 5000, 40000, 200000)]
    [32, 128, 256, 512, 1024]
    """
    if n_rows < 2048:
        return int(min(256, max(16, 2 ** math.floor(math.log2(max(1, n_rows) / 6)))))
    if n_rows < 32768:
        return 256
    return 512 if n_rows < 131072 else 1024


# The size threshold of the "auto" budget (the first default, kept as the "v1" preset) and of
# TabularXGB*'s early_stopping="auto".
SMALL_TABLE_ROWS = 1024


def auto_training_budget(n_rows: int) -> tuple[bool, int]:
    """``(early_stopping, max_epochs)`` that ``"auto"`` picks for ``n_rows`` rows.

    Tables under 1,024 rows train 300 epochs on every row (no validation split); larger ones
    hold out ``validation_fraction`` to stop early, within 100 epochs.  This was the first
    default (``mlp_preset("v1")``); on the development suite (``python -m bench.suite_mlp``:
    26 sets x 3 splits, CV on the training parts) early stopping within 100 epochs at every
    size scored better in CV (mean normalised score 0.83 vs 0.60) and fitted 4x faster, so the
    defaults are now ``early_stopping=True, max_epochs=100``.

    Examples
    --------
    >>> auto_training_budget(800), auto_training_budget(5000)
    ((False, 300), (True, 100))
    """
    return (False, 300) if n_rows < SMALL_TABLE_ROWS else (True, 100)


class _BaseTabularMLP(BaseEstimator):
    """Shared parameters, validation, preprocessing and training of the two estimators.

    Subclasses define ``_task``, ``_encode_target(y) -> (y_encoded, n_outputs)`` and
    ``_criterion(torch, y_encoded) -> (loss class, its keyword arguments)``.
    """

    _task = "classification"
    # settings of numeric_embedding="periodic" (scale of the initial frequencies: sigma)
    _periodic = {"n_frequencies": 16, "dim": 4, "sigma": 0.1}
    # numeric_embedding="piecewise_linear": at most 48 quantile bins per column, embedded in
    # 16 features (the defaults of TabM's reference setup)
    _piecewise = {"n_bins": 48, "dim": 16}
    _constraints = {
        "depth": [Interval(int, 0, None)],
        "width": [Interval(int, 1, None)],
        "hidden_layer_sizes": [None, tuple, list],
        "activation": [Options(*ACTIVATIONS)],
        "batch_norm": ["boolean"],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "module": [None, type],
        "module_params": [None, dict],
        "optimizer": [Options(*OPTIMIZERS)],
        "lr": [Interval(float, 0, None, closed="neither")],
        "momentum": [Interval(float, 0, 1, closed="left")],
        "weight_decay": [Interval(float, 0, None)],
        "lr_schedule": [Options(*LR_SCHEDULES)],
        "lr_schedule_params": [None, dict],
        "batch_size": [Options("auto"), Interval(int, 1, None)],
        "max_epochs": [Options("auto"), Interval(int, 1, None)],
        "early_stopping": [Options("auto"), "boolean"],
        "validation_fraction": [Interval(float, 0, 1, closed="neither")],
        "patience": [Interval(int, 1, None)],
        "grad_clip": [None, Interval(float, 0, None, closed="neither")],
        "augmentation": [None, Options(*AUGMENTATIONS)],
        "augmentation_strength": [Interval(float, 0, None, closed="neither")],
        "numeric_transform": [Options(*NUMERIC_TRANSFORMS)],
        "numeric_features": [None, list, tuple],
        "categorical_features": [None, list, tuple],
        "one_hot_max_categories": [Interval(int, 0, None)],
        "max_categories": [Interval(int, 1, None)],
        "min_frequency": [Interval(int, 1, None)],
        "max_embedding_dim": [Interval(int, 1, None)],
        "numeric_embedding": [None, Options(*NUMERIC_EMBEDDINGS)],
        "device": [Options("cpu", "cuda", "auto")],
        "random_state": ["random_state"],
        "verbose": [Interval(int, 0, None), "boolean"],
        "k": [Interval(int, 1, None)],
        "n_seeds": [Interval(int, 1, None)],
        "feature_scaling": ["boolean"],
        "parametrization": [Options(*PARAMETRIZATIONS)],
        "betas": [tuple, list],
    }

    # No defaults here: each subclass's __init__ declares the parameters and their defaults
    # (which differ: activation, augmentation), and get_params / clone read those.
    def __init__(self, *, depth, width, hidden_layer_sizes, activation, batch_norm, dropout,
                 module, module_params, optimizer, lr, momentum, weight_decay, lr_schedule,
                 lr_schedule_params, batch_size, max_epochs, early_stopping,
                 validation_fraction, patience, grad_clip, augmentation,
                 augmentation_strength, numeric_transform, numeric_features,
                 categorical_features, one_hot_max_categories, max_categories, min_frequency,
                 max_embedding_dim, numeric_embedding, device, random_state, verbose, k,
                 n_seeds, feature_scaling, parametrization, betas):
        self.depth = depth
        self.width = width
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.module = module
        self.module_params = module_params
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.lr_schedule_params = lr_schedule_params
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.grad_clip = grad_clip
        self.augmentation = augmentation
        self.augmentation_strength = augmentation_strength
        self.numeric_transform = numeric_transform
        self.numeric_features = numeric_features
        self.categorical_features = categorical_features
        self.one_hot_max_categories = one_hot_max_categories
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.max_embedding_dim = max_embedding_dim
        self.numeric_embedding = numeric_embedding
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.k = k
        self.n_seeds = n_seeds
        self.feature_scaling = feature_scaling
        self.parametrization = parametrization
        self.betas = betas

    # ------------------------------------------------------------------ fit

    def _check_more_params(self) -> None:
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        if sizes is not None and not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise InvalidParameterError(
                f"{owner}: `hidden_layer_sizes` must be a tuple of positive ints, e.g. "
                f"(256, 256); got {sizes!r}.")
        betas = self.betas
        if not (len(betas) == 2 and all(
                isinstance(b, (float, int, np.floating, np.integer)) and not isinstance(b, bool)
                and 0 <= b < 1 for b in betas)):
            raise InvalidParameterError(
                f"{owner}: `betas` must be a tuple of two floats in [0, 1), e.g. (0.9, 0.999) "
                f"or RealMLP's (0.9, 0.95); got {betas!r}.")
        if self.module is not None:
            import torch
            if not issubclass(self.module, torch.nn.Module):
                raise InvalidParameterError(
                    f"{owner}: `module` must be a torch.nn.Module subclass (the class, not an "
                    f"instance); got {self.module!r}.")
            # these rebuild the default MLP's layers; a user's module has none to rebuild
            for name, default in (("k", 1), ("parametrization", "standard")):
                if getattr(self, name) != default:
                    raise InvalidParameterError(
                        f"{owner}: `{name}={getattr(self, name)!r}` applies to the default MLP "
                        f"body only; with your own `module` leave it at {default!r}.")

    def _layer_sizes(self) -> tuple:
        if self.hidden_layer_sizes is not None:
            return tuple(int(s) for s in self.hidden_layer_sizes)
        return (int(self.width),) * int(self.depth)

    def fit(self, X: Any, y: Any) -> _BaseTabularMLP:
        """Learn the preprocessing and train the network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Numeric, categorical, object, string and bool columns; missing values allowed.
        y : array-like of shape (n_samples,)
            Target (class labels, or values; regressors also accept (n_samples, n_targets)).

        Returns
        -------
        self
        """
        check_params(self)
        self._check_more_params()
        frame = _validated_frame(self, X, reset=True)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        check_consistent_length(frame, y)
        y_enc, n_out = self._encode_target(y)
        if len(frame) < 2:
            raise DataError(f"{type(self).__name__} needs at least 2 rows to train; got "
                            f"{len(frame)} sample(s).")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.numeric_features_, self.categorical_features_ = infer_column_types(
            frame, self.numeric_features, self.categorical_features)
        self.encoder_ = MLPInputEncoder(
            self.numeric_features_, self.categorical_features_,
            numeric_transform=self.numeric_transform,
            one_hot_max_categories=self.one_hot_max_categories,
            max_categories=self.max_categories, min_frequency=self.min_frequency,
            random_state=seed).fit(frame)
        x_num, x_cat = self.encoder_.transform(frame)
        auto_stop, auto_epochs = auto_training_budget(len(frame))
        self.early_stopping_ = (auto_stop if self.early_stopping == "auto"
                                else bool(self.early_stopping))
        self.max_epochs_ = auto_epochs if self.max_epochs == "auto" else int(self.max_epochs)
        train, valid = self._split(len(frame), y_enc, rng)
        self._train(x_num, x_cat, y_enc, train, valid, n_out, seed)
        return self

    def _split(self, n: int, y_enc: np.ndarray, rng: np.random.RandomState
               ) -> tuple[np.ndarray, np.ndarray | None]:
        n_valid = int(round(self.validation_fraction * n))
        if not self.early_stopping_ or n_valid < 1 or n - n_valid < 2:
            return np.arange(n), None
        stratify = None
        if self._task == "classification":
            counts = np.bincount(y_enc)
            if counts.min() >= 2 and min(n_valid, n - n_valid) >= len(counts):
                stratify = y_enc
        train, valid = train_test_split(np.arange(n), test_size=n_valid, random_state=rng,
                                        stratify=stratify)
        return np.sort(train), np.sort(valid)

    def _train(self, x_num: np.ndarray, x_cat: np.ndarray, y_enc: np.ndarray,
               train: np.ndarray, valid: np.ndarray | None, n_out: int, seed: int) -> None:
        import torch

        from foldstack.models import _module, _training

        device = _training.resolve_device(self.device)
        batch_size = (auto_batch_size(len(train)) if self.batch_size == "auto"
                      else self.batch_size)
        steps = max(1, math.ceil(len(train) / min(batch_size, len(train))))
        has_valid = valid is not None
        if self.module is None:
            body, body_params = _module.MLP, {
                "hidden_layer_sizes": self._layer_sizes(),
                "activation": self.activation, "batch_norm": self.batch_norm,
                "dropout": self.dropout, "k": int(self.k),
                "parametrization": self.parametrization}
        else:
            body, body_params = self.module, dict(self.module_params or {})
        n_cont = self.encoder_.n_continuous_
        embedding = {
            "module__n_periodic": n_cont if self.numeric_embedding == "periodic" else 0,
            "module__periodic_params": dict(self._periodic)}
        if self.numeric_embedding == "piecewise_linear" and n_cont:
            # bins from the training rows only: the validation rows stay unseen
            embedding["module__piecewise_bins"] = _module.piecewise_bins(
                x_num[train, :n_cont], self._piecewise["n_bins"])
            embedding["module__piecewise_params"] = {"dim": self._piecewise["dim"]}
        if self.feature_scaling:
            embedding["module__feature_scaling"] = True
        optimizer, optimizer_kwargs = _training.optimizer_spec(self.optimizer, self.momentum)
        if self.optimizer in ("adam", "adamw"):
            optimizer_kwargs["betas"] = tuple(float(b) for b in self.betas)
        criterion, criterion_kwargs = self._criterion(torch, y_enc[train])
        y_dtype = torch.long if self._task == "classification" else torch.float32

        def tensors(rows: np.ndarray) -> tuple[tuple, Any]:
            return ((torch.as_tensor(x_num[rows], device=device),
                     torch.as_tensor(x_cat[rows], device=device)),
                    torch.as_tensor(y_enc[rows], dtype=y_dtype, device=device))

        X_train, y_train = tensors(train)
        X_valid, y_valid = tensors(valid) if has_valid else (None, None)
        cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
        # seed bagging: the first network keeps the fit's seed (n_seeds=1 is the plain fit)
        seeds = [seed] + [int(s) for s in
                          np.random.SeedSequence(seed).generate_state(self.n_seeds - 1)]
        # small steps train on one thread (see _training.SMALL_STEP); k members widen a step
        widest = max(body_params.get("hidden_layer_sizes") or [self.width]) * int(self.k)
        with _training.step_threads(device, min(batch_size, len(train)), widest):
            nets = []
            for i, net_seed in enumerate(seeds):
                if i and time_is_up():  # a time limit: the networks trained so far
                    break
                net = _training.TabularNet(
                    module=_module.TabularNetwork, criterion=criterion, optimizer=optimizer,
                    lr=self.lr, max_epochs=self.max_epochs_, batch_size=batch_size,
                    train_split=None, callbacks=self._callbacks(has_valid, steps), device=device,
                    verbose=0, task=self._task, grad_clip=self.grad_clip,
                    augmentation=self.augmentation,
                    augmentation_strength=self.augmentation_strength, seed=net_seed,
                    # one learning curve per fit for tune's pruner: the first network's
                    report=i == 0,
                    module__n_num=self.encoder_.n_num_,
                    module__cardinalities=list(self.encoder_.cardinalities_), module__n_out=n_out,
                    module__body=body, module__body_params=body_params,
                    module__max_embedding_dim=self.max_embedding_dim, **embedding,
                    optimizer__weight_decay=self.weight_decay,
                    **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
                    **{f"criterion__{k}": v for k, v in criterion_kwargs.items()})
                with torch.random.fork_rng(devices=cuda):
                    torch.manual_seed(net_seed)
                    net.initialize()
                    net.partial_fit(X_train, y_train, X_valid=X_valid, y_valid=y_valid)
                nets.append(net)
        # the first network's record: diagnostics read net_, history_ and best_epoch_
        net = nets[0]
        self.net_ = net
        self.nets_ = nets
        self.device_ = device
        self.history_ = [{k: v for k, v in row.items() if k != "batches"}
                         for row in net.history]
        self.n_epochs_ = len(self.history_)
        stopper = dict(net.callbacks_).get("early_stopping")
        self.best_epoch_ = (stopper.best_epoch_ if stopper is not None and stopper.best_epoch_
                            else self.n_epochs_)
        logger.debug("%s: %d epochs on %d rows (batch %d, %s), kept epoch %d, %d network(s)",
                     type(self).__name__, self.n_epochs_, len(train), batch_size, device,
                     self.best_epoch_, len(nets))

    def _callbacks(self, has_valid: bool, steps: int) -> list:
        """Fresh callbacks for one network (they hold per-run state: best weights, waits)."""
        from foldstack.models import _callbacks

        callbacks = [("divergence", _callbacks.DivergenceCheck(type(self).__name__))]
        if has_valid:
            callbacks.append(("early_stopping", _callbacks.EarlyStopping(self.patience)))
        if self.lr_schedule != "none":
            callbacks.append(("lr_schedule", _callbacks.LRSchedule(
                self.lr_schedule, self.lr_schedule_params, max_epochs=self.max_epochs_,
                steps_per_epoch=steps, monitor="valid_loss" if has_valid else "train_loss")))
        if self.verbose:
            callbacks.append(("print", _callbacks.PrintEpochs()))
        return callbacks

    # ------------------------------------------------------------------ predict

    def _raw_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        import torch

        from foldstack.models._training import average_members

        frame = _validated_frame(self, X, reset=False)
        x_num, x_cat = self.encoder_.transform(frame)
        X_t = (torch.as_tensor(x_num, device=self.device_),
               torch.as_tensor(x_cat, device=self.device_))
        nets = getattr(self, "nets_", None) or [self.net_]  # fitted before seed bagging
        outs = [net.predict_raw(X_t) for net in nets]
        out = outs[0] if len(outs) == 1 else average_members(torch.stack(outs, dim=1),
                                                             self._task)
        return out.double().cpu().numpy()

    def __sklearn_tags__(self):
        return raw_table_tags(super().__sklearn_tags__())


class TabularMLPClassifier(ClassifierMixin, _BaseTabularMLP):
    __doc__ = ("""Multi-layer perceptron classifier for tables, trained with skorch.
""" + common_doc("silu", '"mixup"', "0.1",
                  "Mixup keeps probabilities calibrated (log loss) on small tables.")
       + """    class_weight : "balanced" or dict, default=None
        Weights of the classes in the loss ("balanced": inverse class frequencies).
    label_smoothing : float, default=0.0
        Label smoothing of the loss (it raises log loss; off by default).
    loss : {"cross_entropy", "focal"}, default="cross_entropy"
        The training loss (also the validation loss that early stopping watches).  "focal":
        the focal loss (Lin et al. 2017), the cross-entropy scaled by
        ``(1 - p_true) ** focal_gamma``, which down-weights rows already classified
        confidently; ``class_weight`` is its per-class alpha.
    focal_gamma : float, default=2.0
        The focal loss's exponent (0 gives the cross-entropy).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
""" + ATTRIBUTES_DOC.format(score="accuracy") + """
    See Also
    --------
    TabularMLPRegressor : The same network for regression.

    Examples
    --------
    >>> import pandas as pd
    >>> from foldstack.models import TabularMLPClassifier
    >>> X = pd.DataFrame({"age": [22, 35, None, 51] * 10,
    ...                   "plan": ["a", "b", "a", None] * 10})
    >>> y = [0, 1, 0, 1] * 10
    >>> clf = TabularMLPClassifier(width=16, depth=1, max_epochs=5, random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (40, 2)

    Your own network body (built with the preprocessed input width and the output width):

    >>> import torch
    >>> class TwoLayer(torch.nn.Module):
    ...     def __init__(self, n_in, n_out, width=32):
    ...         super().__init__()
    ...         self.net = torch.nn.Sequential(torch.nn.Linear(n_in, width), torch.nn.ReLU(),
    ...                                        torch.nn.Linear(width, n_out))
    ...     def forward(self, x):
    ...         return self.net(x)
    >>> clf = TabularMLPClassifier(module=TwoLayer, module_params={"width": 8},
    ...                            max_epochs=3, random_state=0).fit(X, y)
    >>> clf.history_[0]["epoch"]
    1
    """)

    _constraints = {
        **_BaseTabularMLP._constraints,
        "class_weight": [None, Options("balanced"), dict],
        "label_smoothing": [Interval(float, 0, 1, closed="left")],
        "loss": [Options(*CLASSIFICATION_LOSSES)],
        "focal_gamma": [Interval(float, 0, None)],
    }

    def __init__(self, *, depth=3, width=128, hidden_layer_sizes=None, activation="silu",
                 batch_norm=False, dropout=0.1, module=None, module_params=None,
                 optimizer="adamw", lr=2e-3, momentum=0.9, weight_decay=1e-4,
                 lr_schedule="cosine", lr_schedule_params=None, batch_size="auto",
                 max_epochs=100, early_stopping=True, validation_fraction=0.1, patience=16,
                 grad_clip=None, augmentation="mixup", augmentation_strength=0.2,
                 numeric_transform="robust_smooth_clip", numeric_features=None,
                 categorical_features=None,
                 one_hot_max_categories=8, max_categories=512, min_frequency=3,
                 max_embedding_dim=16, numeric_embedding="piecewise_linear", device="cpu",
                 random_state=None, verbose=0, k=1, n_seeds=3, feature_scaling=False,
                 parametrization="standard", betas=(0.9, 0.999),
                 class_weight=None, label_smoothing=0.0, loss="cross_entropy",
                 focal_gamma=2.0):
        super().__init__(
            depth=depth, width=width, hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            batch_norm=batch_norm, dropout=dropout, module=module, module_params=module_params,
            optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay,
            lr_schedule=lr_schedule, lr_schedule_params=lr_schedule_params,
            batch_size=batch_size, max_epochs=max_epochs, early_stopping=early_stopping,
            validation_fraction=validation_fraction, patience=patience, grad_clip=grad_clip,
            augmentation=augmentation, augmentation_strength=augmentation_strength,
            numeric_transform=numeric_transform, numeric_features=numeric_features,
            categorical_features=categorical_features,
            one_hot_max_categories=one_hot_max_categories, max_categories=max_categories,
            min_frequency=min_frequency, max_embedding_dim=max_embedding_dim,
            numeric_embedding=numeric_embedding, device=device, random_state=random_state,
            verbose=verbose, k=k, n_seeds=n_seeds, feature_scaling=feature_scaling,
            parametrization=parametrization, betas=betas)
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.loss = loss
        self.focal_gamma = focal_gamma

    def _encode_target(self, y: Any) -> tuple[np.ndarray, int]:
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError(f"{type(self).__name__}: only one class is present in y "
                            f"({self.classes_[0]!r}); a classifier needs at least 2 classes.")
        return y_enc.astype(np.int64), len(self.classes_)

    def _criterion(self, torch: Any, y_enc: np.ndarray) -> tuple[Any, dict]:
        from foldstack.models._losses import criterion_spec

        kwargs: dict = {"label_smoothing": float(self.label_smoothing)}
        if self.class_weight == "balanced":
            counts = np.bincount(y_enc, minlength=len(self.classes_))
            weights = len(y_enc) / (len(self.classes_) * np.maximum(counts, 1))
        elif self.class_weight is not None:
            unknown = [k for k in self.class_weight if k not in set(self.classes_.tolist())]
            if unknown:
                raise InvalidParameterError(
                    f"{type(self).__name__}: `class_weight` names classes {unknown} that are "
                    f"not in y; the classes are {self.classes_.tolist()}.")
            weights = [float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()]
        if self.class_weight is not None:
            kwargs["weight"] = torch.as_tensor(weights, dtype=torch.float32)
        if self.loss == "focal":
            kwargs["gamma"] = float(self.focal_gamma)
        return criterion_spec(self.loss, **kwargs)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        logits = self._raw_predict(X)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        logits = self._raw_predict(X)
        return self.classes_[logits.argmax(axis=1)]


class TabularMLPRegressor(RegressorMixin, _BaseTabularMLP):
    __doc__ = ("""Multi-layer perceptron regressor for tables, trained with skorch.
""" + common_doc("gelu", "None", "0.3", "")
       + """    standardize_target : bool, default=True
        Train on ``(y - mean) / std`` of the training rows; predictions are mapped back.
    loss : {"mse", "mae", "huber"}, default="mse"
        The training loss (also the validation loss that early stopping watches): squared
        error, absolute error (predicts a conditional median: robust to outliers in y), or
        Huber (squared within ``huber_delta`` of the target, absolute beyond it).
    huber_delta : float, default=1.0
        Where the Huber loss turns linear, in units of the standardized target (target
        standard deviations) when ``standardize_target``, else of y.

    Attributes
    ----------
    n_outputs_ : int
""" + ATTRIBUTES_DOC.format(score="R²") + """
    See Also
    --------
    TabularMLPClassifier : The same network for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from foldstack.models import TabularMLPRegressor
    >>> X = np.random.RandomState(0).normal(size=(50, 3))
    >>> reg = TabularMLPRegressor(width=16, depth=1, max_epochs=5, random_state=0)
    >>> reg.fit(X, X[:, 0] * 2).predict(X).shape
    (50,)
    """)

    _task = "regression"
    _periodic = {"n_frequencies": 16, "dim": 4, "sigma": 0.3}  # smooth targets: wider scale
    _constraints = {**_BaseTabularMLP._constraints, "standardize_target": ["boolean"],
                    "loss": [Options(*REGRESSION_LOSSES)],
                    "huber_delta": [Interval(float, 0, None, closed="neither")]}

    def __init__(self, *, depth=3, width=128, hidden_layer_sizes=None, activation="gelu",
                 batch_norm=False, dropout=0.1, module=None, module_params=None,
                 optimizer="adamw", lr=2e-3, momentum=0.9, weight_decay=1e-4,
                 lr_schedule="cosine", lr_schedule_params=None, batch_size="auto",
                 max_epochs=100, early_stopping=True, validation_fraction=0.1, patience=16,
                 grad_clip=None, augmentation=None, augmentation_strength=0.2,
                 numeric_transform="robust_smooth_clip", numeric_features=None,
                 categorical_features=None,
                 one_hot_max_categories=8, max_categories=512, min_frequency=3,
                 max_embedding_dim=16, numeric_embedding="piecewise_linear", device="cpu",
                 random_state=None, verbose=0, k=1, n_seeds=3, feature_scaling=False,
                 parametrization="standard", betas=(0.9, 0.999),
                 standardize_target=True, loss="mse", huber_delta=1.0):
        super().__init__(
            depth=depth, width=width, hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            batch_norm=batch_norm, dropout=dropout, module=module, module_params=module_params,
            optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay,
            lr_schedule=lr_schedule, lr_schedule_params=lr_schedule_params,
            batch_size=batch_size, max_epochs=max_epochs, early_stopping=early_stopping,
            validation_fraction=validation_fraction, patience=patience, grad_clip=grad_clip,
            augmentation=augmentation, augmentation_strength=augmentation_strength,
            numeric_transform=numeric_transform, numeric_features=numeric_features,
            categorical_features=categorical_features,
            one_hot_max_categories=one_hot_max_categories, max_categories=max_categories,
            min_frequency=min_frequency, max_embedding_dim=max_embedding_dim,
            numeric_embedding=numeric_embedding, device=device, random_state=random_state,
            verbose=verbose, k=k, n_seeds=n_seeds, feature_scaling=feature_scaling,
            parametrization=parametrization, betas=betas)
        self.standardize_target = standardize_target
        self.loss = loss
        self.huber_delta = huber_delta

    def _encode_target(self, y: Any) -> tuple[np.ndarray, int]:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim > 2:
            raise DataError(f"y must be 1- or 2-dimensional; got shape {y.shape}.")
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        self.n_outputs_ = y2.shape[1]
        if self.standardize_target:
            self.y_mean_ = y2.mean(axis=0)
            std = y2.std(axis=0)
            self.y_scale_ = np.where(std > 0, std, 1.0)
        else:
            self.y_mean_, self.y_scale_ = np.zeros(y2.shape[1]), np.ones(y2.shape[1])
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32), y2.shape[1]

    def _criterion(self, torch: Any, y_enc: np.ndarray) -> tuple[Any, dict]:
        from foldstack.models._losses import criterion_spec

        return criterion_spec(self.loss, delta=float(self.huber_delta))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: shape (n_samples,), or (n_samples, n_targets) for a 2-D y."""
        out = self._raw_predict(X) * self.y_scale_ + self.y_mean_
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
