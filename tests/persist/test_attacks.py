"""Crafted model directories: none of them runs code when loaded.

Each payload rewrites the manifest of a model that foldstack saved itself and then makes every
checksum match again, as an attacker who hands over a directory would.  Every payload would
create a marker file if any of its code ran; the marker must never appear, and loading must
be refused with :class:`UnsafeModelError`.
"""

import json
import os
import pickle
import zlib

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from foldstack.exceptions import UnsafeModelError
from foldstack.persist import load_model, save_model
from foldstack.persist._model_io import _sha256


class Payload:
    """Unpickling this runs ``os.system`` and leaves ``marker`` behind."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "code-ran"


@pytest.fixture
def saved(tmp_path):
    X = np.abs(np.random.RandomState(0).normal(size=(20, 2)))
    model = make_pipeline(StandardScaler(), FunctionTransformer(np.log1p)).fit(X)
    return save_model(model, tmp_path / "model")


def rewrite(path, change):
    """Apply ``change(manifest, path)`` and make every checksum match again."""
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest, path)
    manifest["files"] = {p.name: _sha256(p) for p in sorted(path.iterdir())
                         if p.name != "manifest.json"}
    (path / "manifest.json").write_text(json.dumps(manifest))


def find_array(node):
    """The first array node of a manifest's tree."""
    if isinstance(node, dict) and node.get("$t") == "array":
        return node
    parts = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return next(filter(None, map(find_array, parts)), None)


def func_step(manifest):
    """The FunctionTransformer's state in the saved pipeline."""
    return manifest["tree"]["state"]["steps"]["items"][1]["items"][1]["state"]


def set_func(name, kw_args=None):
    def change(manifest, path):
        state = func_step(manifest)
        state["func"] = {"$t": "function", "name": name}
        if kw_args is not None:
            state["kw_args"] = kw_args
    return change


def set_class(name, state=None):
    def change(manifest, path):
        manifest["tree"] = {"$t": "object", "class": name, "state": state or {}}
    return change


def code_for(marker):
    return f"open({str(marker)!r}, 'w').write('x')"


PAYLOADS = {
    # functions under a once-trusted prefix that exec or run commands
    "numpy runstring": lambda m: set_func("numpy.testing._private.utils.runstring",
                                          {"dict": {}}),
    "attribute traversal to os.system": lambda m: set_func(
        "numpy.testing._private.utils.os.system"),
    "attribute traversal to a class": lambda m: set_class(
        "numpy.testing._private.utils.os.PathLike"),
    "builtins.exec": lambda m: set_func("builtins.exec"),
    "builtins.eval": lambda m: set_func("builtins.eval"),
    "builtins.compile": lambda m: set_func("builtins.compile"),
    "builtins.open": lambda m: set_func("builtins.open"),
    "builtins.__import__": lambda m: set_func("builtins.__import__"),
    "builtins.getattr": lambda m: set_func("builtins.getattr"),
    "os.system": lambda m: set_func("os.system"),
    "pickle.loads": lambda m: set_func("pickle.loads"),
    "joblib.load through foldstack": lambda m: set_func("foldstack.persist._model_io.joblib.load"),
    "operator.methodcaller as an object": lambda m: set_class("operator.methodcaller"),
    "operator.attrgetter as a class": lambda m: set_func("operator.attrgetter"),
    "functools.partial wrapping os.system": lambda m: set_class("functools.partial", {
        "func": {"$t": "function", "name": "os.system"}, "args": [f"touch {m}"]}),
    "np.vectorize wrapping eval": lambda m: set_class("numpy.vectorize", {
        "pyfunc": {"$t": "function", "name": "builtins.eval"}}),
    "prefix without a dot (numpyro)": lambda m: set_class("numpyro.infer.MCMC"),
    "prefix without a dot (numpy_evil)": lambda m: set_func("numpy_evil.run"),
    "nested qualname of an allowed class": lambda m: set_func(
        "sklearn.pipeline.Pipeline.__init__"),
    "subprocess.Popen constructed": lambda m: (lambda man, p: man.update(tree={
        "$t": "construct", "class": "subprocess.Popen", "args": [
            {"$t": "list", "items": ["touch", str(m)]}], "state": None})),
    "eval constructed": lambda m: (lambda man, p: man.update(tree={
        "$t": "construct", "class": "builtins.eval", "args": [code_for(m)], "state": None})),
    "defaultdict mapping": lambda m: (lambda man, p: man.update(tree={
        "$t": "dict", "class": "collections.defaultdict", "items": {}})),
    "xgboost node naming Popen": lambda m: (lambda man, p: man.update(tree={
        "$t": "xgboost", "class": "subprocess.Popen", "file": None,
        "params": {"args": ["touch", str(m)]}, "attrs": {}})),
    "network module outside the registry": lambda m: (lambda man, p: man.update(tree={
        "$t": "torch_net", "class": "foldstack.models._training.TabularNet",
        "module": "torch.nn.Linear", "module_params": {}, "task": None, "file": None})),
    "network parameter class os.system": lambda m: (lambda man, p: man.update(tree={
        "$t": "torch_net", "class": "foldstack.models._training.TabularNet",
        "module": "foldstack.models._module.MLP",
        "module_params": {"activation": {"__class__": "os.system"}}, "task": None,
        "file": None})),
    "torch.load": lambda m: set_func("torch.load"),
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_crafted_manifest_runs_no_code(saved, marker, name):
    rewrite(saved, PAYLOADS[name](marker))
    with pytest.raises(UnsafeModelError):
        model = load_model(saved)
        model.transform(np.ones((2, 2)))   # only reached if the policy let it through
    assert not marker.exists()


def plant_pickle(marker, pickled_flag):
    def change(manifest, path):
        joblib.dump(Payload(marker), path / "part_9.pkl")
        manifest["pickle"] = pickled_flag
        func_step(manifest)["func"] = {"$t": "pickle", "file": "part_9.pkl"}
    return change


@pytest.mark.parametrize("pickled_flag", [False, True])
def test_planted_pickle_node_needs_allow_pickle(saved, marker, pickled_flag):
    rewrite(saved, plant_pickle(marker, pickled_flag))
    with pytest.raises(UnsafeModelError, match="pickle"):
        load_model(saved)
    assert not marker.exists()


def test_arrays_file_read_as_objects_or_out_of_bounds_is_refused(saved, marker):
    (saved / "arrays.bin").write_bytes(pickle.dumps(Payload(marker)))
    for change in ({"dtype": "|O"}, {"dtype": [["a", "|O"]]}, {"at": 10 ** 9},
                   {"shape": [10 ** 9]}, {"shape": [-1]}):
        def plant(manifest, path, change=change):
            manifest["zlib"] = []     # the planted bytes are read as they are
            find_array(manifest["tree"]).update(change)

        rewrite(saved, plant)
        with pytest.raises(UnsafeModelError, match="Refusing|damaged"):
            load_model(saved)
    assert not marker.exists()


@pytest.mark.parametrize("content", [zlib.compress(bytes(200 * 2**20), 9), b"not zlib"])
def test_a_compressed_arrays_file_that_expands_too_much_or_is_not_zlib_is_refused(saved,
                                                                                 content):
    def plant(manifest, path):
        (path / "arrays.bin").write_bytes(content)
        manifest["zlib"] = ["arrays.bin"]

    rewrite(saved, plant)
    with pytest.raises(UnsafeModelError, match="damaged|expands more than"):
        load_model(saved)


def test_pipeline_memory_pointing_at_planted_pickles_is_refused(saved, marker, tmp_path):
    cache = tmp_path / "joblib-cache"
    cache.mkdir()
    (cache / "output.pkl").write_bytes(pickle.dumps(Payload(marker)))

    def change(manifest, path):
        manifest["tree"]["state"]["memory"] = str(cache)
    rewrite(saved, change)
    with pytest.raises(UnsafeModelError, match="memory"):
        load_model(saved)
    assert not marker.exists()


def test_unknown_reference_and_absurd_nesting_are_damage(saved):
    def dangling(manifest, path):
        func_step(manifest)["func"] = {"$t": "ref", "id": 10 ** 6}
    rewrite(saved, dangling)
    with pytest.raises(UnsafeModelError, match="damaged"):
        load_model(saved)
    (saved / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UnsafeModelError, match="damaged"):
        load_model(saved)


def test_file_names_cannot_leave_the_directory(saved, tmp_path):
    manifest = json.loads((saved / "manifest.json").read_text())
    (tmp_path / "outside.parquet").write_bytes(b"x")
    manifest["files"]["../outside.parquet"] = _sha256(tmp_path / "outside.parquet")
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UnsafeModelError, match="lacks the file"):
        load_model(saved)


def test_the_untouched_model_still_loads_and_transforms(saved):
    back = load_model(saved)
    out = back.transform(np.ones((2, 2)))
    assert np.all(np.isfinite(out))


def _find(node, kind):
    if isinstance(node, dict) and node.get("$t") == kind:
        return node
    parts = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    return next(filter(None, (_find(p, kind) for p in parts)), None)


@pytest.mark.parametrize("field, value", [("left_child", 1 << 40), ("right_child", 0),
                                          ("feature", 1 << 40), ("feature", -7)])
def test_tree_indices_out_of_range_are_refused_before_any_predict(tmp_path, field, value):
    """scikit-learn's C code follows a tree's indices unchecked: a crafted one would crash."""
    from sklearn.tree import DecisionTreeClassifier

    X = np.random.RandomState(0).normal(size=(40, 3))
    path = save_model(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, X[:, 0] > 0),
                      tmp_path / "m")

    def change(manifest, path):
        nodes = _find(manifest["tree"], "construct")["state"]["items"]["nodes"]
        packed = "arrays.bin" in manifest["zlib"]     # stored compressed: edit the bytes
        buf = (path / "arrays.bin").read_bytes()
        buf = bytearray(zlib.decompress(buf) if packed else buf)
        dtype = np.lib.format.descr_to_dtype([tuple(f) for f in nodes["dtype"]])
        arr = np.frombuffer(buf, dtype=dtype, count=nodes["shape"][0], offset=nodes["at"])
        arr[field][0] = value
        (path / "arrays.bin").write_bytes(zlib.compress(bytes(buf)) if packed else bytes(buf))
    rewrite(path, change)
    with pytest.raises(UnsafeModelError, match="out of range"):
        load_model(path)


@pytest.mark.parametrize("field, value", [("split_indices", 100_000_000),
                                          ("left_children", 10 ** 6), ("left_children", -5)])
def test_xgboost_trees_pointing_outside_are_refused(tmp_path, field, value):
    import xgboost as xgb

    X = np.random.RandomState(0).normal(size=(200, 4))
    model = xgb.XGBClassifier(n_estimators=5, max_depth=3).fit(X, (X[:, 0] > 0).astype(int))
    path = save_model(model, tmp_path / "m")

    def change(manifest, path):
        file = next(path.glob("xgboost_*.ubj"))
        booster = xgb.Booster()
        booster.load_model(str(file))
        raw = json.loads(bytes(booster.save_raw("json")))
        for tree in raw["learner"]["gradient_booster"]["model"]["trees"]:
            tree[field][0] = value
        hostile = xgb.Booster()
        hostile.load_model(bytearray(json.dumps(raw).encode()))
        hostile.save_model(str(file))
    rewrite(path, change)
    with pytest.raises(UnsafeModelError):
        load_model(path)


def test_xgboost_attributes_cannot_swap_the_class(tmp_path, marker):
    """``__class__`` / ``__dict__`` among an xgboost model's attributes would turn it into a
    Pipeline whose ``memory`` unpickles planted files on the next fit."""
    import xgboost as xgb

    X = np.random.RandomState(0).normal(size=(60, 3))
    path = save_model(xgb.XGBRegressor(n_estimators=3).fit(X, X[:, 0]), tmp_path / "m")
    for name, value in (("__class__", {"$t": "class", "name": "sklearn.pipeline.Pipeline"}),
                        ("__dict__", {"$t": "dict", "items": {"memory": str(tmp_path)}})):
        rewrite(path, lambda manifest, p, name=name, value=value: manifest["tree"][
            "attrs"].update({name: value}))
        with pytest.raises(UnsafeModelError, match="attribute"):
            load_model(path)
    assert not marker.exists()


def _lightgbm_model(tmp_path):
    from foldstack.models import TabularLGBMClassifier

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(list("abcdef"), 300)})
    y = (X["x"] + X["c"].isin(["a", "c", "e"]) > 0.5).astype(int)
    model = TabularLGBMClassifier(n_estimators=5, min_child_samples=5, max_cat_to_onehot=1,
                                  min_data_per_group=5)
    return save_model(model.fit(X, y), tmp_path / "m")


def _edit_tree_line(key, edit):
    """Rewrite the first ``key=`` line of a tree in a saved LightGBM text model."""
    def change(manifest, path):
        file = next(path.glob("lightgbm_*.txt"))
        lines = file.read_text().split("\n")
        start = lines.index(next(line for line in lines if line.startswith("Tree=")))
        i = next(i for i in range(start, len(lines)) if lines[i].startswith(key + "="))
        values = lines[i].split("=", 1)[1].split()
        lines[i] = f"{key}=" + " ".join(edit(values))
        file.write_text("\n".join(lines))
    return change


@pytest.mark.parametrize("key, edit, words", [
    ("left_child", lambda v: ["999", *v[1:]], "child out of range"),
    ("right_child", lambda v: ["-999", *v[1:]], "child out of range"),
    ("left_child", lambda v: ["0", *v[1:]], "child out of range"),   # a cycle
    ("split_feature", lambda v: ["7", *v[1:]], "feature it does not have"),
    ("cat_boundaries", lambda v: [*v[:-1], "99999"], "categorical splits"),
    ("split_feature", lambda v: ["x", *v[1:]], "not a list of integers"),
])
def test_lightgbm_trees_pointing_outside_are_refused(tmp_path, key, edit, words):
    path = _lightgbm_model(tmp_path)
    rewrite(path, _edit_tree_line(key, edit))
    with pytest.raises(UnsafeModelError, match=words):
        load_model(path)


def test_lightgbm_tree_sizes_are_not_trusted(tmp_path):
    """LightGBM would jump by the saved ``tree_sizes``; they are dropped before it reads."""
    path = _lightgbm_model(tmp_path)
    X = pd.DataFrame({"x": [0.0, 1.0], "c": ["a", "b"]})
    expected = load_model(path).predict_proba(X)

    def change(manifest, path):
        file = next(path.glob("lightgbm_*.txt"))
        text = file.read_text()
        line = next(x for x in text.split("\n") if x.startswith("tree_sizes="))
        file.write_text(text.replace(line, "tree_sizes=" + " ".join(["99999999"] * 5)))
    rewrite(path, change)
    np.testing.assert_array_equal(load_model(path).predict_proba(X), expected)


def _catboost_model(tmp_path):
    from foldstack.models import TabularCatBoostRegressor

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(list("abcdef"), 200),
                      "k": rng.choice(["u", "v"], 200)})
    y = X["x"] + X["c"].isin(["a", "c"])
    return save_model(TabularCatBoostRegressor(n_estimators=20).fit(X, y), tmp_path / "m")


@pytest.mark.parametrize("edit, words", [
    (lambda m: m["oblivious_trees"][1]["splits"][0].update(split_index=10 ** 6), "split"),
    (lambda m: next(s for t in m["oblivious_trees"] for s in t["splits"]
                    if s["split_type"] == "FloatFeature").update(float_feature_index=5),
     "split feature"),
    (lambda m: m["oblivious_trees"][1]["leaf_values"].pop(), "leaf values"),
    (lambda m: m["features_info"]["float_features"][0].update(flat_feature_index=9),
     "feature index"),
    (lambda m: m["oblivious_trees"][1]["splits"][0].update(split_type="Estimated"),
     "does not load"),
])
def test_catboost_models_pointing_outside_are_refused(tmp_path, edit, words):
    path = _catboost_model(tmp_path)

    def change(manifest, path):
        file = next(path.glob("catboost_*.json"))
        model = json.loads(file.read_text())
        edit(model)
        file.write_text(json.dumps(model))
    rewrite(path, change)
    with pytest.raises(UnsafeModelError, match=words):
        load_model(path)


def test_an_array_naming_an_unlisted_or_foreign_file_is_refused(saved, marker):
    for name in ("arrays_99.bin", "manifest.json", "../arrays.bin", 7):
        rewrite(saved, lambda manifest, path, name=name: find_array(
            manifest["tree"]).update(file=name))
        with pytest.raises(UnsafeModelError, match="arrays file"):
            load_model(saved)
    assert not marker.exists()
