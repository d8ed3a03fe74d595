"""FoldRecord: what one (candidate, fold) task produced, as one typed, immutable record."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Status = Literal["ok", "failed", "skipped"]
STATUSES: tuple[str, ...] = ("ok", "failed", "skipped")


@dataclass(frozen=True, eq=False)
class FoldRecord:
    """The outcome of fitting one candidate on one fold's training rows.

    Every (candidate, fold) task of :func:`~foldstack.selection.cross_validate_candidates`,
    of a :func:`~foldstack.selection.tune` trial and of the search inside a nested fold
    returns one; a :class:`CandidateResult` is assembled from a candidate's records.

    Attributes
    ----------
    candidate : str
        The candidate's name.
    fold : int
        The fold's position in the report's ``splits``.
    key : str
        The task's cache key ("" when no cache is used).
    status : {"ok", "failed", "skipped"}
        ``"skipped"``: the time limit was spent before the task started.
    test, train : mapping of str -> float
        Scores per metric on the fold's validation and training rows.  For a failed task
        they hold ``error_score`` for every metric (empty when it is NaN).
    fit_time, predict_time : float
        Seconds spent in ``fit`` and in predicting the validation rows (NaN when not run).
    oof : ndarray or None
        Predictions for the validation rows (class probabilities in class-code order, or
        values).
    model : estimator or None
        The fitted fold model.
    error : str or None
        The traceback of a failed task.
    message : str or None
        Its one-line summary (``"ValueError: ..."``).
    cut : bool
        The fit stopped at its deadline under a time limit (fewer rounds, epochs or seeded
        networks than it would have trained); such a record is never cached.

    Examples
    --------
    >>> r = FoldRecord("tree", 0, test={"rmse": 1.5}, train={"rmse": 1.0})
    >>> r.ok, r.test["rmse"]
    (True, 1.5)
    """

    candidate: str
    fold: int
    key: str = ""
    status: Status = "ok"
    test: Mapping[str, float] = field(default_factory=dict)
    train: Mapping[str, float] = field(default_factory=dict)
    fit_time: float = math.nan
    predict_time: float = math.nan
    oof: np.ndarray | None = field(default=None, repr=False)
    model: Any = field(default=None, repr=False)
    error: str | None = field(default=None, repr=False)
    message: str | None = None
    cut: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"FoldRecord.status must be one of {STATUSES}; got "
                             f"{self.status!r}.")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def skipped(self) -> bool:
        return self.status == "skipped"

    def to_state(self) -> dict[str, Any]:
        """The record as a dict of plain values (for the task cache's data-only format)."""
        return {"candidate": self.candidate, "fold": self.fold, "key": self.key,
                "status": self.status, "test": dict(self.test), "train": dict(self.train),
                "fit_time": self.fit_time, "predict_time": self.predict_time,
                "oof": self.oof, "model": self.model, "error": self.error,
                "message": self.message}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FoldRecord:
        """The record :meth:`to_state` gave; raises ``ValueError`` for anything else (a
        cache entry is a file someone may have changed)."""
        expected = set(cls.__dataclass_fields__) - {"cut"}   # cut records are not cached
        if not isinstance(state, Mapping) or set(state) != expected:
            raise ValueError("not a fold record")
        scores_ok = all(isinstance(state[s], Mapping) and all(
            isinstance(k, str) and _is_number(v) for k, v in state[s].items())
            for s in ("test", "train"))
        if not (scores_ok and isinstance(state["candidate"], str)
                and type(state["fold"]) is int and isinstance(state["key"], str)
                and _is_number(state["fit_time"]) and _is_number(state["predict_time"])
                and (state["oof"] is None or isinstance(state["oof"], np.ndarray))):
            raise ValueError("a fold record's fields have the wrong types")
        return cls(**state)


def _is_number(v: Any) -> bool:
    return isinstance(v, (float, int, np.floating)) and not isinstance(v, bool)
