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
    """

    def __init__(self, n_num: int, cardinalities: list, n_out: int, body: type = MLP,
                 body_params: dict | None = None, max_embedding_dim: int = 16) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(card, embedding_dim(card, max_embedding_dim)) for card in cardinalities)
        self.n_in = n_num + sum(e.embedding_dim for e in self.embeddings)
        self.body = body(n_in=self.n_in, n_out=n_out, **(body_params or {}))

    def encode(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        """The body's input: numeric columns followed by the embedded categorical codes."""
        if not len(self.embeddings):
            return x_num
        parts = [x_num] + [emb(x_cat[:, j]) for j, emb in enumerate(self.embeddings)]
        return torch.cat(parts, dim=1)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        return self.body(self.encode(x_num, x_cat))
