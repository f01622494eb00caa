"""Figures of ``paths solve`` and ``paths sweep`` run directories (functions return (fig, ax))."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def plot_order_parameters(result: dict[str, Any]) -> tuple[Any, Any]:
    """U₁ as a heat map over path pairs, and the head scores per layer."""
    import matplotlib.pyplot as plt

    u1 = np.asarray(result["order_parameters"][0])
    scores = result.get("head_scores") or []
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.6))
    lim = float(np.max(np.abs(u1))) or 1.0
    im = axes[0].imshow(u1, cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[0].set_xlabel("path π'")
    axes[0].set_ylabel("path π")
    axes[0].set_title("order parameter $U_1$")
    fig.colorbar(im, ax=axes[0], shrink=0.8)
    for l, layer in enumerate(scores):
        axes[1].bar(np.arange(len(layer)) + 0.8 * l / max(len(scores), 1), layer, width=0.8 / max(len(scores), 1),
                    label=f"layer {l + 1}")
    axes[1].set_xlabel("head")
    axes[1].set_ylabel("head score (normalised)")
    if scores:
        axes[1].legend(frameon=False)
    fig.tight_layout()
    return fig, axes


def plot_sweep(points: Sequence[dict[str, Any]]) -> tuple[Any, Any]:
    """Test error and accuracy against α = P/N, theory at finite α vs the GP limit."""
    import matplotlib.pyplot as plt

    pts = sorted((p for p in points if p.get("converged")), key=lambda p: p["alpha"])
    a = np.array([p["alpha"] for p in pts])
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.4))
    for ax, key, label in ((axes[0], "test_error", "generalisation error $\\epsilon_g$"), (axes[1], "accuracy", "accuracy")):
        ys = np.array([np.nan if p.get(key) is None else p[key] for p in pts], dtype=float)
        gp = np.array([np.nan if p.get("gp_" + key) is None else p["gp_" + key] for p in pts], dtype=float)
        ax.plot(a, ys, "o-", label="theory (finite α)")
        ax.plot(a, gp, "--", color="gray", label="GP limit")
        ax.set_xscale("log")
        ax.set_xlabel("α = P / N")
        ax.set_ylabel(label)
    axes[0].legend(frameon=False)
    fig.tight_layout()
    return fig, axes


def solve_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(plot_order_parameters(record["result"])[0], "order_parameters")]


def sweep_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(plot_sweep(record["result"]["points"])[0], "sweep")]
