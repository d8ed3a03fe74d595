"""Run options: defaults < config file (TOML) < command line, validated in one place."""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foldstack.exceptions import InvalidParameterError
from foldstack.utils._validation import did_you_mean, file_param_reason

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger("foldstack.cli")

ENSEMBLES = ("equal", "optimized", "greedy", "stacking")

# Deprecated option names (config key and, with dashes, command-line option) -> current name.
DEPRECATED = {"time_budget": "time_limit"}



@dataclass
class RunOptions:
    """Every option of ``foldstack cv``; the TOML keys have the same names."""

    data: str = ""
    target: str = ""
    task: str | None = None
    models: list[str] | None = None          # None: every default candidate
    cv: int = 5
    repeats: int = 1
    group_col: str | None = None
    metric: str | None = None                # primary metric; None: the task's default
    metrics: list[str] = field(default_factory=list)   # extra metrics
    ensemble: list[str] = field(default_factory=lambda: ["equal", "greedy", "stacking"])
    tune: int = 0
    time_limit: float | None = None
    out: str | None = None
    n_jobs: int | None = None
    backend: str = "loky"
    scheduler: str | None = None
    seed: int = 0
    drop: list[str] = field(default_factory=list)
    allow_pickle: bool = False
    params: dict[str, dict[str, Any]] = field(default_factory=dict)   # model -> parameters
    space: dict[str, dict[str, Any]] = field(default_factory=dict)    # model -> search space

    # Options that change results; the others (out, n_jobs, backend...) do not.
    RESULT_KEYS = ("target", "task", "models", "cv", "repeats", "group_col", "metric",
                   "metrics", "ensemble", "tune", "seed", "drop", "params", "space")

    def result_options(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.RESULT_KEYS}


_FIELDS = {f.name: f for f in dataclasses.fields(RunOptions)}


# Options that decide whom foldstack trusts: where the data is sent and what may be unpickled.
COMMAND_LINE_ONLY = {
    "backend": "with dask, the data goes to the scheduler's workers and their results are "
               "unpickled here",
    "scheduler": "the data goes to that cluster and its results are unpickled here",
    "allow_pickle": "it allows files that can run code",
}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file; errors name the line and column."""
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"Config file '{path}' does not exist.")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameterError(f"Config file '{path}' is not valid TOML: {exc}.") from None
    if "data" in raw:
        raise InvalidParameterError(
            f"Config file '{path}': the data file cannot be set in a config file (key "
            f"'data'); give it on the command line: foldstack cv DATA --config {path}. "
            "Remove the 'data' line.")
    trusting = [k for k in COMMAND_LINE_ONLY if k in raw]
    if trusting:
        raise InvalidParameterError(
            f"Config file '{path}': {trusting[0]!r} can only be given on the command line "
            f"({COMMAND_LINE_ONLY[trusting[0]]}); a config file may come from someone else. "
            f"Remove the '{trusting[0]}' line and pass --{trusting[0].replace('_', '-')} "
            "yourself if you mean it.")
    unknown = [k for k in raw if k not in _FIELDS and k not in DEPRECATED]
    if unknown:
        k = unknown[0]
        raise InvalidParameterError(
            f"Config file '{path}': unknown key {k!r}.{did_you_mean(k, _FIELDS)} Known keys: "
            f"{', '.join(sorted(n for n in _FIELDS if n != 'data'))}.")
    return raw


def check_no_file_params(table: str, model: str, keys: Any) -> None:
    """Refuse parameters that make a library load a file (``FILE_PARAMS`` of utils).

    Examples
    --------
    >>> check_no_file_params("params", "linear", ["model__C"])
    >>> check_no_file_params("params", "linear", ["memory"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    foldstack.exceptions.InvalidParameterError: Config [params.linear]: 'memory' cannot be set ...
    """
    for key in keys:
        why = file_param_reason(key)
        if why:
            raise InvalidParameterError(
                f"Config [{table}.{model}]: {key!r} cannot be set in a config file: {why}, and "
                "loading a file such as a pickle can run code. Remove it; to reuse fitted "
                "work, rerun with the same --out (foldstack caches every fold there).")


def merge_options(config: dict[str, Any], cli: dict[str, Any]) -> RunOptions:
    """Defaults, then the config file, then every option given on the command line."""
    config = _rename_deprecated(config, on_command_line=False)
    cli = _rename_deprecated({k: v for k, v in cli.items() if v is not None},
                             on_command_line=True)
    values = {**config, **cli}
    opts = RunOptions(**{k: v for k, v in values.items() if k in _FIELDS})
    _validate(opts)
    return opts


def _rename_deprecated(values: dict[str, Any], *, on_command_line: bool) -> dict[str, Any]:
    """``values`` with each deprecated name renamed (with a log warning); both is an error."""
    values = dict(values)
    for old, new in DEPRECATED.items():
        if old not in values:
            continue
        if on_command_line:
            said_old, said_new = f"--{old.replace('_', '-')}", f"--{new.replace('_', '-')}"
        else:
            said_old, said_new = f"config key {old!r}", f"{new!r}"
        if new in values:
            raise InvalidParameterError(f"Give {said_new} only; {said_old} is its deprecated "
                                        "alias.")
        logger.warning("%s is deprecated and will be removed in a future release; use %s.",
                       said_old, said_new)
        values[new] = values.pop(old)
    return values


def _split_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _validate(o: RunOptions) -> None:
    from foldstack.models import CANDIDATE_NAMES

    if not o.target:
        raise InvalidParameterError("No target column: pass --target COL (or `target = ...` "
                                    "in the config file).")
    if o.models is not None:
        o.models = _split_list(o.models)
        for m in o.models:
            if m not in CANDIDATE_NAMES:
                raise InvalidParameterError(
                    f"Unknown model {m!r}.{did_you_mean(m, CANDIDATE_NAMES)} Valid models: "
                    f"{', '.join(CANDIDATE_NAMES)}.")
        if not o.models:
            raise InvalidParameterError("--models is empty; name at least one model.")
    o.ensemble = _split_list(o.ensemble)
    if o.ensemble == ["none"]:
        o.ensemble = []
    for e in o.ensemble:
        if e not in ENSEMBLES:
            raise InvalidParameterError(
                f"Unknown ensemble {e!r}.{did_you_mean(e, ENSEMBLES)} Valid: "
                f"{', '.join(ENSEMBLES)} or none.")
    o.metrics = _split_list(o.metrics)
    o.drop = _split_list(o.drop)
    for name, low in (("cv", 2), ("repeats", 1), ("tune", 0)):
        value = getattr(o, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidParameterError(f"--{name} must be an integer >= {low}; got {value!r}.")
    if o.n_jobs is not None and (not isinstance(o.n_jobs, int) or isinstance(o.n_jobs, bool)
                                 or o.n_jobs == 0):
        raise InvalidParameterError(
            f"--n-jobs must be a non-zero integer: the number of parallel tasks, or a negative "
            f"number for all CPUs but N-1 (-1: all, -2: all but one, as in joblib); got "
            f"{o.n_jobs!r}.")
    t = o.time_limit
    if t is not None and (isinstance(t, bool) or not isinstance(t, numbers.Real)
                          or not (math.isfinite(t) and t > 0)):
        raise InvalidParameterError(f"--time-limit must be a finite number of seconds > 0; "
                                    f"got {t!r}.")
    if o.backend not in ("loky", "dask"):
        raise InvalidParameterError(f"--backend must be 'loky' or 'dask'; got {o.backend!r}.")
    if o.backend == "dask" and not o.scheduler:
        raise InvalidParameterError("--backend dask needs --scheduler ADDRESS (e.g. "
                                    "tcp://127.0.0.1:8786).")
    for table in ("params", "space"):
        if not isinstance(getattr(o, table), dict):
            raise InvalidParameterError(
                f"Config `{table}` must be tables of model parameters, e.g. [{table}.linear]; "
                f"got {getattr(o, table)!r}.")
        for model, values in getattr(o, table).items():
            if model not in CANDIDATE_NAMES:
                raise InvalidParameterError(
                    f"Config [{table}.{model}]: unknown model {model!r}."
                    f"{did_you_mean(model, CANDIDATE_NAMES)} Valid models: "
                    f"{', '.join(CANDIDATE_NAMES)}.")
            if not isinstance(values, dict):
                raise InvalidParameterError(
                    f"Config [{table}.{model}] must be a table of parameter = value lines; got "
                    f"{values!r}.")
            check_no_file_params(table, model, values)
