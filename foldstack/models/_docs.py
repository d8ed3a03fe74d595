"""The shared parts of the TabularMLPClassifier / TabularMLPRegressor docstrings.

The two estimators share most parameters; their docstrings are built from these templates
with the defaults that differ (activation, augmentation, periodic-embedding scale).
"""

_COMMON_DOC = """
    Preprocessing is learned in ``fit`` from the training rows only.  Numeric columns:
    median imputation with a missing-value indicator per column that had missing values,
    then ``numeric_transform``.  Categorical columns (bool, category, object and string
    columns, unless declared numeric): levels seen fewer than ``min_frequency`` times, beyond
    the ``max_categories`` most frequent, or unseen at predict time share one "other" code;
    columns with at most ``one_hot_max_categories`` levels are one-hot encoded, the others get
    learned embeddings.  Columns are matched by name at predict time, so their order may change.

    Training holds out an internal validation split (``validation_fraction``) for early
    stopping: after ``patience`` epochs without a lower validation loss it stops and restores
    the weights of the best epoch.  The defaults were chosen by cross-validation on the
    training parts of 26 data sets (``python -m bench.suite_mlp``); ``mlp_preset("v1")`` gives
    the earlier ones.  A training loss that
    becomes NaN or infinite raises :class:`~foldstack.exceptions.TrainingDivergedError` naming
    the epoch.  Ctrl-C stops training with ``KeyboardInterrupt``.

    Parameters
    ----------
    depth : int, default=3
        Number of hidden layers.
    width : int, default=128
        Units of each hidden layer.
    hidden_layer_sizes : tuple of int, default=None
        Width of each hidden layer, overriding ``depth`` and ``width`` (e.g. ``(512, 128)``).
    activation : {"relu", "leaky_relu", "gelu", "selu", "silu"}, default="<ACTIVATION>"
    batch_norm : bool, default=False
        Batch normalization after each hidden linear layer.
    dropout : float, default=0.1
        Dropout rate after each hidden layer.
    module : type of torch.nn.Module, default=None
        Your own network body, replacing the MLP (and its parameters above).  It is built
        as ``module(n_in=..., n_out=..., **module_params)`` where ``n_in`` is the preprocessed
        width (numeric columns, indicators, one-hot and embedding widths) and ``n_out`` the
        number of classes (logits) or targets, and is called with one float tensor of shape
        ``(batch, n_in)``.  Define the class at module level so fitted estimators pickle.
    module_params : dict, default=None
        Extra keyword arguments of ``module``.
    optimizer : {"sgd", "momentum", "nesterov", "adam", "adamw"}, default="adamw"
        ``"momentum"`` and ``"nesterov"`` are SGD with ``momentum``.
    lr : float, default=2e-3
        Learning rate (the peak rate of the "cosine" and "onecycle" schedules).
    momentum : float, default=0.9
        Momentum of the "momentum" and "nesterov" optimizers.
    weight_decay : float, default=1e-4
        L2 penalty (decoupled for "adamw").
    lr_schedule : {"none", "step", "exponential", "plateau", "cosine", "onecycle"}, \
default="cosine"
        "cosine" warms up linearly over the first 5 % of the steps of ``max_epochs`` epochs,
        then decays to 0; "onecycle" is torch's OneCycleLR; "step" multiplies the rate by 0.1
        every ``max_epochs // 3`` epochs; "exponential" by 0.95 each epoch; "plateau" halves
        it after 4 epochs without a lower validation loss.
    lr_schedule_params : dict, default=None
        Overrides of the schedule's settings: ``step_size``, ``gamma`` (step, exponential),
        ``factor``, ``patience`` (plateau), ``warmup``, ``min_lr_ratio`` (cosine), or any
        keyword of ``torch.optim.lr_scheduler.OneCycleLR``.
    batch_size : int or "auto", default="auto"
        "auto": for fewer than 2,048 training rows, rows / 6 rounded down to a power of two
        within 16-256 (enough steps per epoch on small tables); 256 up to 32,768 rows; 512 up
        to 131,072; then 1,024.  A batch larger than the data is the whole data.
    max_epochs : int or "auto", default=100
        "auto": 300 for tables under 1,024 rows, 100 otherwise (the first default's budget).
    early_stopping : bool or "auto", default=True
        True: hold out ``validation_fraction`` of the rows (stratified for classifiers) to stop
        early and pick the best epoch; False: train ``max_epochs`` epochs on all rows.  "auto":
        True from 1,024 rows up, False below (the first default, which trained small tables
        300 epochs on every row: worse in CV on the development suite, and 4x slower).
    validation_fraction : float, default=0.1
    patience : int, default=16
        Epochs without a lower validation loss before stopping.
    grad_clip : float, default=None
        Clip each step's gradient norm to this value.
    augmentation : {"noise", "mixup"}, default=<AUGMENTATION>
        "noise" adds Gaussian noise of std ``augmentation_strength`` to the preprocessed
        numeric inputs; "mixup" mixes pairs of embedded rows and their targets with weights
        drawn from Beta(``augmentation_strength``, ``augmentation_strength``).  <AUG_NOTE>
    augmentation_strength : float, default=0.2
    numeric_transform : {"robust", "standard", "quantile", "robust_smooth_clip"}, \
default="robust_smooth_clip"
        "quantile": a rank-based map to a normal distribution (quantiles of the training
        rows); "robust": center on the median, divide by the interquartile range (half the
        range where it is 0) and clip smoothly to about +-3 with ``x / sqrt(1 + (x/3)^2)``
        (RealMLP's scaling); "robust_smooth_clip": RealMLP-TD's exact recipe, the same except
        that a column constant in the training rows becomes 0 for every row; "standard":
        mean and standard deviation.
    numeric_features : list of str or int, default=None
        Columns to treat as numeric whatever their dtype; a non-number in them raises a
        :class:`~foldstack.exceptions.DataError` naming the column.  None: inferred.
    categorical_features : list of str or int, default=None
        Columns to treat as categorical whatever their dtype.  None: inferred.
    one_hot_max_categories : int, default=8
        Categorical columns with at most this many levels are one-hot encoded.
    max_categories : int, default=512
        At most this many levels per categorical column get their own code.
    min_frequency : int, default=3
        Levels seen fewer times in the training rows share the "other" code.
    max_embedding_dim : int, default=16
        Upper bound of each categorical embedding's width.
    numeric_embedding : {"periodic", "piecewise_linear"} or None, default="piecewise_linear"
        "periodic": each numeric column also gets trainable periodic features
        (``cos(2 pi (f x + b))``, 16 learned frequencies initialized with scale <SIGMA>,
        mapped to 4 features, as in RealMLP's PBLD embeddings); "piecewise_linear":
        piecewise-linear embeddings (Gorishniy et al. 2022) on at most 48 quantile bins per
        column, learned in ``fit`` from the training rows only (never the validation split),
        mapped to 16 features; None feeds the scaled values alone.  Both keep the scaled
        value beside its features.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        "auto" uses CUDA when a GPU is visible.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, the batch order, dropout and augmentation.
        Results are reproducible on CPU for a fixed int; the caller's global torch and numpy
        random states are left as they were.
    verbose : int, default=0
        Print one line per epoch when > 0.
    k : int, default=1
        TabM-style parameter-efficient ensemble (Gorishniy et al. 2024, BatchEnsemble) of
        ``k`` members sharing the MLP's weights: each hidden linear layer keeps one weight
        matrix, and each member has its own multiplicative adapters on the layer's input and
        output, its own biases and its own output layer.  Every row goes through all members;
        training minimizes the mean of the members' losses, and predictions average them
        (the mean of the members' probabilities, or of their values).  1: the plain MLP.
        Only for the default body (not with ``module``).
    n_seeds : int, default=3
        Seed bagging: train ``n_seeds`` networks with seeds derived from ``random_state`` (on
        the same validation split) and average their predictions (probabilities for
        classifiers).  3 (about 3x the time of 1) scored best in CV on the development suite
        within the time budget (mean normalised score 0.92 vs 0.88 with 1).  ``net_``, ``history_``, ``n_epochs_`` and ``best_epoch_`` describe the
        first network; ``nets_`` holds all of them.
    feature_scaling : bool, default=False
        Multiply the network's input features (after the embeddings) by a learnable vector
        initialized to 1 (RealMLP's scaling layer, which lets training weigh the features).
    parametrization : {"standard", "ntk"}, default="standard"
        "ntk": RealMLP's neural tangent parametrization of the MLP's linear layers: weights
        drawn from N(0, 1) and multiplied by ``1 / sqrt(fan_in)`` in the forward pass, hidden
        biases from N(0, 1) and output biases 0 (RealMLP-TD-S's initialization).  RealMLP
        pairs it with larger learning rates (e.g. ``lr=0.04``).  Only for the default body.
    betas : tuple of two floats in [0, 1), default=(0.9, 0.999)
        Adam's / AdamW's decay rates of the gradient's running mean and square (unused by
        the SGD optimizers); RealMLP uses (0.9, 0.95).
"""



def common_doc(activation: str, augmentation: str, sigma: str, aug_note: str) -> str:
    return (_COMMON_DOC.replace("<ACTIVATION>", activation)
            .replace("<AUGMENTATION>", augmentation).replace("<SIGMA>", sigma)
            .replace("  <AUG_NOTE>", f"  {aug_note}" if aug_note else ""))


ATTRIBUTES_DOC = """
    history_ : list of dict
        One dict per epoch with keys "epoch" (1-based), "train_loss", "lr" (at the epoch's
        end), "dur" (seconds), and when a validation split is used "valid_loss" and
        "valid_score" ({score}).  ``pandas.DataFrame(est.history_)`` gives epoch curves.
    best_epoch_ : int
        The epoch whose weights were kept (the last one without early stopping).
    n_epochs_ : int
        Epochs run.
    early_stopping_ : bool
        Whether a validation split was held out to stop early (``early_stopping`` resolved).
    max_epochs_ : int
        The epoch budget (``max_epochs`` resolved).
    net_ : foldstack.models._training.TabularNet
        The fitted skorch net (``net_.module_`` is the torch module); with ``n_seeds > 1``
        the first of ``nets_``.
    nets_ : list of foldstack.models._training.TabularNet
        The ``n_seeds`` fitted nets whose predictions are averaged.
    numeric_features_, categorical_features_ : list
        The column types used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
"""
