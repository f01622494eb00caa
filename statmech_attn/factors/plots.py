"""Figures of a factors fit: importance-score curves over layers."""

from __future__ import annotations

import numpy as np

from .._style import figsize, subplots

__all__ = ["plot_importance"]

_COLOURS = {"low": "C0", "mid": "C2", "high": "C3", "unused": "0.7"}


def plot_importance(scores: np.ndarray, levels: np.ndarray, *, max_curves: int = 12):
    """IS(c, ℓ)/max_ℓ IS(c, ℓ) against layer for the ``max_curves`` strongest factors, coloured by level.

    Returns (fig, axes): left the curves, right a heat map of every factor's normalised curve
    (factors sorted by peak layer).
    """
    from matplotlib.ticker import MaxNLocator

    s = np.asarray(scores, dtype=float)
    mx = s.max(axis=1)
    norm = np.divide(s, mx[:, None], out=np.zeros_like(s), where=mx[:, None] > 0)
    order = np.argsort(-mx)[:max_curves]
    fig, (ax, ax2) = subplots(1, 2, figsize=figsize(2), gridspec_kw={"width_ratios": [1.3, 1]},
                              layout="constrained")
    layers = np.arange(s.shape[1])
    for c in order:
        ax.plot(layers, norm[c], "-o", ms=3, color=_COLOURS.get(str(levels[c]), "k"), alpha=0.8)
    for lev, col in _COLOURS.items():
        if lev in set(map(str, levels[order])):
            ax.plot([], [], color=col, label=lev)
    ax.set_xlabel("layer ℓ")
    ax.set_ylabel("IS(c, ℓ) / max IS (fraction)")
    ax.set_title(f"Importance scores, {len(order)} strongest factors")
    ax.legend(title="level", loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)  # outside: no data covered
    peak = np.argmax(s, axis=1)
    idx = np.lexsort((-mx, peak))
    im = ax2.imshow(norm[idx], aspect="auto", cmap="viridis", interpolation="nearest")
    ax2.set_xlabel("layer ℓ")
    ax2.set_ylabel("factor c (sorted by peak layer)")
    ax2.set_title("All factors")
    for a in (ax, ax2):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(im, ax=ax2, fraction=0.05).set_label("IS(c, ℓ) / max IS")
    return fig, (ax, ax2)
