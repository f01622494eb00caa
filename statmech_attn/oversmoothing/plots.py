"""Figures of an oversmoothing analysis: HFC/LFC over depth, and the growth-factor plane."""

from __future__ import annotations

import numpy as np

from .._style import figsize, subplots

__all__ = ["plot_hfc_lfc", "plot_growth_plane"]


def plot_hfc_lfc(theory: np.ndarray, simulation: np.ndarray, *, regime: str = ""):
    """HFC/LFC against depth: the closed-form line and the simulated points (log scale)."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = subplots(figsize=figsize(1), layout="constrained")
    layers = np.arange(len(theory))
    ax.semilogy(layers, theory, "-", color="C0", label="theory (eigen-expansion)")
    ax.semilogy(layers, simulation, "o", ms=4, mfc="none", color="C3", label="simulation")
    ax.set_xlabel("layer ℓ")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("‖HFC‖ / ‖LFC‖ (ratio)")
    ax.set_title(f"HFC/LFC over depth{f' ({regime.replace(chr(95), chr(32))})' if regime else ''}")
    ax.legend(loc="best")
    return fig, ax


def plot_growth_plane(growth: np.ndarray, smooth_mode: np.ndarray, dominant: tuple[int, int] | None = None):
    """Growth factors 1 + λ_i(A) λ_j(H) in the complex plane; λ^A = 1 modes marked, unit circle drawn."""
    fig, ax = subplots(figsize=figsize(1, aspect=1.1), layout="constrained")
    g = np.asarray(growth)
    sm = np.broadcast_to(np.asarray(smooth_mode, bool)[:, None], g.shape)
    ax.scatter(g[~sm].real, g[~sm].imag, s=10, color="C0", label="$\\lambda^A \\neq 1$ (high-frequency)")
    ax.scatter(g[sm].real, g[sm].imag, s=30, marker="s", color="C1", label="$\\lambda^A = 1$ (all-ones)")
    if dominant is not None:
        gd = g[dominant]
        ax.scatter([gd.real], [gd.imag], s=120, facecolors="none", edgecolors="k", label="dominant")
        r = abs(gd)
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(r * np.cos(t), r * np.sin(t), ":", color="k", lw=0.8)
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), "-", color="0.7", lw=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("Re g (a.u.)")
    ax.set_ylabel("Im g (a.u.)")
    ax.set_title("Growth factors g = 1 + λ(A) λ(H)")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)  # below: covers no point
    return fig, ax
