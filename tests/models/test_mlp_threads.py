"""Small training steps run on one torch thread; the caller's thread count is restored."""

import pytest
import torch

from foldstack.models import TabularMLPClassifier
from foldstack.models._training import SMALL_STEP
from foldstack.utils._epochs import epoch_reporter


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _threads_while_training(X, y, **params) -> set[int]:
    seen = []
    with epoch_reporter(lambda net, row: seen.append(torch.get_num_threads())):
        TabularMLPClassifier(max_epochs=3, random_state=0, **params).fit(X, y)
    return set(seen)


def test_small_steps_train_on_one_thread(two_threads, small_binary):
    X, y = small_binary
    assert 32 * 16 < SMALL_STEP
    assert _threads_while_training(X, y, width=16, batch_size=32, n_seeds=2) == {1}
    assert torch.get_num_threads() == 2   # restored after fit


def test_large_steps_keep_the_callers_threads(two_threads, small_binary):
    X, y = small_binary
    # a batch of all 180 training rows x 512 units is above the threshold
    assert 180 * 512 >= SMALL_STEP
    assert _threads_while_training(X, y, width=512, depth=1, batch_size=1000,
                                   n_seeds=1) == {2}
