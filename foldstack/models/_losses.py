"""Training losses of the tabular networks beyond torch's own (imported only when one is fitted).

The estimators name their loss (``loss=``); :func:`criterion_spec` turns the name into the
torch class and keyword arguments that skorch builds the criterion from.  Every loss reduces
by the mean, so a TabM ensemble's loss (its rows repeated once per member) is the mean of the
members' losses.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): cross-entropy scaled by ``(1 - p_t) ** gamma``.

    Rows the network already classifies confidently (``p_t`` near 1) weigh little, so
    training concentrates on hard and minority-class rows.  ``weight`` is the per-class
    alpha; the weighted mean divides by the summed weights of the batch's rows, as torch's
    ``CrossEntropyLoss`` does, so ``gamma=0`` is exactly the (weighted) cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing exponent (>= 0).
    weight : Tensor of shape (n_classes,), default=None
        Class weights (alpha).
    label_smoothing : float, default=0.0
        As in ``torch.nn.CrossEntropyLoss``.
    """

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None,
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.gamma = float(gamma)
        self.label_smoothing = float(label_smoothing)
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits, target, weight=self.weight, reduction="none",
                             label_smoothing=self.label_smoothing)
        p_t = torch.log_softmax(logits, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1).exp()
        focal = (1.0 - p_t).clamp_min(0.0) ** self.gamma * ce
        if self.weight is None:
            return focal.mean()
        return focal.sum() / self.weight[target].sum().clamp_min(1e-12)


def criterion_spec(loss: str, **options: Any) -> tuple[type, dict]:
    """The torch criterion class and its keyword arguments for a foldstack loss name.

    ``options``: ``weight`` and ``label_smoothing`` (classification), ``gamma`` (focal),
    ``delta`` (huber).
    """
    if loss == "cross_entropy":
        return nn.CrossEntropyLoss, {k: v for k, v in options.items()
                                     if k in ("weight", "label_smoothing")}
    if loss == "focal":
        return FocalLoss, {k: v for k, v in options.items()
                           if k in ("weight", "label_smoothing", "gamma")}
    if loss == "mse":
        return nn.MSELoss, {}
    if loss == "mae":
        return nn.L1Loss, {}
    if loss == "huber":
        return nn.HuberLoss, {"delta": float(options.get("delta", 1.0))}
    raise ValueError(f"unknown loss {loss!r}")
