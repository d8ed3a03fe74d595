"""LightGBM boosters and CatBoost models as their libraries' own text formats, checked on load.

Both libraries' predictors follow the indices inside a saved model (a node's children, a
split's feature, a categorical split's slice of levels) without bounds checks, so a crafted
file could make them read outside their arrays.  Before a library reads a file, every such
index is checked here against the sizes the same file declares; a model that fails is
refused with :class:`~foldstack.exceptions.UnsafeModelError`.

- LightGBM: the booster's text model (``model_to_string``).  The ``tree_sizes`` line, which
  LightGBM would trust to jump between trees, is dropped: it then parses tree by tree.
  Linear trees (never trained by foldstack) are refused.
- CatBoost: the model's JSON export (``save_model(format="json")``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from foldstack.exceptions import UnsafeModelError


def _refuse(what: str) -> UnsafeModelError:
    return UnsafeModelError(f"A saved {what}; refusing the model (save it again).")


# ------------------------------------------------------------------------------ LightGBM
def save_lightgbm(booster: Any, path: Path) -> None:
    path.write_text(booster.model_to_string(), encoding="utf-8")


def load_lightgbm(path: Path) -> Any:
    import lightgbm as lgb

    text = check_lightgbm_text(path.read_text(encoding="utf-8"))
    return lgb.Booster(model_str=text)


def _ints(value: str, what: str) -> np.ndarray:
    try:
        return np.array([int(v) for v in value.split()], dtype=np.int64)
    except ValueError:
        raise _refuse(f"LightGBM {what} is not a list of integers") from None


def check_lightgbm_text(text: str) -> str:
    """The model text without its ``tree_sizes`` line, once every index in it is in range."""
    header, _, rest = text.partition("\nTree=")
    keys = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
    try:
        n_features = int(keys["max_feature_idx"]) + 1
        per_iteration = int(keys["num_tree_per_iteration"])
    except (KeyError, ValueError):
        raise _refuse("LightGBM model lacks its feature count") from None
    if n_features < 1 or per_iteration < 1:
        raise _refuse("LightGBM model declares no feature or no tree per iteration")
    body = rest.partition("end of trees")[0]
    for block in ("\nTree=" + body).split("\nTree=")[1:] if rest else []:
        _check_lightgbm_tree(dict(line.split("=", 1) for line in block.splitlines()
                                  if "=" in line), n_features)
    return "\n".join(line for line in text.split("\n") if not line.startswith("tree_sizes="))


def _check_lightgbm_tree(tree: dict[str, str], n_features: int) -> None:
    if tree.get("is_linear", "0").strip() != "0":
        raise _refuse("LightGBM tree is linear, which foldstack never trains")
    try:
        n_leaves, n_cat = int(tree["num_leaves"]), int(tree.get("num_cat", "0"))
    except (KeyError, ValueError):
        raise _refuse("LightGBM tree lacks its size") from None
    if n_leaves < 1 or n_cat < 0:
        raise _refuse("LightGBM tree has an impossible size")
    if n_leaves == 1:
        return
    n_inner = n_leaves - 1
    left, right = _ints(tree.get("left_child", ""), "tree"), _ints(tree.get("right_child", ""),
                                                                    "tree")
    feature = _ints(tree.get("split_feature", ""), "tree")
    decision = _ints(tree.get("decision_type", ""), "tree")
    if not (len(left) == len(right) == len(feature) == len(decision) == n_inner):
        raise _refuse("LightGBM tree's arrays do not match its size")
    i = np.arange(n_inner)
    for child in (left, right):
        inner_ok = (child > i) & (child < n_inner)
        leaf_ok = (child < 0) & (~child < n_leaves)
        if not np.all(inner_ok | leaf_ok):
            raise _refuse("LightGBM tree points outside itself (a child out of range)")
    if feature.min() < 0 or feature.max() >= n_features:
        raise _refuse("LightGBM tree splits on a feature it does not have")
    categorical = (decision & 1).astype(bool)
    if not categorical.any():
        return
    try:
        thresholds = np.array([float(v) for v in tree["threshold"].split()])
    except (KeyError, ValueError):
        raise _refuse("LightGBM tree lacks its thresholds") from None
    bounds = _ints(tree.get("cat_boundaries", ""), "tree")
    levels = _ints(tree.get("cat_threshold", ""), "tree")
    index = thresholds[:len(decision)][categorical] if len(thresholds) >= n_inner else None
    if (index is None or len(bounds) != n_cat + 1 or bounds[0] != 0
            or np.any(np.diff(bounds) < 0) or bounds[-1] != len(levels)
            or np.any(index != np.floor(index)) or index.min() < 0 or index.max() >= n_cat):
        raise _refuse("LightGBM tree's categorical splits point outside their levels")


# ------------------------------------------------------------------------------ CatBoost
def save_catboost(model: Any, path: Path) -> None:
    model.save_model(str(path), format="json")


def load_catboost(path: Path) -> Any:
    from catboost import CatBoost

    try:
        check_catboost_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, RecursionError) as exc:
        raise _refuse(f"CatBoost model is not valid JSON ({exc})") from None
    model = CatBoost()
    model.load_model(str(path), format="json")
    return model


def _index(value: Any, size: int, what: str) -> None:
    if type(value) is not int or not 0 <= value < size:
        raise _refuse(f"CatBoost {what} is out of range")


def check_catboost_json(model: Any) -> None:
    """Every index of a CatBoost JSON model stays inside what the model declares."""
    try:
        info = model["features_info"]
        floats = info.get("float_features", [])
        cats = info.get("categorical_features", [])
        ctrs = info.get("ctrs", [])
        trees = model["oblivious_trees"]
    except (KeyError, TypeError, AttributeError):
        raise _refuse("CatBoost model lacks its features or trees") from None
    if not all(isinstance(x, list) for x in (floats, cats, ctrs, trees)):
        raise _refuse("CatBoost model's features or trees are not lists")
    n_flat = len(floats) + len(cats)
    flat = []
    for position, feature in enumerate(floats + cats):
        if not isinstance(feature, dict):
            raise _refuse("CatBoost feature is not a record")
        kind_size = len(floats) if position < len(floats) else len(cats)
        _index(feature.get("feature_index"), kind_size, "feature index")
        _index(feature.get("flat_feature_index"), n_flat, "feature index")
        flat.append(feature["flat_feature_index"])
    if len(set(flat)) != len(flat):
        raise _refuse("CatBoost model names a feature twice")
    for ctr in ctrs:
        if not isinstance(ctr, dict) or not isinstance(ctr.get("elements"), list):
            raise _refuse("CatBoost counter is not a record")
        for element in ctr["elements"]:
            key = "cat_feature_index" if "cat_feature_index" in element else "float_feature_index"
            _index(element.get(key), len(cats) if key == "cat_feature_index" else len(floats),
                   "counter feature")
    for table in (model.get("ctr_data") or {}).values():
        stride, values = table.get("hash_stride"), table.get("hash_map")
        if type(stride) is not int or stride < 2 or not isinstance(values, list) \
                or len(values) % stride:
            raise _refuse("CatBoost counter table does not match its stride")
    n_splits = (sum(len(f.get("borders") or []) for f in floats)
                + sum(len(c.get("values") or []) for c in cats)
                + sum(len(c.get("borders") or []) for c in ctrs))
    width = None
    for tree in trees:
        # a tree without a split is saved with "splits": null
        splits, values = tree.get("splits") or [], tree.get("leaf_values")
        if not isinstance(splits, list) or not isinstance(values, list) or len(splits) > 16:
            raise _refuse("CatBoost tree has an impossible shape")
        for split in splits:
            _index(split.get("split_index"), n_splits, "split")
            kind = split.get("split_type")
            if kind == "FloatFeature":
                _index(split.get("float_feature_index"), len(floats), "split feature")
            elif kind == "OneHotFeature":
                _index(split.get("cat_feature_index"), len(cats), "split feature")
            elif kind == "OnlineCtr":
                if type(split.get("ctr_target_border_idx")) is not int:
                    raise _refuse("CatBoost counter split lacks its border")
            else:
                raise _refuse(f"CatBoost split of type {kind!r}, which foldstack does not load,")
        leaves = 2 ** len(splits)
        if len(values) % leaves or (width is not None and len(values) // leaves != width):
            raise _refuse("CatBoost tree's leaf values do not match its depth")
        width = len(values) // leaves
        if len(tree.get("leaf_weights") or [0] * leaves) != leaves:
            raise _refuse("CatBoost tree's leaf weights do not match its depth")
