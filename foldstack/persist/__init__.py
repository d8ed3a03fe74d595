"""Saving fitted models so that loading them cannot run code from a tampered file."""

from foldstack.persist._links import link_duplicates
from foldstack.persist._model_io import library_versions, load_model, read_manifest, save_model
from foldstack.persist._policy import SUPPORTED_SKLEARN

__all__ = ["SUPPORTED_SKLEARN", "library_versions", "link_duplicates", "load_model",
           "read_manifest", "save_model"]
