"""The public surface: __all__ is honest and `import foldstack` stays light."""

import importlib
import subprocess
import sys

import pytest

import foldstack as fs

SUBPACKAGES = ["data", "selection", "ensemble", "models", "diagnostics", "report"]


def test_top_level_all_resolves():
    for name in fs.__all__:
        assert getattr(fs, name) is not None, name


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_subpackage_all_is_honest(sub):
    mod = importlib.import_module(f"foldstack.{sub}")
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), f"foldstack.{sub}.{name}"


def test_import_does_not_load_torch_or_configure_logging():
    code = ("import logging, sys, foldstack;"
            "assert 'torch' not in sys.modules, 'torch imported';"
            "assert 'skorch' not in sys.modules;"
            "assert not logging.getLogger().handlers;"
            "import foldstack.selection;"
            "assert 'torch' not in sys.modules, 'selection imports torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fs.nope  # noqa: B018
