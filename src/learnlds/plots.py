"""Figures (matplotlib): the post's six pictures, the Pac-Man region, and validation plots.

Every function draws on a given ``ax`` (or makes a figure) and returns the matplotlib
``Figure``; nothing here computes a model, it only draws what the library computed.
The Agg backend is used unless the caller chose another.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "module://matplotlib_inline.backend_inline"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__: list[str] = []


def _axes(ax=None, figsize=(6.0, 4.0)):
    """Return ``(fig, ax)``, creating a figure when ``ax`` is None."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def save_figure(fig, path_stem, formats=("png", "svg")):
    """Save ``fig`` as ``path_stem.png`` and ``.svg``; return the written paths."""
    from pathlib import Path

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = stem.with_suffix("." + fmt)
        fig.savefig(p, dpi=110, bbox_inches="tight")
        out.append(p)
    return out
