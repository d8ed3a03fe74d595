"""Small real estimators for tests: they count their fits, sleep, or fail on purpose."""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression that appends a line to ``log_path`` on every fit.

    A file (not a counter in memory) so that fits in worker processes are counted too.
    ``sleep`` slows each fit down, so a test can interrupt a run midway.
    """

    def __init__(self, log_path=None, sleep=0.0, C=1.0):
        self.log_path = log_path
        self.sleep = sleep
        self.C = C

    def fit(self, X, y):
        if self.log_path:
            with open(self.log_path, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        if self.sleep:
            time.sleep(self.sleep)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(np.asarray(X, float), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X, float))

    def predict(self, X):
        return self.model_.predict(np.asarray(X, float))


def rows_digest(X) -> str:
    """A short digest of a numeric table's rows: tells one fold's training rows from another's."""
    return hashlib.sha1(np.ascontiguousarray(np.asarray(X, float)).tobytes()).hexdigest()[:12]


class TracedClassifier(CountingClassifier):
    """A :class:`CountingClassifier` that logs ``start`` and ``end`` of every fit (pid, C, its
    rows' digest) to ``log_path``, and never ends a fit in the process whose pid
    ``block_pid_path`` holds (it logs ``block`` and waits there until the process is killed).

    ``sleep`` keeps each fit long enough that joblib sends tasks one at a time.
    """

    def __init__(self, log_path=None, block_pid_path=None, sleep=0.0, C=1.0):
        super().__init__(log_path=log_path, sleep=sleep, C=C)
        self.block_pid_path = block_pid_path

    def _log(self, event, X):
        if self.log_path:
            with open(self.log_path, "a") as fh:
                fh.write(f"{event} {os.getpid()} {self.C!r} {rows_digest(X)}\n")

    def fit(self, X, y):
        X = np.asarray(X, float)
        self._log("start", X)
        doomed = self.block_pid_path and os.path.exists(self.block_pid_path)
        if doomed and open(self.block_pid_path).read().strip() == str(os.getpid()):
            self._log("block", X)
            while True:  # until the test kills this process
                time.sleep(0.05)
        if self.sleep:
            time.sleep(self.sleep)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(X, y)
        self.classes_ = self.model_.classes_
        self._log("end", X)
        return self


def read_trace(path) -> list[tuple[str, int, float, str]]:
    """The (event, pid, C, rows digest) lines a :class:`TracedClassifier` logged."""
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path).read().splitlines():
        event, pid, c, digest = line.split()
        out.append((event, int(pid), float(c), digest))
    return out


def count_fits(path) -> int:
    return len(open(path).read().splitlines()) if os.path.exists(path) else 0


class FailOnRowClassifier(ClassifierMixin, BaseEstimator):
    """Raises in the fold whose training rows lack row ``marker`` (column 0 holds row ids)."""

    def __init__(self, marker=0):
        self.marker = marker

    def fit(self, X, y):
        X = np.asarray(X, float)
        if self.marker not in X[:, 0]:
            raise ValueError(f"boom: row {self.marker} is not in this training fold")
        self.model_ = LogisticRegression(max_iter=2000).fit(X[:, 1:], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X, float)[:, 1:])


class NaNRegressor(RegressorMixin, BaseEstimator):
    """Predicts NaN: a candidate that 'fits' but produces garbage."""

    def fit(self, X, y):
        self.model_ = Ridge().fit(X, y)
        return self

    def predict(self, X):
        return np.full(len(X), np.nan)


def write_small_table(directory):
    """``directory/d.csv``: 60 rows of a number, a category and a yes/no target."""
    rng = np.random.RandomState(0)
    df = pd.DataFrame({"x": rng.normal(size=60), "c": rng.choice(["a", "b"], 60),
                       "target": rng.choice(["yes", "no"], 60)})
    df.to_csv(directory / "d.csv", index=False)
    return directory
