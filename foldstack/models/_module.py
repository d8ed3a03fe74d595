"""PyTorch modules of the tabular networks (imported only when a network is fitted).

A network is an input block (embeddings of the categorical codes concatenated with the numeric
matrix) followed by a body that maps ``n_in`` features to ``n_out`` outputs.  The default body is
:class:`MLP`; a user's own ``torch.nn.Module`` class can replace it (``module=`` of
``TabularMLPClassifier`` / ``TabularMLPRegressor``): it is built as
``module(n_in=..., n_out=..., **module_params)`` and called with one float tensor of shape
``(batch, n_in)``.
"""

from __future__ import annotations

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
    """

    def __init__(self, n_in: int, n_out: int, hidden_layer_sizes: tuple = (256, 256),
                 activation: str = "relu", batch_norm: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:  # SELU keeps its self-normalization with alpha dropout
                layers.append(nn.AlphaDropout(dropout) if activation == "selu"
                              else nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_out))
        self.layers = nn.Sequential(*layers)
        if activation == "selu":  # SELU's self-normalization assumes LeCun-normal weights
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="linear")
                    nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


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
    """

    def __init__(self, n_num: int, cardinalities: list, n_out: int, body: type = MLP,
                 body_params: dict | None = None, max_embedding_dim: int = 16,
                 n_periodic: int = 0, periodic_params: dict | None = None) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(card, embedding_dim(card, max_embedding_dim)) for card in cardinalities)
        self.n_periodic = n_periodic
        self.periodic = (PeriodicEmbedding(n_periodic, **(periodic_params or {}))
                         if n_periodic else None)
        width = n_num if self.periodic is None else (
            n_num - n_periodic + self.periodic.out_features)
        self.n_in = width + sum(e.embedding_dim for e in self.embeddings)
        self.body = body(n_in=self.n_in, n_out=n_out, **(body_params or {}))

    def encode(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """The body's input: (embedded) numeric columns, then the embedded categorical codes."""
        parts = [x_num]
        if self.periodic is not None:
            parts = [self.periodic(x_num[:, :self.n_periodic]), x_num[:, self.n_periodic:]]
        parts += [emb(x_cat[:, j]) for j, emb in enumerate(self.embeddings)]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        return self.body(self.encode(x_num, x_cat))
