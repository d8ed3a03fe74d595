"""The skorch net that trains foldstack's tabular networks (imported only when one is fitted).

:class:`TabularNet` is a :class:`skorch.NeuralNet` whose epoch loop reads batches straight from
in-memory tensors (one shuffled index per epoch, no per-row ``Dataset.__getitem__`` and no
``DataLoader``), so skorch costs little over a hand-written loop.  skorch still builds the
module, criterion and optimizer from prefixed parameters, places them on the device, keeps the
history and runs the callbacks.  Two behaviours differ from skorch on purpose:

- ``partial_fit`` lets ``KeyboardInterrupt`` through (skorch swallows it and returns a
  half-trained net);
- training stops early through a flag (:meth:`TabularNet.request_stop`), set by
  :class:`~foldstack.models._callbacks.EarlyStopping`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet

from foldstack.utils._deadline import time_is_up
from foldstack.utils._epochs import report_epoch
from foldstack.utils._parallel import check_interrupt

_EVAL_BATCH = 8192


def optimizer_spec(name: str, momentum: float) -> tuple[type, dict]:
    """The torch optimizer class and its extra keyword arguments for a foldstack name."""
    opt = torch.optim
    return {
        "sgd": (opt.SGD, {}),
        "momentum": (opt.SGD, {"momentum": momentum}),
        "nesterov": (opt.SGD, {"momentum": momentum, "nesterov": True}),
        "adam": (opt.Adam, {}),
        "adamw": (opt.AdamW, {}),
    }[name]


def average_members(out: torch.Tensor, task: str) -> torch.Tensor:
    """Average the members on axis 1 of ``out`` (TabM members, or networks of seed bagging).

    Classification: the mean of the members' softmax probabilities, returned as
    log-probabilities (so a softmax of the result gives that mean, and a cross-entropy of it
    is the ensemble's log loss); regression: the mean of the outputs.
    """
    if task == "classification":
        return torch.logsumexp(torch.log_softmax(out, dim=-1), dim=1) - math.log(out.shape[1])
    return out.mean(dim=1)


# A training step whose batch x widest layer is below this runs on one CPU thread: its matrix
# products are too small to gain from more, and on a busy machine a thread that waits for a
# core makes every step wait.  bench/mlp_threads.py, 2 cores, 250-4,000 rows: idle, 2 threads
# took 0.99-1.00x the time of 1 per epoch; with one core kept busy 0.93-1.18x in one run and
# 3.8-5.4x in another (a shared machine's load varies; one thread never lost much).
SMALL_STEP = 65_536


@contextlib.contextmanager
def step_threads(device: str, batch_size: int, widest: int) -> Iterator[int]:
    """Run training on one torch thread when its steps are small (see ``SMALL_STEP``).

    Never raises the thread count a caller set (e.g. a CV task limited to its share of the
    cores); restores the previous count afterwards.  Yields the count in effect.
    """
    before = torch.get_num_threads()
    small = device == "cpu" and batch_size * widest < SMALL_STEP
    if not small or before == 1:
        yield before
        return
    torch.set_num_threads(1)
    try:
        yield 1
    finally:
        torch.set_num_threads(before)


def resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class TabularNet(NeuralNet):
    """A skorch net fitted on ``((x_num, x_cat), y)`` tensors with an in-memory batch loop.

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`skorch.NeuralNet`; ``module`` is called as ``module(x_num, x_cat)``.
    task : {"classification", "regression"}
        Picks the validation score: accuracy, or R² (averaged over outputs).
    grad_clip : float or None
        Clip the gradient norm of each step to this value.
    augmentation : {None, "noise", "mixup"}
        Gaussian noise of std ``augmentation_strength`` added to ``x_num``; or mixup of the
        embedded inputs and the targets with ``Beta(strength, strength)`` weights.
    augmentation_strength : float
    seed : int
        Seeds the batch order and the augmentation draws.
    report : bool
        Report each epoch to the active epoch reporter (tune's pruner); seed bagging reports
        its first network only, so that a trial has one learning curve.
    """

    def __init__(self, module: Any, criterion: Any, *, task: str = "classification",
                 grad_clip: float | None = None, augmentation: str | None = None,
                 augmentation_strength: float = 0.1, seed: int = 0, report: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(module, criterion, **kwargs)
        self.report = report
        self.task = task
        self.grad_clip = grad_clip
        self.augmentation = augmentation
        self.augmentation_strength = augmentation_strength
        self.seed = seed

    def get_default_callbacks(self) -> list:
        return []  # history is written by fit_loop; printing is PrintEpochs' job

    def request_stop(self) -> None:
        """Ask the epoch loop to stop after the current epoch (used by early stopping)."""
        self.stop_requested_ = True

    def partial_fit(self, X: Any, y: Any = None, classes: Any = None,
                    **fit_params: Any) -> TabularNet:
        """Train; unlike skorch, a ``KeyboardInterrupt`` (Ctrl-C) propagates."""
        fit_params.pop("_routing_method", None)
        if not self.initialized_:
            self.initialize()
        self.notify("on_train_begin", X=X, y=y)
        self.fit_loop(X, y, **fit_params)
        self.notify("on_train_end", X=X, y=y)
        return self

    def fit_loop(self, X: Any, y: Any = None, epochs: int | None = None, *,
                 X_valid: Any = None, y_valid: Any = None, **fit_params: Any) -> TabularNet:
        """Run up to ``epochs`` epochs (default ``max_epochs``) over in-memory tensors."""
        epochs = self.max_epochs if epochs is None else epochs
        x_num, x_cat = X
        generator = torch.Generator(device=x_num.device).manual_seed(self.seed)
        draws = np.random.RandomState(self.seed)
        self.stop_requested_ = False
        for _ in range(epochs):
            check_interrupt()  # a Ctrl-C held back by foldstack (e.g. during a finalizer)
            start = time.perf_counter()
            self.notify("on_epoch_begin", dataset_train=None, dataset_valid=None)
            loss = self._train_epoch(x_num, x_cat, y, generator, draws)
            self.history.record("train_loss", loss)
            self.history.record("lr", float(self.optimizer_.param_groups[0]["lr"]))
            if X_valid is not None:
                valid_loss, valid_score = self.evaluate(X_valid, y_valid)
                self.history.record("valid_loss", valid_loss)
                self.history.record("valid_score", valid_score)
            self.history.record("dur", time.perf_counter() - start)
            self.notify("on_epoch_end", dataset_train=None, dataset_valid=None)
            if self.report:  # e.g. tune's pruner; may raise to stop
                report_epoch(self, self.history[-1])
            if self.stop_requested_ or time_is_up():  # early stopping, or a time limit
                break
        return self

    def _train_epoch(self, x_num: torch.Tensor, x_cat: torch.Tensor, y: torch.Tensor,
                     generator: torch.Generator, draws: np.random.RandomState) -> float:
        module, optimizer = self.module_, self.optimizer_
        module.train()
        n = len(y)
        batch_size = max(1, min(int(self.batch_size), n))
        order = torch.randperm(n, generator=generator, device=y.device)
        x_num, x_cat, y = x_num[order], x_cat[order], y[order]
        total = torch.zeros((), device=y.device)
        seen = 0
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            if stop - start < 2 <= n:  # batch norm cannot train on a single row
                continue
            xn, xc, yb = x_num[start:stop], x_cat[start:stop], y[start:stop]
            optimizer.zero_grad(set_to_none=True)
            if self.augmentation == "mixup":
                loss = self._mixup_loss(xn, xc, yb, generator, draws)
            else:
                if self.augmentation == "noise":
                    xn = xn + self.augmentation_strength * torch.randn(
                        xn.shape, generator=generator, device=xn.device)
                loss = self._loss(module(xn, xc), yb)
            loss.backward()
            if self.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), self.grad_clip)
            optimizer.step()
            self.notify("on_batch_end", batch=None, training=True, loss=loss)
            total += loss.detach() * (stop - start)
            seen += stop - start
        return float(total.item() / max(1, seen))

    def _mixup_loss(self, xn: torch.Tensor, xc: torch.Tensor, yb: torch.Tensor,
                    generator: torch.Generator, draws: np.random.RandomState) -> torch.Tensor:
        alpha = self.augmentation_strength
        lam = float(draws.beta(alpha, alpha))
        partner = torch.randperm(len(yb), generator=generator, device=yb.device)
        h = self.module_.encode(xn, xc)
        out = self.module_.body(lam * h + (1.0 - lam) * h[partner])
        return lam * self._loss(out, yb) + (1.0 - lam) * self._loss(out, yb[partner])

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The criterion; for an ensemble's ``(batch, k, n_out)`` output, the mean over members.

        Each member is scored against every row's target (the rows repeated ``k`` times), so
        a criterion with mean reduction gives the mean of the members' losses.
        """
        if out.dim() == 3:
            return self.criterion_(out.flatten(0, 1), y.repeat_interleave(out.shape[1], dim=0))
        return self.criterion_(out, y)

    @torch.no_grad()
    def predict_raw(self, X: tuple) -> torch.Tensor:
        """The module's outputs (logits or scaled values) for ``(x_num, x_cat)``, eval mode.

        An ensemble module's members are averaged (:func:`average_members`).
        """
        x_num, x_cat = X
        self.module_.eval()
        outs = [self.module_(x_num[i:i + _EVAL_BATCH], x_cat[i:i + _EVAL_BATCH])
                for i in range(0, len(x_num), _EVAL_BATCH)]
        outs = [average_members(o, self.task) if o.dim() == 3 else o for o in outs]
        return torch.cat(outs) if outs else torch.zeros((0, 0))

    @torch.no_grad()
    def evaluate(self, X: tuple, y: torch.Tensor) -> tuple[float, float]:
        """Validation loss and score (accuracy, or R²) of the current module."""
        out = self.predict_raw(X)
        loss = float(self.criterion_(out, y).item())
        if self.task == "classification":
            score = float((out.argmax(dim=1) == y).float().mean().item())
        else:
            target = y.reshape(out.shape)
            sse = ((out - target) ** 2).sum(dim=0)
            sst = ((target - target.mean(dim=0)) ** 2).sum(dim=0)
            score = float((1.0 - sse / sst.clamp_min(1e-12)).mean().item())
        return loss, score
