"""The table of learning-rate schedules that LRSchedule reads."""

import pickle

import pytest
import torch

from foldstack.exceptions import InvalidParameterError
from foldstack.models._callbacks import SCHEDULES, LRSchedule
from foldstack.models._mlp import LR_SCHEDULES


class _Net:
    """What LRSchedule reads of a net: its optimizer, base rate and per-epoch record."""

    lr = 0.1

    def __init__(self) -> None:
        self.optimizer_ = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=self.lr)
        self.history = [{"valid_loss": 1.0}]


def _rates(kind: str, *, epochs: int = 4, batches: int = 2) -> list[float]:
    net, cb = _Net(), LRSchedule(kind, max_epochs=epochs, steps_per_epoch=batches)
    cb.on_train_begin(net)
    rates = []
    for _ in range(epochs):
        rates.append(net.optimizer_.param_groups[0]["lr"])
        for _ in range(batches):
            net.optimizer_.step()
            cb.on_batch_end(net, training=True)
            cb.on_batch_end(net, training=False)   # validation batches do not step
        cb.on_epoch_end(net)
    cb.on_train_end(net)
    assert cb.scheduler_ is None
    pickle.dumps(cb)
    return rates


def test_the_table_names_every_lr_schedule_the_networks_accept():
    assert tuple(SCHEDULES) == LR_SCHEDULES
    assert all(s.doc for s in SCHEDULES.values())


def test_each_kind_steps_when_its_entry_says():
    assert _rates("none") == [0.1] * 4
    assert _rates("exponential") == pytest.approx([0.1 * 0.95 ** i for i in range(4)])
    assert _rates("plateau") == [0.1] * 4                     # fewer epochs than patience
    cosine = _rates("cosine")                                 # per batch: 8 steps over 4 epochs
    assert cosine[0] == 0.1 and cosine[1] < 0.1 and cosine[-1] < cosine[1]


def test_an_unknown_kind_lists_the_table():
    with pytest.raises(InvalidParameterError, match=r"'onecycle'.*Did you mean 'cosine'"):
        LRSchedule("cosin").on_train_begin(_Net())
