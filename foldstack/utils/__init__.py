"""Internal helpers shared by the subpackages (not public API)."""
