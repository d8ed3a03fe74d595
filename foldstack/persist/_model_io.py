"""save_model / load_model: a fitted model as files that cannot run code when loaded.

A model is walked as a tree and written as data:

- ``manifest.json`` holds the tree: JSON scalars as themselves, everything else as a node
  ``{"$t": kind, ...}`` (lists, dicts, numpy scalars and dtypes, slices, classes named by
  their exact name, objects as their class name plus their state);
- ``arrays.bin`` holds the bytes of every numeric array, one after another; the manifest
  gives each one's offset, dtype and shape (a dtype that holds objects is refused);
- tables go to Parquet, an xgboost booster to xgboost's own UBJSON format, a LightGBM
  booster and a CatBoost model to their own text / JSON formats (checked before loading,
  :mod:`foldstack.persist._boosters`), a network's
  weights to ``safetensors`` with a JSON description of its architecture, rebuilt from
  foldstack's own module registry.

Loading admits only the exact class and function names of :mod:`foldstack.persist._policy`
(computed by foldstack, never taken from the file), checks every file's SHA-256 against the
manifest, and builds objects with ``cls.__new__`` + ``__setstate__``.  An object that is
reached twice (an ensemble's ``estimators_`` and ``named_estimators_``) is written once and
comes back as one object.  Anything else (a user's own torch module, an unknown class) needs
``allow_pickle=True`` both when saving and when loading.
"""

from __future__ import annotations

import copyreg
import hashlib
import json
import logging
import math
import os
import platform
import re
import shutil
import tempfile
import types
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack._version import __version__
from foldstack.exceptions import InvalidParameterError, UnsafeModelError, VersionMismatchWarning
from foldstack.persist import _boosters
from foldstack.persist._policy import (
    CATBOOST_MODEL,
    CLASSES,
    CONSTRUCTED,
    FUNCTIONS,
    LIGHTGBM_BOOSTER,
    MODULE_REGISTRY,
    NET_CLASSES,
    XGB_CLASSES,
    function_name,
    qualname,
    resolve,
)

logger = logging.getLogger(__name__)
FORMAT = 2
_BOOSTERS = {LIGHTGBM_BOOSTER: ("lightgbm", ".txt"), CATBOOST_MODEL: ("catboost", ".json")}
_ARRAYS = "arrays.bin"
# a part's arrays (see ``parts`` of save_model): a file of their own, named arrays_<n>.bin
_PART_ARRAYS = re.compile(r"arrays_[0-9]+\.bin")
# Arrays files are stored zlib-compressed (fast level: trees' node arrays shrink about 4x)
# when that saves at least a tenth; a file never expands more than this when read, so a file
# from someone else cannot ask for much more memory than its own size.
_MAX_EXPANSION = 64
# tabm and rtdl_num_embeddings build the layers of networks with k > 1 or piecewise-linear
# embeddings: their layout (the weights' names) is theirs
_VERSIONED = ("numpy", "scipy", "pandas", "sklearn", "xgboost", "torch", "skorch", "tabm",
              "rtdl_num_embeddings", "lightgbm", "catboost")
_SCALARS = (str, int, bool, type(None))
_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def library_versions() -> dict[str, str]:
    """Versions of Python, foldstack and every core dependency that is installed."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "foldstack": __version__}
    for mod, dist in zip(_VERSIONED, ("numpy", "scipy", "pandas", "scikit-learn", "xgboost",
                                      "torch", "skorch", "tabm", "rtdl_num_embeddings",
                                      "lightgbm", "catboost")):
        try:
            out[mod] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def _is_json(obj: Any) -> bool:
    if type(obj) in _SCALARS:
        return True
    if type(obj) is float:
        return math.isfinite(obj)
    if type(obj) is list:
        return all(_is_json(v) for v in obj)
    if type(obj) is dict:
        return all(isinstance(k, str) and _is_json(v) for k, v in obj.items())
    return False


class _Writer:
    """Turns an object into manifest nodes, arrays and side files under ``root``."""

    def __init__(self, root: Path, allow_pickle: bool, classes: frozenset[str],
                 parts: frozenset[int] = frozenset()) -> None:
        self.root, self.allow_pickle, self.classes = root, allow_pickle, classes
        self.arrays: list[tuple[int, np.ndarray]] = []
        self.size = 0
        self.parts = parts           # ids of the objects whose arrays get a file of their own
        self.compressed: list[str] = []   # arrays files written zlib-compressed
        self.part: str | None = None  # the arrays file of the part being written, if any
        self.memo: dict[int, int] = {}
        self.alive: list[Any] = []   # keeps memoised objects alive so their ids stay unique
        self.n = 0
        self.pickled = False

    def file(self, stem: str, suffix: str) -> tuple[str, Path]:
        self.n += 1
        name = f"{stem}_{self.n}{suffix}"
        return name, self.root / name

    def node(self, obj: Any, where: str = "model") -> Any:
        t = type(obj)
        if t in _SCALARS:
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"$t": "float", "value": repr(obj)}
        ref = self.memo.get(id(obj))
        if ref is not None:
            return {"$t": "ref", "id": ref}
        if t in (tuple, slice, bytes) or isinstance(obj, (np.generic, np.dtype, type,
                                                          *_FUNCTION_TYPES)):
            return self._node(obj, where)   # immutable values: written where they stand
        ref = self.memo[id(obj)] = len(self.memo)   # before the parts: a cycle becomes a ref
        self.alive.append(obj)
        if id(obj) in self.parts and self.part is None:
            return {**self._own_arrays(obj, where), "id": ref}
        return {**self._node(obj, where), "id": ref}

    def _own_arrays(self, obj: Any, where: str) -> dict:
        """``obj``'s node, its arrays in a file of their own: the same object saved in
        another directory gives the same bytes (which a run stores once, as hard links)."""
        name, path = self.file("arrays", ".bin")
        outer = self.arrays, self.size
        self.arrays, self.size, self.part = [], 0, name
        try:
            node = self._node(obj, where)
            self.write_arrays(path)
        finally:
            (self.arrays, self.size), self.part = outer, None
        return node

    def _node(self, obj: Any, where: str) -> dict:  # noqa: C901 - one branch per kind
        t = type(obj)
        if t in (list, tuple, set, frozenset):
            return {"$t": t.__name__,
                    "items": [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict) and (t is dict or qualname(t) in self.classes):
            node: dict[str, Any] = {"$t": "dict"}
            if t is not dict:
                node["class"] = qualname(t)
            if all(type(k) is str for k in obj):
                node["items"] = {k: self.node(v, f"{where}[{k!r}]") for k, v in obj.items()}
            else:
                node["pairs"] = [[self.node(k, where), self.node(v, f"{where}[{k!r}]")]
                                 for k, v in obj.items()]
            return node
        if t is slice:
            return {"$t": "slice", "args": [self.node(v) for v in (obj.start, obj.stop,
                                                                   obj.step)]}
        if t is bytes:
            return {"$t": "bytes", "hex": obj.hex()}
        if t is np.ndarray:
            if obj.dtype.hasobject:
                return {"$t": "objarray", "shape": list(obj.shape),
                        "items": [self.node(v, where) for v in obj.ravel().tolist()]}
            return self._array(obj)
        if isinstance(obj, np.generic) and not obj.dtype.hasobject:
            value = obj.item()
            if not _is_json(value):
                value = repr(value) if isinstance(value, float) else str(value)
            return {"$t": "scalar", "dtype": np.lib.format.dtype_to_descr(obj.dtype),
                    "value": value}
        if isinstance(obj, np.dtype):
            return {"$t": "dtype", "descr": np.lib.format.dtype_to_descr(obj)}
        if isinstance(obj, type):
            name = qualname(obj)
            if name in self.classes:
                return {"$t": "class", "name": name}
            return self._pickle(obj, [name], where)
        if isinstance(obj, _FUNCTION_TYPES):
            name = function_name(obj)
            if name in FUNCTIONS:
                return {"$t": "function", "name": name}
            return self._pickle(obj, [name], where)
        if isinstance(obj, pd.CategoricalDtype):
            return {"$t": "categorical", "categories": self.node(obj.categories, where),
                    "ordered": bool(obj.ordered)}
        if isinstance(obj, (pd.DataFrame, pd.Series)):
            return self._frame(obj)
        if isinstance(obj, pd.Index) and not isinstance(obj, pd.MultiIndex):
            return self._index(obj)
        if t is np.random.RandomState:
            return {"$t": "random_state", "state": self.node(obj.get_state(legacy=True))}
        name = qualname(obj)
        if name in XGB_CLASSES:
            return self._xgb(obj, where)
        if name in _BOOSTERS:
            kind, suffix = _BOOSTERS[name]
            file, path = self.file(kind, suffix)
            getattr(_boosters, f"save_{kind}")(obj, path)
            return {"$t": kind, "file": file}
        if name in NET_CLASSES or t.__module__.split(".")[0] == "skorch":
            return self._net(obj, where)
        if name in self.classes or name in CONSTRUCTED:
            reduced = self._reduce(obj, name)
            if reduced is not None:
                return reduced
        return self._pickle(obj, [name], where)

    def _reduce(self, obj: Any, name: str) -> dict | None:
        """The object's own pickling recipe, kept only when it is class + state data."""
        try:
            func, args, state, *rest = obj.__reduce_ex__(4)
        except (TypeError, ValueError):
            return None
        if any(r is not None for r in rest):
            return None
        if name in CONSTRUCTED and func is type(obj):
            return {"$t": "construct", "class": name,
                    "args": [self.node(a, name) for a in args],
                    "state": self.node(state, name)}
        if (name in self.classes and func is copyreg.__newobj__ and tuple(args) == (type(obj),)
                and (state is None or type(state) is dict)
                and all(type(k) is str for k in state or {})):
            return {"$t": "object", "class": name,
                    "state": {k: self.node(v, f"{name}.{k}") for k, v in (state or {}).items()}}
        return None

    def _array(self, obj: np.ndarray) -> dict:
        """Append the array's bytes to ``arrays.bin`` (64-byte aligned); note where they lie."""
        fortran = obj.ndim > 1 and obj.flags.f_contiguous and not obj.flags.c_contiguous
        data = np.ascontiguousarray(obj.T if fortran else obj)
        start = -(-self.size // 64) * 64
        self.arrays.append((start, data))
        self.size = start + data.nbytes
        node = {"$t": "array", "at": start, "shape": list(obj.shape), "fortran": fortran,
                "dtype": np.lib.format.dtype_to_descr(obj.dtype)}
        if self.part is not None:
            node["file"] = self.part
        return node

    def write_arrays(self, path: Path | None = None) -> None:
        if not self.arrays:
            return
        path = path or self.root / _ARRAYS
        raw = bytearray(self.size)   # ends where the last (maybe empty) array does
        for start, data in self.arrays:
            raw[start:start + data.nbytes] = data.tobytes()
        packed = zlib.compress(raw, 1)
        if len(packed) < 0.9 * len(raw) and len(raw) <= _MAX_EXPANSION * len(packed):
            path.write_bytes(packed)
            self.compressed.append(path.name)
        else:
            path.write_bytes(raw)

    def _pickle(self, obj: Any, untrusted: list[str], where: str) -> dict:
        if not self.allow_pickle:
            raise UnsafeModelError(
                f"Cannot save {where} safely: it holds {untrusted[:3]}, which foldstack does "
                "not rebuild from a file (e.g. a custom torch module or an estimator outside "
                "the documented list). Save with allow_pickle=True (--allow-pickle) if you "
                "accept a pickle, which can run code when loaded.")
        import joblib

        name, path = self.file("part", ".pkl")
        joblib.dump(obj, path)
        self.pickled = True
        return {"$t": "pickle", "file": name}

    def _index(self, obj: pd.Index) -> dict:
        values = obj.tolist()
        name = obj.name if _is_json(obj.name) else None
        if _is_json(values):
            return {"$t": "index", "values": values, "dtype": str(obj.dtype), "name": name}
        node = self._frame(obj.to_frame(name="__index__", index=False))
        return {**node, "$t": "index_table", "name": name}

    def _frame(self, obj: Any) -> dict:
        name, path = self.file("table", ".parquet")
        series = isinstance(obj, pd.Series)
        frame = obj.to_frame(name="__series__") if series else obj
        frame.to_parquet(path)
        return {"$t": "series" if series else "frame", "file": name}

    def _xgb(self, obj: Any, where: str) -> dict:
        name = None
        if hasattr(obj, "_Booster"):  # fitted; an unfitted one is its parameters alone
            name, path = self.file("xgboost", ".ubj")
            obj.save_model(path)
        params = {k: v for k, v in obj.get_params().items() if _is_json(v)}
        extra = {k: self.node(v, f"{where}.{k}") for k, v in vars(obj).items()
                 if k.endswith("_") and not k.startswith("_") and k != "n_classes_"}
        return {"$t": "xgboost", "class": qualname(obj), "file": name, "params": params,
                "attrs": extra}

    def _net(self, net: Any, where: str) -> dict:
        from safetensors.torch import save_file

        params = net.get_params()
        module_params = {k[len("module__"):]: v for k, v in params.items()
                         if k.startswith("module__")}
        classes = {qualname(net), qualname(params["module"])} | _class_names(module_params)
        foreign = sorted(c for c in classes if c not in MODULE_REGISTRY | NET_CLASSES)
        if foreign:
            if not self.allow_pickle:
                raise UnsafeModelError(
                    f"Cannot save the network at {where} safely: it is built from {foreign}, "
                    "which are not foldstack's own modules, so its code cannot be rebuilt from "
                    "a file. Save with allow_pickle=True (--allow-pickle) if you accept a "
                    "pickle.")
            return self._pickle(net, foreign, where)
        name, path = self.file("weights", ".safetensors")
        state = {k: v.detach().cpu().contiguous() for k, v in net.module_.state_dict().items()}
        save_file(state, str(path))
        return {"$t": "torch_net", "class": qualname(net), "module": qualname(params["module"]),
                "module_params": {k: _module_value(v) for k, v in module_params.items()},
                "task": params.get("task"), "file": name}


def _module_value(v: Any) -> Any:
    if isinstance(v, type):
        return {"__class__": qualname(v)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_module_value(x) for x in v]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: _module_value(x) for k, x in v.items()}
    if not _is_json(v):
        raise UnsafeModelError(f"Network parameter {v!r} is not plain data.")
    return v


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(model: Any, path: str | os.PathLike, *, metadata: dict | None = None,
               allow_pickle: bool = False, trusted: Iterable[str] = (),
               parts: Iterable[Any] = ()) -> Path:
    """Save a fitted model to directory ``path`` in a form that loads without running code.

    Parameters
    ----------
    model : estimator
        A fitted foldstack model, ensemble or report part, an xgboost model, or a
        scikit-learn estimator / Pipeline of the documented list
        (:data:`foldstack.persist.SUPPORTED_SKLEARN`); also dicts, lists and arrays of them.
    path : str or path-like
        A directory (created; replaced atomically if it exists).
    metadata : dict, default=None
        JSON-able information stored in the manifest (e.g. the training schema).
    allow_pickle : bool, default=False
        Store parts foldstack cannot rebuild safely (a user's torch module, an estimator
        outside the documented list) as pickles.  The directory can then run code when
        loaded, and loading needs ``allow_pickle=True`` too.
    trusted : iterable of str, default=()
        Exact ``module.ClassName`` names of classes of your own code (e.g. a custom
        estimator) to store as data like foldstack's own; loading needs the same names.
    parts : iterable of objects, default=()
        Objects inside ``model`` (e.g. fold models) whose arrays go to a file of their own
        rather than into the shared ``arrays.bin``: the same object saved in two
        directories then gives two identical files, which
        :func:`~foldstack.persist.link_duplicates` stores once.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from foldstack.persist import load_model, save_model
    >>> model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    >>> path = save_model(model, tempfile.mkdtemp() + "/model")
    >>> load_model(path).predict([[0.5], [2.5]]).tolist()
    [0, 1]
    """
    path = Path(path)
    if path.is_symlink():   # replacing it would delete or write what the link points to
        raise InvalidParameterError(f"'{path}' is a symbolic link; save the model to a real "
                                    "directory (remove the link or choose another path).")
    if metadata is not None and not _is_json(metadata):
        raise InvalidParameterError("`metadata` must be JSON-able (dicts, lists, str, numbers).")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        writer = _Writer(tmp, allow_pickle, CLASSES | frozenset(trusted),
                         frozenset(id(p) for p in parts))
        tree = writer.node(model)
        writer.write_arrays()
        files = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        manifest = {"format": FORMAT, "versions": library_versions(), "files": files,
                    "zlib": writer.compressed, "pickle": writer.pickled, "tree": tree,
                    "metadata": metadata or {}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a saved model (versions, files, metadata), without loading it.

    Raises :class:`~foldstack.exceptions.UnsafeModelError` when ``path`` holds no manifest,
    a damaged one, or one of another format.
    """
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise UnsafeModelError(f"'{path}' is not a saved foldstack model (no manifest.json).")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:   # bad JSON, bad UTF-8, absurd nesting
        raise UnsafeModelError(f"'{manifest_path}' is damaged: {exc}.") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise UnsafeModelError(f"'{manifest_path}' is damaged: it is not a foldstack manifest.")
    if manifest.get("format") != FORMAT:
        raise UnsafeModelError(
            f"'{path}' was saved in format {manifest.get('format')!r}; this foldstack reads "
            f"format {FORMAT}. Save the model again with this version (rerun `foldstack cv`).")
    if not isinstance(manifest.get("metadata", {}), dict):
        raise UnsafeModelError(f"'{manifest_path}' is damaged: its metadata is not a table.")
    return manifest


def load_model(path: str | os.PathLike, *, allow_pickle: bool = False,
               trusted: Iterable[str] = ()) -> Any:
    """Load a model written by :func:`save_model`, checking every file's SHA-256.

    Parameters
    ----------
    path : str or path-like
        The directory :func:`save_model` wrote.
    allow_pickle : bool, default=False
        Load pickled parts (a model saved with ``allow_pickle=True``).  A pickle can run any
        code: pass True only for files from a source you trust.
    trusted : iterable of str, default=()
        Exact names of classes of your own code that the model may hold (as given to
        :func:`save_model`); they are built from the file's data like foldstack's own.

    Returns
    -------
    object
        The model, as it was saved.

    Raises
    ------
    UnsafeModelError
        A file was modified or is damaged, the model asks for a class or function that
        foldstack does not load from a file, or it holds a pickle and ``allow_pickle`` is
        False.

    Warns
    -----
    VersionMismatchWarning
        The model was saved by other versions of foldstack or its dependencies.

    Examples
    --------
    >>> model = fs.persist.load_model("runs/demo/run/model")   # doctest: +SKIP
    """
    path = Path(path)
    manifest = read_manifest(path)
    reader = _Reader(path, manifest["files"], allow_pickle, CLASSES | frozenset(trusted))
    packed = manifest.get("zlib") or []
    if not isinstance(packed, list):
        raise UnsafeModelError(f"'{path}' is damaged: its manifest's 'zlib' is not a list.")
    for name, digest in manifest["files"].items():
        file = path / name
        if not isinstance(name, str) or Path(name).name != name or name.startswith(".") or \
                not file.is_file():
            raise UnsafeModelError(f"'{path}' lacks the file {name!r} listed in its manifest.")
        arrays = name == _ARRAYS or _PART_ARRAYS.fullmatch(name)
        if (reader.read_arrays(file, name in packed) if arrays else _sha256(file)) != digest:
            raise UnsafeModelError(
                f"'{file}' was modified after saving (its SHA-256 does not match the "
                "manifest); refusing to load it. Save the model again.")
    if manifest.get("pickle") and not allow_pickle:
        raise UnsafeModelError(
            f"'{path}' contains pickled parts, which can run code when loaded. Load it with "
            "allow_pickle=True (--allow-pickle) only if you trust its source.")
    saved, now = manifest.get("versions", {}), library_versions()
    if isinstance(saved, dict):
        diff = {k: (saved[k], now.get(k)) for k in saved
                if k != "python" and saved[k] != now.get(k)}
        if diff:
            listed = ", ".join(f"{k} {a} (now {b})" for k, (a, b) in diff.items())
            warnings.warn(f"'{path}' was saved with {listed}; predictions may differ.",
                          VersionMismatchWarning, stacklevel=2)
    try:
        return reader.node(manifest.get("tree"))
    except UnsafeModelError:
        raise
    except Exception as exc:  # a file that passes its checksum but cannot be read back
        raise UnsafeModelError(
            f"'{path}' is damaged or was not written by foldstack "
            f"({type(exc).__name__}: {exc}); save the model again.") from None


class _Reader:
    """Builds objects back from manifest nodes; every class goes through the policy."""

    def __init__(self, root: Path, files: dict, allow_pickle: bool,
                 classes: frozenset[str]) -> None:
        self.root, self.files, self.allow_pickle = root, files, allow_pickle
        self.classes = classes
        self.memo: dict[int, Any] = {}
        self._arrays: dict[str, bytearray] = {}   # file name -> its bytes
        self._dtypes: dict[str, np.dtype] = {}

    def _file(self, name: Any) -> Path:
        if not isinstance(name, str) or name not in self.files:
            raise UnsafeModelError(f"The manifest's tree names {name!r}, which it does not "
                                   "list with a checksum.")
        return self.root / name

    def read_arrays(self, path: Path, compressed: bool = False) -> str:
        """Read an arrays file once into one buffer (decompressed, at most
        ``_MAX_EXPANSION`` times its size); return the SHA-256 of the file as stored."""
        stored = bytearray(path.stat().st_size)
        with path.open("rb") as fh:
            fh.readinto(stored)
        digest = hashlib.sha256(stored).hexdigest()
        if not compressed:
            self._arrays[path.name] = stored
            return digest
        inflate = zlib.decompressobj()
        try:
            raw = inflate.decompress(stored, _MAX_EXPANSION * len(stored))
        except zlib.error as exc:
            raise UnsafeModelError(f"'{path}' is damaged ({exc}).") from None
        if not inflate.eof:
            raise UnsafeModelError(f"'{path}' is damaged or expands more than "
                                   f"{_MAX_EXPANSION} times its size; refusing it.")
        self._arrays[path.name] = bytearray(raw)
        return digest

    def array(self, node: dict) -> np.ndarray:
        """A writable view into the buffer of ``arrays.bin`` (or of a part's own file)."""
        name = node.get("file", _ARRAYS)
        buffer = self._arrays.get(name) if isinstance(name, str) else None
        if buffer is None:
            raise UnsafeModelError(f"The manifest does not list the arrays file {name!r}.")
        key = json.dumps(node["dtype"])
        dtype = self._dtypes.get(key)
        if dtype is None:
            dtype = self._dtypes[key] = _descr(node["dtype"])
        shape = [int(n) for n in node["shape"]]
        if dtype.hasobject or min(shape, default=1) < 0:
            raise UnsafeModelError(f"Refusing an array of dtype {dtype} / shape {shape}.")
        count = math.prod(shape)
        flat = np.frombuffer(buffer, dtype=dtype, count=count, offset=int(node["at"]))
        if node["fortran"]:
            return flat.reshape(shape[::-1]).T
        return flat.reshape(shape)

    def node(self, node: Any) -> Any:
        if not isinstance(node, dict):
            if isinstance(node, list):
                raise UnsafeModelError("The manifest holds a bare list where a node belongs.")
            return node
        kind = node.get("$t")
        if kind == "ref":
            return self.memo[node["id"]]
        obj = self._build(kind, node)
        return obj

    def _keep(self, node: dict, obj: Any) -> Any:
        if "id" in node:
            self.memo[node["id"]] = obj
        return obj

    def _build(self, kind: Any, node: dict) -> Any:  # noqa: C901 - one branch per kind
        if kind == "float":
            return float({"nan": "nan", "inf": "inf", "-inf": "-inf"}[node["value"]])
        if kind == "list":
            out: list = self._keep(node, [])
            out.extend(self.node(v) for v in node["items"])
            return out
        if kind in ("tuple", "set", "frozenset"):
            ctor = {"tuple": tuple, "set": set, "frozenset": frozenset}[kind]
            return self._keep(node, ctor(self.node(v) for v in node["items"]))
        if kind == "dict":
            cls = dict if "class" not in node else resolve(node["class"], self.classes)
            if not issubclass(cls, dict):
                raise UnsafeModelError(f"{node['class']!r} is not a mapping.")
            d = self._keep(node, cls())
            pairs = (node["items"].items() if "items" in node else
                     ((self.node(k), v) for k, v in node["pairs"]))
            for k, v in pairs:
                d[k] = self.node(v)
            return d
        if kind == "slice":
            return slice(*(self.node(v) for v in node["args"]))
        if kind == "bytes":
            return bytes.fromhex(node["hex"])
        if kind == "array":
            return self._keep(node, self.array(node))
        if kind == "objarray":
            items = [self.node(v) for v in node["items"]]
            arr = np.empty(len(items), dtype=object)
            arr[:] = items
            return self._keep(node, arr.reshape(node["shape"]))
        if kind == "scalar":
            return _descr(node["dtype"]).type(node["value"])
        if kind == "dtype":
            return _descr(node["descr"])
        if kind == "class":
            return resolve(node["name"], self.classes)
        if kind == "function":
            return resolve(node["name"], FUNCTIONS)
        if kind == "categorical":
            return self._keep(node, pd.CategoricalDtype(self.node(node["categories"]),
                                                        ordered=bool(node["ordered"])))
        if kind == "random_state":
            rs = np.random.RandomState()
            rs.set_state(self.node(node["state"]))
            return self._keep(node, rs)
        if kind == "object":
            cls = resolve(node["class"], self.classes)
            obj = self._keep(node, cls.__new__(cls))
            state = {k: self.node(v) for k, v in node["state"].items()}
            if state.get("memory") is not None:
                # a Pipeline's cache directory: scikit-learn would unpickle what it finds there
                raise UnsafeModelError(f"The saved {node['class']} sets memory="
                                       f"{state['memory']!r}; foldstack refuses it.")
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                obj.__dict__.update(state)
            return obj
        if kind == "construct":
            cls = resolve(node["class"], CONSTRUCTED)
            args, state = [self.node(a) for a in node["args"]], self.node(node["state"])
            # C code follows the saved indices without bounds checks: check them first
            _CHECKS[node["class"]](args, state)
            obj = self._keep(node, cls(*args))
            obj.__setstate__(state)
            return obj
        if kind == "index":
            return self._keep(node, pd.Index(node["values"], dtype=node["dtype"],
                                             name=node["name"]))
        if kind == "index_table":
            return self._keep(node, pd.Index(
                pd.read_parquet(self._file(node["file"]))["__index__"], name=node["name"]))
        if kind in ("frame", "series"):
            frame = pd.read_parquet(self._file(node["file"]))
            return self._keep(node, frame["__series__"].rename(None) if kind == "series"
                              else frame)
        if kind == "xgboost":
            cls = resolve(node["class"], XGB_CLASSES)
            model = cls(**node["params"])
            if node["file"] is not None:
                model.load_model(self._file(node["file"]))
                _check_booster(model.get_booster())
            for k, v in node.get("attrs", {}).items():
                # fitted attributes only, as the writer wrote them: never __class__/__dict__
                if not isinstance(k, str) or not _FITTED_ATTR.fullmatch(k):
                    raise UnsafeModelError(f"Refusing the xgboost attribute {k!r}.")
                model.__dict__[k] = self.node(v)
            return self._keep(node, model)
        if kind in ("lightgbm", "catboost"):
            return self._keep(node, getattr(_boosters, f"load_{kind}")(self._file(node["file"])))
        if kind == "torch_net":
            return self._keep(node, self._net(node))
        if kind == "pickle":
            if not self.allow_pickle:
                raise UnsafeModelError("This model holds a pickle; load it with "
                                       "allow_pickle=True only if you trust it.")
            import joblib
            return self._keep(node, joblib.load(self._file(node["file"])))
        raise UnsafeModelError(f"Unknown node type {kind!r} in the manifest.")

    def _net(self, node: dict) -> Any:
        import torch
        from safetensors.torch import load_file

        net_cls = resolve(node["class"], NET_CLASSES)
        module_cls = resolve(node["module"], MODULE_REGISTRY)
        params = {f"module__{k}": _classes(v) for k, v in node["module_params"].items()}
        # criterion and optimizer are irrelevant for prediction; skorch needs some.
        net = net_cls(module=module_cls, criterion=torch.nn.MSELoss, optimizer=_NoOptimizer,
                      device="cpu", task=node.get("task") or "regression", verbose=0,
                      **params)
        net.initialize()
        net.module_.load_state_dict(load_file(str(self._file(node["file"]))))
        net.module_.eval()
        return net


class _NoOptimizer:
    """The optimizer of a loaded net: predicting needs none, and building a torch optimizer
    imports torch's compiler (about 2 s).  Refitting the model builds a real one."""

    def __init__(self, params: Any, **kwargs: Any) -> None:
        self.param_groups: list = []

    def state_dict(self) -> dict:
        return {}


_FITTED_ATTR = re.compile(r"[a-z][a-z0-9_]*_")


def _check_tree(args: list, state: Any) -> None:
    """A scikit-learn ``Tree`` whose every index stays inside the tree and its features."""
    n_features, n_classes, n_outputs = args
    n_classes = np.asarray(n_classes)
    ok = (type(n_features) is int and n_features >= 1 and type(n_outputs) is int
          and n_outputs >= 1 and n_classes.shape == (n_outputs,)
          and np.issubdtype(n_classes.dtype, np.integer) and n_classes.min() >= 1)
    if not ok or not isinstance(state, dict):
        raise UnsafeModelError("A saved decision tree has an impossible shape.")
    nodes, values, count = state.get("nodes"), state.get("values"), state.get("node_count")
    if (not isinstance(nodes, np.ndarray) or not isinstance(values, np.ndarray)
            or nodes.dtype.names is None or type(count) is not int or count < 1
            or len(nodes) != count or values.shape != (count, n_outputs, n_classes.max())):
        raise UnsafeModelError("A saved decision tree's nodes do not match its size.")
    _check_children(nodes["left_child"], nodes["right_child"], nodes["feature"], n_features,
                    "decision tree")


def _check_children(left: np.ndarray, right: np.ndarray, feature: np.ndarray,
                    n_features: int, what: str) -> None:
    """Leaves (-1, -1); inner node i: children in (i, n), a feature in [0, n_features)."""
    left, right, feature = (np.asarray(a, dtype=np.int64) for a in (left, right, feature))
    n, i = len(left), np.arange(len(left))
    if len(right) != n or len(feature) != n:
        raise UnsafeModelError(f"A saved {what} has arrays of different lengths.")
    leaf = left == -1
    inner_ok = ((left > i) & (left < n) & (right > i) & (right < n)
                & (feature >= 0) & (feature < n_features))
    if not np.all(np.where(leaf, right == -1, inner_ok)):
        raise UnsafeModelError(f"A saved {what} points outside itself (a node's child or "
                               "feature index is out of range); refusing it.")


def _check_booster(booster: Any) -> None:
    """Every tree of an xgboost booster keeps its indices inside the tree and the features.

    xgboost's predictor follows them without bounds checks (a crafted file crashes it).
    """
    model = json.loads(bytes(booster.save_raw("json")))["learner"]
    n_features = int(model["learner_model_param"]["num_feature"])
    gbm = model["gradient_booster"]
    if gbm["name"] not in ("gbtree", "dart"):
        return   # a linear booster holds no indices
    for tree in (gbm["gbtree"] if gbm["name"] == "dart" else gbm)["model"]["trees"]:
        n = int(tree["tree_param"]["num_nodes"])
        left = tree["left_children"]
        if len(left) != n:
            raise UnsafeModelError("A saved xgboost tree does not match its size.")
        _check_children(left, tree["right_children"], tree["split_indices"], n_features,
                        "xgboost tree")
        segments, sizes = (np.asarray(tree[k], dtype=np.int64) for k in
                           ("categories_segments", "categories_sizes"))
        if len(segments) and (segments.min() < 0 or sizes.min() < 0 or
                              (segments + sizes).max() > len(tree["categories"])):
            raise UnsafeModelError("A saved xgboost tree's categories point outside it.")


_CHECKS = {"sklearn.tree._tree.Tree": _check_tree}


def _descr(descr: Any) -> np.dtype:
    """A numpy dtype from its saved description; dtypes that hold objects are refused."""
    if isinstance(descr, list):
        descr = [tuple(f) if isinstance(f, list) else f for f in descr]
    dtype = np.lib.format.descr_to_dtype(descr)
    if dtype.hasobject and dtype != np.dtype(object):
        raise UnsafeModelError(f"Refusing the structured dtype {descr!r}: it holds objects.")
    return dtype


def _classes(v: Any) -> Any:
    """Module parameters as saved, with ``{"__class__": name}`` resolved in the registry."""
    if isinstance(v, dict):
        if set(v) == {"__class__"}:
            return resolve(v["__class__"], MODULE_REGISTRY)
        return {k: _classes(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_classes(x) for x in v]
    return v


def _class_names(v: Any) -> set[str]:
    if isinstance(v, type):
        return {qualname(v)}
    if isinstance(v, dict):
        return set().union(*(_class_names(x) for x in v.values())) if v else set()
    if isinstance(v, (list, tuple)):
        return set().union(*(_class_names(x) for x in v)) if v else set()
    return set()
