"""Figure of a stack diagnostic: token norms per layer before and after layer norm."""

from __future__ import annotations

import numpy as np

from .._style import figsize, subplots

__all__ = ["plot_norms"]


def plot_norms(norms_in: np.ndarray, norms_attention: np.ndarray, norms_out: np.ndarray, *,
               layer_norm: bool, dim: int | None = None):
    """Token norms through the stack: entering layer ℓ, after attention (expansion), after LN.

    Each token is one saw-tooth line; with LN a dashed line marks √d.
    """
    L, n = norms_in.shape
    fig, ax = subplots(figsize=figsize(1), layout="constrained")
    xs, ticks, labels = [], [], []
    for l in range(L):
        xs += [l, l + 0.5] + ([l + 0.9] if layer_norm else [])
        ticks.append(l)
        labels.append(f"{l}")
    for i in range(n):
        ys = []
        for l in range(L):
            ys += [norms_in[l, i], norms_attention[l, i]] + ([norms_out[l, i]] if layer_norm else [])
        ax.plot(xs, ys, "-o", ms=3, lw=0.8, alpha=0.7, color=f"C{i % 10}")
    if layer_norm and dim is not None:
        ax.axhline(np.sqrt(dim), ls="--", color="k", lw=0.8, label="√d (after LN)")
        ax.legend(loc="best")
    ax.set_xticks(ticks, labels)
    ax.set_xlabel("layer ℓ (input → attention" + (" → LN)" if layer_norm else ")"))
    ax.set_ylabel("token norm ‖x_i‖ (a.u.)")
    ax.set_title("Expansion by attention" + (", contraction by layer norm" if layer_norm else ""))
    return fig, ax
