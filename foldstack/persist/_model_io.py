"""save_model / load_model: a fitted model as files that cannot run code when loaded.

A model is walked as a tree.  Plain data (numbers, strings, lists, dicts) goes into the
manifest as JSON.  A scikit-learn leaf goes through ``skops.io`` and is loaded only with the
types foldstack's policy trusts (computed here, never taken from the file).  An xgboost model
is stored in xgboost's own UBJSON format plus its parameters.  A skorch network stores its
weights with ``safetensors`` and a JSON description of its architecture, rebuilt at load time
from foldstack's own module registry (skorch keeps module, optimizer and criterion as a pickle
inside its state, which skops cannot make safe).  Objects that hold such parts are stored as
their class name (checked against the policy) plus their attributes.

``manifest.json`` lists every file with its SHA-256; a file that does not match is refused.
Anything else (a user's own torch module, an unknown class) needs ``allow_pickle=True`` both
when saving and when loading.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldstack._version import __version__
from foldstack.exceptions import InvalidParameterError, UnsafeModelError, VersionMismatchWarning
from foldstack.persist._policy import (
    MODULE_REGISTRY,
    NET_CLASSES,
    XGB_CLASSES,
    is_trusted,
    qualname,
    resolve,
)

logger = logging.getLogger(__name__)
FORMAT = 1
_VERSIONED = ("numpy", "scipy", "pandas", "sklearn", "xgboost", "torch", "skorch")


def library_versions() -> dict[str, str]:
    """Versions of Python, foldstack and every core dependency that is installed."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "foldstack": __version__}
    for mod, dist in zip(_VERSIONED, ("numpy", "scipy", "pandas", "scikit-learn", "xgboost",
                                      "torch", "skorch")):
        try:
            out[mod] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def _is_xgb(obj: Any) -> bool:
    return qualname(obj) in XGB_CLASSES


def _is_net(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "skorch" or qualname(obj) in NET_CLASSES


def _is_torch(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "torch"


def _special(obj: Any, depth: int = 0) -> bool:
    """Does ``obj`` hold a part that skops must not (or cannot) store?"""
    if depth > 30 or isinstance(obj, (np.ndarray, str, bytes, int, float, type(None))):
        return False
    if _is_xgb(obj) or _is_net(obj) or _is_torch(obj):
        return True
    if isinstance(obj, type):
        return not is_trusted(qualname(obj))
    if isinstance(obj, (list, tuple)):
        return any(_special(v, depth + 1) for v in obj)
    if isinstance(obj, dict):
        return any(_special(v, depth + 1) for v in obj.values())
    if hasattr(obj, "__dict__") and type(obj).__module__.split(".")[0] in (
            "sklearn", "foldstack"):
        return any(_special(v, depth + 1) for v in vars(obj).values())
    return False


class _Writer:
    def __init__(self, root: Path, allow_pickle: bool) -> None:
        self.root, self.allow_pickle, self.n = root, allow_pickle, 0

    def file(self, stem: str, suffix: str) -> tuple[str, Path]:
        self.n += 1
        name = f"{stem}_{self.n}{suffix}"
        return name, self.root / name

    def node(self, obj: Any) -> dict:
        if _is_json(obj):
            return {"type": "json", "value": obj}
        if isinstance(obj, (pd.DataFrame, pd.Series)):
            return self._frame(obj)
        if isinstance(obj, pd.Index) and not isinstance(obj, pd.MultiIndex):
            return self._index(obj)
        if _is_xgb(obj):
            return self._xgb(obj)
        if _is_net(obj):
            return self._net(obj)
        if isinstance(obj, (list, tuple)) and _special(obj):
            return {"type": type(obj).__name__, "items": [self.node(v) for v in obj]}
        if isinstance(obj, dict) and _special(obj) and all(isinstance(k, str) for k in obj):
            return {"type": "dict", "items": {k: self.node(v) for k, v in obj.items()}}
        if _special(obj) and hasattr(obj, "__dict__") and is_trusted(qualname(obj)):
            return {"type": "object", "class": qualname(obj),
                    "attrs": {k: self.node(v) for k, v in vars(obj).items()}}
        return self._leaf(obj)

    def _leaf(self, obj: Any) -> dict:
        import skops.io as sio

        if not _special(obj):
            try:
                data = sio.dumps(obj)
                untrusted = [t for t in sio.get_untrusted_types(data=data) if not is_trusted(t)]
            except Exception as exc:  # skops cannot represent it whole: walk its parts
                if type(obj) in (list, tuple):
                    return {"type": type(obj).__name__, "items": [self.node(v) for v in obj]}
                if type(obj) is dict and all(isinstance(k, str) for k in obj):
                    return {"type": "dict", "items": {k: self.node(v) for k, v in obj.items()}}
                if hasattr(obj, "__dict__") and is_trusted(qualname(obj)) and not isinstance(
                        obj, type):
                    return {"type": "object", "class": qualname(obj),
                            "attrs": {k: self.node(v) for k, v in vars(obj).items()}}
                untrusted = [f"{qualname(obj)} ({type(exc).__name__}: {exc})"]
            if not untrusted:
                name, path = self.file("part", ".skops")
                path.write_bytes(data)
                return {"type": "skops", "file": name}
        else:
            untrusted = [qualname(obj)]
        if not self.allow_pickle:
            raise UnsafeModelError(
                f"Cannot save {qualname(obj)} safely: it holds {untrusted[:3]}, which "
                "foldstack does not rebuild from a file (e.g. a custom torch module). Save with "
                "allow_pickle=True (--allow-pickle) if you accept a pickle, which can run code "
                "when loaded.")
        import joblib

        name, path = self.file("part", ".pkl")
        joblib.dump(obj, path)
        return {"type": "pickle", "file": name}

    def _index(self, obj: pd.Index) -> dict:
        values = obj.tolist()
        if _is_json(values):
            return {"type": "index", "values": values, "dtype": str(obj.dtype),
                    "name": obj.name if _is_json(obj.name) else None}
        node = self._frame(obj.to_frame(name="__index__", index=False))
        return {**node, "type": "index_table", "name": obj.name if _is_json(obj.name) else None}

    def _frame(self, obj: Any) -> dict:
        name, path = self.file("table", ".parquet")
        series = isinstance(obj, pd.Series)
        frame = obj.to_frame(name="__series__") if series else obj
        frame.to_parquet(path)
        return {"type": "series" if series else "frame", "file": name}

    def _xgb(self, obj: Any) -> dict:
        name = None
        if hasattr(obj, "_Booster"):  # fitted; an unfitted one is its parameters alone
            name, path = self.file("xgboost", ".ubj")
            obj.save_model(path)
        params = {k: v for k, v in obj.get_params().items() if _is_json(v)}
        extra = {k: self.node(v) for k, v in vars(obj).items()
                 if k.endswith("_") and not k.startswith("_") and k != "n_classes_"}
        return {"type": "xgboost", "class": qualname(obj), "file": name, "params": params,
                "attrs": extra}

    def _net(self, net: Any) -> dict:
        from safetensors.torch import save_file

        params = net.get_params()
        module_params = {k[len("module__"):]: v for k, v in params.items()
                         if k.startswith("module__")}
        classes = {qualname(net), qualname(params["module"])} | _class_names(module_params)
        foreign = sorted(c for c in classes if c not in MODULE_REGISTRY | NET_CLASSES)
        if foreign:
            if not self.allow_pickle:
                raise UnsafeModelError(
                    f"Cannot save the network safely: it is built from {foreign}, which are "
                    "not foldstack's own modules, so its code cannot be rebuilt from a file. "
                    "Save with allow_pickle=True (--allow-pickle) if you accept a pickle.")
            return self._leaf(net)
        name, path = self.file("weights", ".safetensors")
        state = {k: v.detach().cpu().contiguous() for k, v in net.module_.state_dict().items()}
        save_file(state, str(path))
        return {"type": "torch_net", "class": qualname(net), "module": qualname(params["module"]),
                "module_params": {k: self._module_value(v) for k, v in module_params.items()},
                "task": params.get("task"), "file": name}

    def _module_value(self, v: Any) -> Any:
        if isinstance(v, type):
            return {"__class__": qualname(v)}
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, (list, tuple)):
            return [self._module_value(x) for x in v]
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: self._module_value(x) for k, x in v.items()}
        if not _is_json(v):
            raise UnsafeModelError(f"Network parameter {v!r} is not plain data.")
        return v


def _is_json(obj: Any) -> bool:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return not isinstance(obj, float) or np.isfinite(obj)
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return isinstance(obj, list) and all(_is_json(v) for v in obj)
    if type(obj) is dict:
        return all(isinstance(k, str) and _is_json(v) for k, v in obj.items())
    return False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(model: Any, path: str | os.PathLike, *, metadata: dict | None = None,
               allow_pickle: bool = False) -> Path:
    """Save a fitted model to directory ``path`` in a form that loads without running code.

    Parameters
    ----------
    model : estimator
        Any fitted foldstack / scikit-learn / xgboost model, Pipeline or ensemble.
    path : str or path-like
        A directory (created; replaced atomically if it exists).
    metadata : dict, default=None
        JSON-able information stored in the manifest (e.g. the training schema).
    allow_pickle : bool, default=False
        Store parts foldstack cannot rebuild safely (a user's torch module) as pickles.  The
        file can then run code when loaded, and loading needs ``allow_pickle=True`` too.

    Returns
    -------
    Path

    Examples
    --------
    >>> fs.persist.save_model(model, "model")        # doctest: +SKIP
    >>> model = fs.persist.load_model("model")       # doctest: +SKIP
    """
    path = Path(path)
    if metadata is not None and not _is_json(metadata):
        raise InvalidParameterError("`metadata` must be JSON-able (dicts, lists, str, numbers).")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        writer = _Writer(tmp, allow_pickle)
        tree = writer.node(model)
        files = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        manifest = {"format": FORMAT, "versions": library_versions(), "files": files,
                    "pickle": any(n.endswith(".pkl") for n in files), "tree": tree,
                    "metadata": metadata or {}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a saved model (versions, files, metadata), without loading it."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise UnsafeModelError(f"'{path}' is not a saved foldstack model (no manifest.json).")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnsafeModelError(f"'{manifest_path}' is damaged: {exc}.") from None
    if manifest.get("format") != FORMAT:
        raise UnsafeModelError(f"'{path}' was saved in format {manifest.get('format')!r}; this "
                               f"foldstack reads format {FORMAT}.")
    return manifest


def load_model(path: str | os.PathLike, *, allow_pickle: bool = False) -> Any:
    """Load a model written by :func:`save_model`, checking every file's SHA-256.

    Raises :class:`~foldstack.exceptions.UnsafeModelError` when a file was modified, when
    the model asks for a type foldstack does not trust, or when it holds a pickle and
    ``allow_pickle`` is False.  Warns (:class:`VersionMismatchWarning`) when it was saved by
    other versions of foldstack or its dependencies.
    """
    path = Path(path)
    manifest = read_manifest(path)
    for name, digest in manifest["files"].items():
        file = path / name
        if Path(name).name != name or not file.is_file():
            raise UnsafeModelError(f"'{path}' lacks the file {name!r} listed in its manifest.")
        if _sha256(file) != digest:
            raise UnsafeModelError(
                f"'{file}' was modified after saving (its SHA-256 does not match the "
                "manifest); refusing to load it. Save the model again.")
    if manifest.get("pickle") and not allow_pickle:
        raise UnsafeModelError(
            f"'{path}' contains pickled parts, which can run code when loaded. Load it with "
            "allow_pickle=True (--allow-pickle) only if you trust its source.")
    saved, now = manifest.get("versions", {}), library_versions()
    diff = {k: (saved[k], now.get(k)) for k in saved if k != "python" and saved[k] != now.get(k)}
    if diff:
        listed = ", ".join(f"{k} {a} (now {b})" for k, (a, b) in diff.items())
        warnings.warn(f"'{path}' was saved with {listed}; predictions may differ.",
                      VersionMismatchWarning, stacklevel=2)
    return _Reader(path, manifest["files"], allow_pickle).node(manifest["tree"])


class _Reader:
    def __init__(self, root: Path, files: dict, allow_pickle: bool) -> None:
        self.root, self.files, self.allow_pickle = root, files, allow_pickle

    def _file(self, name: str) -> Path:
        if name not in self.files:
            raise UnsafeModelError(f"The manifest's tree names {name!r}, which it does not "
                                   "list with a checksum.")
        return self.root / name

    def node(self, node: dict) -> Any:
        kind = node.get("type")
        if kind == "json":
            return node["value"]
        if kind in ("list", "tuple"):
            items = [self.node(v) for v in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return {k: self.node(v) for k, v in node["items"].items()}
        if kind == "object":
            cls = resolve(node["class"])
            obj = cls.__new__(cls)
            obj.__dict__.update({k: self.node(v) for k, v in node["attrs"].items()})
            return obj
        if kind == "index":
            return pd.Index(node["values"], dtype=node["dtype"], name=node["name"])
        if kind == "index_table":
            return pd.Index(pd.read_parquet(self._file(node["file"]))["__index__"],
                            name=node["name"])
        if kind in ("frame", "series"):
            frame = pd.read_parquet(self._file(node["file"]))
            return frame["__series__"].rename(None) if kind == "series" else frame
        if kind == "skops":
            return self._skops(node)
        if kind == "xgboost":
            cls = resolve(node["class"], XGB_CLASSES)
            model = cls(**node["params"])
            if node["file"] is not None:
                model.load_model(self._file(node["file"]))
            for k, v in node.get("attrs", {}).items():
                setattr(model, k, self.node(v))
            return model
        if kind == "torch_net":
            return self._net(node)
        if kind == "pickle":
            if not self.allow_pickle:
                raise UnsafeModelError("This model holds a pickle; load it with "
                                       "allow_pickle=True only if you trust it.")
            import joblib
            return joblib.load(self._file(node["file"]))
        raise UnsafeModelError(f"Unknown node type {kind!r} in the manifest.")

    def _skops(self, node: dict) -> Any:
        import skops.io as sio

        data = self._file(node["file"]).read_bytes()
        asked = sio.get_untrusted_types(data=data)
        refused = [t for t in asked if not is_trusted(t)]
        if refused:
            raise UnsafeModelError(
                f"'{node['file']}' asks for types foldstack does not load: {refused[:5]}. "
                "If you trust the file, load it with allow_pickle=True after re-saving it "
                "with allow_pickle=True.")
        return sio.loads(data, trusted=asked)

    def _net(self, node: dict) -> Any:
        import torch
        from safetensors.torch import load_file

        net_cls = resolve(node["class"], NET_CLASSES)
        module_cls = resolve(node["module"], MODULE_REGISTRY)
        params = {f"module__{k}": _classes(v) for k, v in node["module_params"].items()}
        # criterion and optimizer are irrelevant for prediction; skorch needs some.
        net = net_cls(module=module_cls, criterion=torch.nn.MSELoss, optimizer=torch.optim.SGD,
                      device="cpu", task=node.get("task") or "regression", verbose=0,
                      **params)
        net.initialize()
        net.module_.load_state_dict(load_file(str(self._file(node["file"]))))
        net.module_.eval()
        return net


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
