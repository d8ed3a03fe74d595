"""Saving fitted models so that loading them cannot run code from a tampered file."""

from foldstack.persist._model_io import library_versions, load_model, read_manifest, save_model

__all__ = ["library_versions", "load_model", "read_manifest", "save_model"]
