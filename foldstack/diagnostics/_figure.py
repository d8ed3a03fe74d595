"""The figure class of foldstack's plots (imports matplotlib: load this module lazily)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class FoldstackFigure(Figure):
    """A :class:`matplotlib.figure.Figure` that shows itself as a PNG in notebooks.

    Plain ``Figure`` objects display inline only once pyplot has set up the inline backend;
    this subclass adds ``_repr_png_`` so a figure returned by a foldstack function shows up
    in Jupyter without pyplot and without any GUI backend.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    def to_png(self, dpi: float | None = None) -> bytes:
        """The figure as PNG bytes (in memory)."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        return buffer.getvalue()
