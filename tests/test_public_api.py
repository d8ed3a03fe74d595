"""The public surface: __all__ is honest, matches the README, and `import foldstack` stays light."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import foldstack as fs

SUBPACKAGES = ["data", "selection", "ensemble", "models", "diagnostics", "report", "persist"]
ROOT = Path(__file__).resolve().parents[1]


def _documentation() -> str:
    """The README and every text file under docs/: where a public name must be mentioned."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    docs = ROOT / "docs"
    if docs.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(docs.rglob("*"))
                  if p.suffix in {".md", ".rst", ".txt"}]
    return "\n".join(texts)


DOCS = _documentation()
# `fs.name` or `fs.sub.name` in code blocks and prose; `fs.AutoEnsemble*` is a wildcard.
DOCUMENTED = sorted(set(
    m.group(0) for m in re.finditer(r"(?<![\w.])fs(?:\.[A-Za-z_]\w*){1,2}(?![\w*])", DOCS)
))


def _exports() -> list[str]:
    names = [f"fs.{name}" for name in fs.__all__]
    for sub in SUBPACKAGES:
        mod = importlib.import_module(f"foldstack.{sub}")
        names += [f"fs.{sub}.{name}" for name in mod.__all__]
    return names


def test_top_level_all_resolves():
    for name in fs.__all__:
        assert getattr(fs, name) is not None, name


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_subpackage_all_is_honest(sub):
    mod = importlib.import_module(f"foldstack.{sub}")
    assert getattr(fs, sub) is mod, f"fs.{sub} is not reachable from `import foldstack`"
    assert sub in fs.__all__, f"{sub} missing from foldstack.__all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"foldstack.{sub}.{name}"


def test_readme_parse_finds_the_api():
    # Guard against a regex that silently matches nothing.
    assert "fs.persist.save_model" in DOCUMENTED
    assert "fs.selection.cross_validate_candidates" in DOCUMENTED
    assert len(DOCUMENTED) > 20


@pytest.mark.parametrize("dotted", DOCUMENTED)
def test_documented_name_is_importable(dotted):
    obj = fs
    for part in dotted.split(".")[1:]:
        assert hasattr(obj, part), f"README documents {dotted}, which does not exist"
        obj = getattr(obj, part)
    parts = dotted.split(".")
    if len(parts) == 2:
        assert parts[1] in fs.__all__, f"{dotted} is documented but not in foldstack.__all__"
    elif parts[1] in SUBPACKAGES:
        mod = importlib.import_module(f"foldstack.{parts[1]}")
        assert parts[2] in mod.__all__, f"{dotted} is documented but not in its __all__"


@pytest.mark.parametrize("dotted", _exports())
def test_exported_name_is_documented(dotted):
    name = dotted.rsplit(".", 1)[1]
    assert re.search(rf"(?<![\w]){re.escape(name)}(?!\w)", DOCS), (
        f"{dotted} is exported but mentioned neither in README.md nor in docs/: "
        "document it or stop exporting it")


def test_import_does_not_load_torch_or_configure_logging():
    code = ("import logging, sys, foldstack;"
            "assert 'torch' not in sys.modules, 'torch imported';"
            "assert 'skorch' not in sys.modules;"
            "assert not logging.getLogger().handlers;"
            "import foldstack.selection;"
            "assert 'torch' not in sys.modules, 'selection imports torch';"
            "foldstack.persist;"
            "assert 'torch' not in sys.modules, 'persist imports torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fs.nope  # noqa: B018
