"""PyTorch modules of the tabular networks (imported only when a network is fitted).

A network is an input block (embeddings of the categorical codes concatenated with the numeric
matrix) followed by a body that maps ``n_in`` features to ``n_out`` outputs.  The default body is
:class:`MLP`; a user's own ``torch.nn.Module`` class can replace it (``module=`` of
``TabularMLPClassifier`` / ``TabularMLPRegressor``): it is built as
``module(n_in=..., n_out=..., **module_params)`` and called with one float tensor of shape
``(batch, n_in)``.

Options of the default body and the input block (see ``docs/mlp.md``):

- ``k > 1`` makes the MLP a TabM-style parameter-efficient ensemble (BatchEnsemble adapters,
  the ``tabm`` package): its output gains a member axis, ``(batch, k, n_out)``;
- ``parametrization="ntk"`` is RealMLP's neural tangent parametrisation of the linear layers;
- ``feature_scaling`` is RealMLP's learnable per-feature scale of the body's input;
- :class:`PiecewiseLinearEmbedding` embeds numeric columns on bins learned in ``fit``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
}


def embedding_dim(cardinality: int, max_dim: int) -> int:
    """Width of the embedding of a column with ``cardinality`` codes (fastai's rule, capped)."""
    return int(max(2, min(max_dim, round(1.6 * cardinality ** 0.56))))


class InputScale(nn.Module):
    """Multiply the input by a constant: the ``1 / sqrt(fan_in)`` of the NTK parametrisation.

    Scaling a linear layer's input scales its product with the weights the same way as
    scaling the weights (and their gradients), and it works unchanged in front of the
    ensemble layers of ``k > 1``, which replace ``nn.Linear`` but not this module.
    """

    def __init__(self, fan_in: int) -> None:
        super().__init__()
        self.fan_in = fan_in
        self.factor = 1.0 / math.sqrt(fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"fan_in={self.fan_in}"


class MLP(nn.Module):
    """Fully connected layers: ``[Linear -> (BatchNorm) -> activation -> (Dropout)] * depth``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer.
    activation : str
        A key of ``ACTIVATIONS``.
    batch_norm : bool
        Batch normalization after each hidden linear layer.
    dropout : float
        Dropout rate after each hidden layer (0 disables it).
    k : int, default=1
        Members of a TabM-style ensemble (Gorishniy et al. 2024).  With ``k > 1`` every
        hidden ``Linear`` becomes a ``tabm.LinearBatchEnsemble``: one weight matrix shared
        by the members, each member with its own multiplicative adapters ``r`` (input) and
        ``s`` (output) and its own bias (``r`` of the first layer random signs, the others
        ones, as in TabM); batch norms become per-member ``tabm.BatchNorm1dEnsemble``; the
        output layer becomes ``k`` independent heads (``tabm.LinearEnsemble``).  The input
        ``(batch, n_in)`` is viewed ``k`` times and the output is ``(batch, k, n_out)``.
    parametrization : {"standard", "ntk"}, default="standard"
        "ntk": RealMLP's neural tangent parametrisation: weights drawn from N(0, 1) and
        multiplied by ``1 / sqrt(fan_in)`` in the forward pass; hidden biases from N(0, 1),
        output biases 0 (RealMLP-TD-S's initialisation).
    """

    def __init__(self, n_in: int, n_out: int, hidden_layer_sizes: tuple = (256, 256),
                 activation: str = "relu", batch_norm: bool = False,
                 dropout: float = 0.0, k: int = 1,
                 parametrization: str = "standard") -> None:
        super().__init__()
        ntk = parametrization == "ntk"
        layers: list[nn.Module] = []
        width = n_in
        for size in hidden_layer_sizes:
            if ntk:
                layers.append(InputScale(width))
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:  # SELU keeps its self-normalization with alpha dropout
                layers.append(nn.AlphaDropout(dropout) if activation == "selu"
                              else nn.Dropout(dropout))
            width = size
        if ntk:
            layers.append(InputScale(width))
        layers.append(nn.Linear(width, n_out))
        self.layers = nn.Sequential(*layers)
        if activation == "selu":  # SELU's self-normalization assumes LeCun-normal weights
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")
                    nn.init.zeros_(layer.bias)
        self.k = int(k)
        if self.k > 1:
            _batch_ensemble_(self.layers, self.k)
        if ntk:
            _init_ntk_(self.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = getattr(self, "k", 1)  # MLPs pickled before TabM ensembles have no k
        if k > 1:  # k views of each row, no copy
            x = x.unsqueeze(1).expand(-1, k, -1)
        return self.layers(x)


def _batch_ensemble_(layers: nn.Sequential, k: int) -> None:
    """Turn the layers into a TabM ensemble of ``k`` members, in place (see :class:`MLP`).

    The shared weights and the members' biases start from the MLP's own initialisation
    (e.g. SELU's LeCun normal and zero biases), the same for every member as in TabM; the
    adapters and the ``k`` heads are initialised as in TabM.
    """
    import tabm

    *hidden, head = [m for m in layers if isinstance(m, nn.Linear)]
    initial = [(m.weight.detach().clone(), m.bias.detach().clone()) for m in hidden]
    for i, linear in enumerate(hidden):
        # TabM: random signs for the first r (so the members differ), ones everywhere else
        tabm.batchensemble_linear_layers_(
            layers, include=[linear], k=k,
            scaling_init=("random-signs", "ones") if i == 0 else "ones")
    tabm.ensemble_linear_layers_(layers, include=[head], k=k)
    tabm.ensemble_batchnorm1d_layers_(layers, k=k)
    ensembles = [m for m in layers if isinstance(m, tabm.LinearBatchEnsemble)]
    with torch.no_grad():
        for layer, (weight, bias) in zip(ensembles, initial):
            layer.weight.copy_(weight)
            layer.bias.copy_(bias.expand_as(layer.bias))


def _init_ntk_(layers: nn.Sequential) -> None:
    """NTK initialisation of every linear layer (plain or ensemble): N(0, 1) weights, N(0, 1)
    hidden biases and zero output biases."""
    import tabm

    linear = [m for m in layers
              if isinstance(m, (nn.Linear, tabm.LinearBatchEnsemble, tabm.LinearEnsemble))]
    with torch.no_grad():
        for i, layer in enumerate(linear):
            nn.init.normal_(layer.weight)
            if layer.bias is not None:
                if i == len(linear) - 1:
                    nn.init.zeros_(layer.bias)
                else:  # one draw shared by the members, as tabm does for its biases
                    layer.bias.copy_(torch.randn(layer.bias.shape[-1]).expand_as(layer.bias))


class PeriodicEmbedding(nn.Module):
    """Periodic embeddings of numeric columns (PLR, Gorishniy et al. 2022; RealMLP's PBLD).

    Each column ``x_j`` becomes ``[x_j, W_j cos(2 pi (f_j x_j + b_j))]``: ``n_frequencies``
    trainable frequencies ``f_j`` drawn from ``N(0, sigma^2)`` with phases ``b_j``, mapped by a
    per-column linear layer to ``dim`` features, the raw value kept beside them.
    """

    def __init__(self, n_features: int, n_frequencies: int = 16, dim: int = 4,
                 sigma: float = 0.1) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(sigma * torch.randn(n_features, n_frequencies))
        self.phases = nn.Parameter(torch.rand(n_features, n_frequencies))
        bound = n_frequencies ** -0.5
        self.weight = nn.Parameter(torch.empty(n_features, n_frequencies, dim).uniform_(
            -bound, bound))
        self.bias = nn.Parameter(torch.zeros(n_features, dim))
        self.out_features = n_features * (dim + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.cos(2 * torch.pi * (x.unsqueeze(-1) * self.frequencies + self.phases))
        emb = torch.einsum("bfk,fkd->bfd", z, self.weight) + self.bias
        return torch.cat([x.unsqueeze(-1), emb], dim=-1).flatten(1)


@contextlib.contextmanager
def _one_bin_is_fine() -> Iterator[None]:
    """Silence rtdl_num_embeddings' warning about a column with one bin (a binary or constant
    column): its encoding is then a min-max scaling, which is what such a column needs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*just two bin edges.*")
        yield


def piecewise_bins(x: np.ndarray, n_bins: int = 48) -> list[list[float]]:
    """Bin edges of each column of ``x`` (training rows) for :class:`PiecewiseLinearEmbedding`.

    Quantile bins from ``rtdl_num_embeddings.compute_bins`` (at most ``n_bins`` per column,
    fewer where quantiles coincide).  A column with a single value gets one bin around it,
    which ``rtdl_num_embeddings`` treats as a min-max scaling.  The edges are returned as
    plain floats, so the network's parameters stay plain data (foldstack's persistence
    rebuilds the module from them).
    """
    from rtdl_num_embeddings import compute_bins

    x = np.asarray(x, dtype=np.float32)
    out: list[list[float] | None] = [None] * x.shape[1]
    varied = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    n_bins = min(n_bins, len(x) - 1)
    if varied and n_bins >= 2:
        with _one_bin_is_fine():
            found = compute_bins(torch.as_tensor(x[:, varied]), n_bins)
        for j, edges in zip(varied, found):
            out[j] = edges.tolist()
    for j in range(x.shape[1]):
        if out[j] is None:  # constant (or too few rows to bin): one bin spanning the values
            lo, hi = float(x[:, j].min()), float(x[:, j].max())
            out[j] = [lo, hi] if hi > lo else [lo - 1.0, lo + 1.0]
    return out


class PiecewiseLinearEmbedding(nn.Module):
    """Piecewise-linear embeddings of numeric columns (PLE, Gorishniy et al. 2022).

    Each column ``x_j`` is encoded on its bins (learned from the training rows, see
    :func:`piecewise_bins`) as ``[1, ..., 1, (x - left) / width, 0, ..., 0]`` and mapped
    by a per-column linear layer to ``dim`` features (``rtdl_num_embeddings``'
    ``PiecewiseLinearEmbeddings``, version "B": a linear embedding plus the piecewise-linear
    part, which starts at zero); the raw value is kept beside them.
    """

    def __init__(self, bins: list, dim: int = 16) -> None:
        super().__init__()
        from rtdl_num_embeddings import PiecewiseLinearEmbeddings

        edges = [torch.as_tensor(b, dtype=torch.float32) for b in bins]
        with _one_bin_is_fine():
            self.embedding = PiecewiseLinearEmbeddings(edges, dim, activation=False,
                                                       version="B")
        self.out_features = len(bins) * (dim + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.unsqueeze(-1), self.embedding(x)], dim=-1).flatten(1)


class TabularNetwork(nn.Module):
    """Embed categorical codes, concatenate them with the numeric inputs, apply the body.

    Parameters
    ----------
    n_num : int
        Width of the numeric input matrix.
    cardinalities : list of int
        Number of codes of each embedded categorical column (code 0: rare or unknown).
    n_out : int
        Output width (classes, or regression targets).
    body : type of torch.nn.Module, default=MLP
        Built as ``body(n_in=n_num + embedding widths, n_out=n_out, **body_params)``.
    body_params : dict, default=None
        Extra keyword arguments of ``body``.
    max_embedding_dim : int, default=16
        Upper bound of each embedding's width.
    n_periodic : int, default=0
        The first ``n_periodic`` numeric columns get :class:`PeriodicEmbedding`.
    periodic_params : dict, default=None
        Keyword arguments of :class:`PeriodicEmbedding`.
    piecewise_bins : list of list of float, default=None
        Bin edges of the first ``len(piecewise_bins)`` numeric columns, which then get
        :class:`PiecewiseLinearEmbedding` (instead of periodic embeddings).
    piecewise_params : dict, default=None
        Keyword arguments of :class:`PiecewiseLinearEmbedding` (``dim``).
    feature_scaling : bool, default=False
        Multiply the body's input by a learnable per-feature vector initialised to 1
        (RealMLP's scaling layer).
    """

    def __init__(self, n_num: int, cardinalities: list, n_out: int, body: type = MLP,
                 body_params: dict | None = None, max_embedding_dim: int = 16,
                 n_periodic: int = 0, periodic_params: dict | None = None,
                 piecewise_bins: list | None = None, piecewise_params: dict | None = None,
                 feature_scaling: bool = False) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(card, embedding_dim(card, max_embedding_dim)) for card in cardinalities)
        self.n_periodic = n_periodic
        self.periodic = (PeriodicEmbedding(n_periodic, **(periodic_params or {}))
                         if n_periodic else None)
        width = n_num if self.periodic is None else (
            n_num - n_periodic + self.periodic.out_features)
        self.n_piecewise = len(piecewise_bins) if piecewise_bins else 0
        self.piecewise = (PiecewiseLinearEmbedding(piecewise_bins, **(piecewise_params or {}))
                          if self.n_piecewise else None)
        if self.piecewise is not None:
            width += self.piecewise.out_features - self.n_piecewise
        self.n_in = width + sum(e.embedding_dim for e in self.embeddings)
        # registered only when used, so that default networks keep their parameters
        self.feature_scale = (nn.Parameter(torch.ones(self.n_in)) if feature_scaling
                              else None)
        self.body = body(n_in=self.n_in, n_out=n_out, **(body_params or {}))

    def encode(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """The body's input: (embedded) numeric columns, then the embedded categorical codes."""
        # getattr: networks pickled before piecewise embeddings and feature scaling lack them
        piecewise, scale = getattr(self, "piecewise", None), getattr(self, "feature_scale", None)
        parts = [x_num]
        if self.periodic is not None:
            parts = [self.periodic(x_num[:, :self.n_periodic]), x_num[:, self.n_periodic:]]
        elif piecewise is not None:
            parts = [piecewise(x_num[:, :self.n_piecewise]), x_num[:, self.n_piecewise:]]
        parts += [emb(x_cat[:, j]) for j, emb in enumerate(self.embeddings)]
        h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return h if scale is None else h * scale

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        return self.body(self.encode(x_num, x_cat))
