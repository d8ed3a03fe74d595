import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Ensemble tests fit many tiny models: one BLAS/OpenMP thread avoids spinning pools."""
    with threadpool_limits(1):
        yield
