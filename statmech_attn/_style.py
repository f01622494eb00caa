"""Figure styles shared by every ``plot`` verb and the gallery: ``default``, ``paper``, ``talk``.

``with style_context("paper"): fig, ax = ...`` makes the figures created inside it use that style's
fonts and line widths; plotting functions size their figures with :func:`figsize`, which gives the
style's width (``paper``: one journal column, 3.4 in, for one or two panels; two columns, 7.0 in,
for more) so a figure comes out at the size it will be printed.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

from .errors import InputError

__all__ = ["STYLES", "style_context", "figsize", "current_style", "figure", "subplots"]

_BASE = {"axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
         "savefig.bbox": "tight", "figure.constrained_layout.use": False}

STYLES: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {**_BASE, "font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "legend.fontsize": 7,
              "xtick.labelsize": 7, "ytick.labelsize": 7, "figure.titlesize": 8, "lines.linewidth": 1.0,
              "lines.markersize": 3.5, "axes.linewidth": 0.6, "xtick.major.width": 0.6,
              "ytick.major.width": 0.6, "errorbar.capsize": 1.5, "figure.figsize": (3.4, 2.5),
              "savefig.dpi": 300, "pdf.fonttype": 42},
    "talk": {**_BASE, "font.size": 14, "axes.labelsize": 15, "axes.titlesize": 15, "legend.fontsize": 12,
             "xtick.labelsize": 13, "ytick.labelsize": 13, "figure.titlesize": 16, "lines.linewidth": 2.2,
             "lines.markersize": 7, "axes.linewidth": 1.2, "errorbar.capsize": 3, "figure.figsize": (6.4, 4.8)},
}

# (width of one panel, height of one panel) in inches per style; paper caps the total width
_PANEL = {"default": (4.2, 3.4), "paper": (3.4, 2.5), "talk": (6.4, 4.6)}
_PAPER_WIDTHS = (3.4, 7.0)  # one journal column, two columns

_current: contextvars.ContextVar[str] = contextvars.ContextVar("statmech_attn_style", default="default")


def current_style() -> str:
    """The name of the style in force (``default`` outside any :func:`style_context`)."""
    return _current.get()


def check_style(name: str) -> str:
    """The style name, or ``InputError`` naming the allowed ones."""
    if name not in STYLES:
        raise InputError("--style", name, f"must be one of {', '.join(STYLES)}")
    return name


@contextlib.contextmanager
def style_context(name: str = "default") -> Iterator[str]:
    """Apply a figure style (matplotlib rcParams) to the figures created and saved inside the block."""
    import matplotlib

    check_style(name)
    token = _current.set(name)
    try:
        with matplotlib.rc_context(STYLES[name]):
            yield name
    finally:
        _current.reset(token)


def figsize(ncols: int = 1, nrows: int = 1, *, aspect: float | None = None) -> tuple[float, float]:
    """A figure size (inches) for ``nrows × ncols`` panels in the current style.

    ``default`` and ``talk``: panels of a fixed size side by side; ``paper``: the total width is one
    column (3.4 in) for one or two panels and two columns (7.0 in) for more, the height follows.
    ``aspect`` is a panel's height / width (the style's own when None).
    """
    style = current_style()
    w, h = _PANEL[style]
    if aspect is not None:
        h = w * aspect
    if style == "paper":
        total = _PAPER_WIDTHS[0] if ncols <= 2 else _PAPER_WIDTHS[1]
        pw = total / ncols
        ph = pw * (h / w) if ncols > 1 else h
        ph = max(ph, 1.35 if ncols > 1 else 1.9)
        return (total, ph * nrows)
    return (w * ncols, h * nrows)


def figure(figsize: tuple[float, float], *, layout: str | None = "constrained", **kwargs: Any) -> Any:
    """A new ``matplotlib.figure.Figure`` drawn by Agg, outside pyplot (no GUI backend, no global state).

    Plotting functions create their figures here: importing ``matplotlib.pyplot`` costs a ``plot`` verb
    time, and pyplot would keep every figure alive until ``plt.close``.  Such a figure saves with
    ``fig.savefig`` and shows in a notebook like any other.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], layout: str | None = "constrained",
             **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` without pyplot: (:func:`figure`, its axes); ``kwargs`` go to ``Figure.subplots``."""
    fig = figure(figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)
