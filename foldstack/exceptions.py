"""Errors and warnings raised by foldstack.

Every error a user can cause derives from :class:`FoldstackError`, and also from the builtin
type that code catching scikit-learn errors already expects::

    FoldstackError
    ├── InvalidParameterError (ValueError, TypeError)   a constructor/function parameter is wrong
    ├── DataError (ValueError)                          the table, a column or the target is unusable
    │   └── ColumnNotFoundError (KeyError)              a named column is not in the table
    ├── TrainingDivergedError (RuntimeError)            a network's loss became NaN or infinite
    ├── CandidateFailedError (RuntimeError)             a candidate failed in CV, or all of them did
    └── UnsafeModelError (RuntimeError)                 a saved model file fails its integrity check

    FoldstackWarning (UserWarning)
    ├── DataWarning                                     rows dropped, columns ignored
    ├── CandidateFailedWarning                          some candidates failed; the others go on
    └── VersionMismatchWarning                          a saved model came from other versions
"""

from __future__ import annotations

__all__ = [
    "CandidateFailedError",
    "CandidateFailedWarning",
    "ColumnNotFoundError",
    "DataError",
    "DataWarning",
    "FoldstackError",
    "FoldstackWarning",
    "InvalidParameterError",
    "TrainingDivergedError",
    "UnsafeModelError",
    "VersionMismatchWarning",
]


class FoldstackError(Exception):
    """Base class of every error foldstack raises on purpose."""


class InvalidParameterError(FoldstackError, ValueError, TypeError):
    """A parameter has the wrong type or value (raised from ``fit`` or the function called)."""


class DataError(FoldstackError, ValueError):
    """The data cannot be used as given: empty table, bad target, mismatched lengths, ..."""


class ColumnNotFoundError(DataError, KeyError):
    """A column named by the user is not in the table."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class TrainingDivergedError(FoldstackError, RuntimeError):
    """A network's training loss became NaN or infinite."""


class CandidateFailedError(FoldstackError, RuntimeError):
    """A candidate failed during cross-validation (or every candidate did)."""


class UnsafeModelError(FoldstackError, RuntimeError):
    """A saved model does not match its manifest, or asks for something not allowed."""


class FoldstackWarning(UserWarning):
    """Base class of foldstack's warnings."""


class DataWarning(FoldstackWarning):
    """Something in the data was changed or ignored (rows dropped, extra columns ignored)."""


class CandidateFailedWarning(FoldstackWarning):
    """One or more candidates failed in cross-validation; the others were ranked."""


class VersionMismatchWarning(FoldstackWarning):
    """A saved object was written by other versions of foldstack or its dependencies."""
