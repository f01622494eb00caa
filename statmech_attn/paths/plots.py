"""Figures of ``paths solve`` and ``paths sweep`` run directories (functions return (fig, ax)).

Paths are named by their head sequence, ``h1→h2`` = head 1 of layer 1 then head 2 of layer 2
(``h₁`` the slowest index, as in :func:`statmech_attn.paths._kernels.path_attention`); ``U_ℓ`` is
indexed by the sub-paths through layers ℓ…L. Figures are sized with :func:`statmech_attn._style.figsize`,
so ``--style paper`` gives one journal column; fonts come from the style in force.
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np

from .._style import figsize, figure, subplots

__all__ = ["plot_order_parameters", "plot_head_scores", "plot_sweep", "solve_figures", "sweep_figures",
           "heads_from_dims", "path_names", "draw_order_parameter", "ORDER_PARAMETER_CMAP"]

ORDER_PARAMETER_CMAP = "RdBu_r"


def heads_from_dims(dims: Sequence[int]) -> tuple[int, ...] | None:
    """(H_1, …, H_L) from the sizes (D_1, …, D_L) of U_1…U_L (D_ℓ = H_ℓ ⋯ H_L); None if inconsistent."""
    dims = [int(d) for d in dims]
    heads = []
    for l, d in enumerate(dims):
        nxt = dims[l + 1] if l + 1 < len(dims) else 1
        if nxt < 1 or d % nxt:
            return None
        heads.append(d // nxt)
    return tuple(heads)


def path_names(heads: Sequence[int], layer: int = 1) -> list[str]:
    """Names of the (sub-)paths indexing U_layer: ``h1→h2`` … in the solver's order (h_layer slowest)."""
    return ["→".join(f"h{h + 1}" for h in idx) for idx in itertools.product(*(range(h) for h in heads[layer - 1:]))]


def _path_axis_label(layer: int, n_layers: int, prime: bool) -> str:
    p = "π′" if prime else "π"
    if layer == 1:
        return f"path {p}"
    if layer == n_layers:
        return f"layer-{layer} head {p}"
    return f"sub-path {p} (layers {layer}–{n_layers})"


def draw_order_parameter(ax: Any, matrix: np.ndarray, names: Sequence[str] | None, *, vmin: float, vmax: float,
                         cmap: str = ORDER_PARAMETER_CMAP, layer: int = 1, n_layers: int = 1,
                         annotate: bool | None = None) -> Any:
    """One order-parameter heat map on ``ax``: integer ticks named by path, axes labelled; returns the image.

    ``annotate`` writes each entry's value in its cell (default: for a 1×1 matrix, e.g. U_a)."""
    m = np.atleast_2d(np.asarray(matrix, dtype=float))
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    n = m.shape[0]
    if names is None or len(names) != n:
        names = [f"π{i + 1}" for i in range(n)]
    ax.set_xticks(range(m.shape[1]), names[: m.shape[1]], rotation=90 if n > 2 else 0)
    ax.set_yticks(range(n), names)
    ax.tick_params(length=0)
    ax.set_xlabel(_path_axis_label(layer, n_layers, True))
    ax.set_ylabel(_path_axis_label(layer, n_layers, False))
    for s in ax.spines.values():
        s.set_visible(True)
    if annotate if annotate is not None else m.size == 1:
        mid = 0.5 * (vmin + vmax)
        span = max(vmax - vmin, 1e-300)
        for (i, j), v in np.ndenumerate(m):
            dark = abs(v - mid) > 0.3 * span
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize="small",
                    color="w" if dark else "k")
    return im


def plot_order_parameters(result: dict[str, Any]) -> tuple[Any, Any]:
    """U_1 … U_L as heat maps over (sub-)path pairs and U_a as a 1×1 panel, on one colour scale.

    Returns (fig, axes) with one axes per order parameter (U_a last); one colour bar for all."""
    us = [np.atleast_2d(np.asarray(u, dtype=float)) for u in result["order_parameters"]]
    ua = result.get("U_a")
    mats = us + ([np.array([[float(ua)]])] if ua is not None else [])
    L = len(us)
    heads = heads_from_dims([u.shape[0] for u in us])
    lim = float(max(np.max(np.abs(m)) for m in mats)) or 1.0
    ratios = [m.shape[1] for m in mats]
    w, h = figsize(2)
    fig = figure((w, h))
    gs = fig.add_gridspec(1, len(mats), width_ratios=ratios)
    axes = [fig.add_subplot(gs[0, i]) for i in range(len(mats))]
    im = None
    for l, (ax, m) in enumerate(zip(axes, us), start=1):
        names = path_names(heads, l) if heads is not None else None
        im = draw_order_parameter(ax, m, names, vmin=-lim, vmax=lim, layer=l, n_layers=L)
        ax.set_title(f"$U_{{{l}}}$")
    if ua is not None:
        ax = axes[-1]
        im = draw_order_parameter(ax, mats[-1], ["readout"], vmin=-lim, vmax=lim, annotate=True)
        ax.set_xticks([0], [""])
        ax.set_yticks([0], [""])
        ax.set_xlabel("readout")
        ax.set_ylabel("readout")
        ax.set_title("$U_a$")
    cb = fig.colorbar(im, ax=axes, shrink=0.9, pad=0.02, aspect=15)
    cb.set_label("$U_\\ell$, $U_a$ entry (a.u.)")
    return fig, np.asarray(axes, dtype=object)


def plot_head_scores(result: dict[str, Any]) -> tuple[Any, Any]:
    """Head scores per layer (left) and, when the run pruned heads, the test-accuracy drop of pruning each
    head (right); heads on integer ticks ``h1``, ``h2``…"""
    scores = [list(map(float, layer)) for layer in (result.get("head_scores") or [])]
    pruning = result.get("pruning") or []
    n = 1 + bool(pruning)
    fig, axes = subplots(1, n, figsize=figsize(n, aspect=0.9), layout="constrained", squeeze=False)
    axes = axes[0]
    L = max(len(scores), 1)
    H = max((len(s) for s in scores), default=1)
    bw = 0.8 / L

    def bars(ax: Any, per_layer: Sequence[Sequence[float]]) -> None:
        for l, vals in enumerate(per_layer):
            ax.bar(np.arange(len(vals)) - 0.4 + bw * (l + 0.5), vals, width=bw, color=f"C{l}", label=f"layer {l + 1}")
        ax.set_xticks(range(H), [f"h{h + 1}" for h in range(H)])
        ax.set_xlabel("head")
        ax.axhline(0.0, color="k", lw=0.6)

    bars(axes[0], scores)
    axes[0].set_ylabel("head score (a.u.)")
    if pruning:
        drop = [[np.nan] * len(s) for s in scores] if scores else []
        for p in pruning:
            l, h = int(p["layer"]) - 1, int(p["head"]) - 1
            while len(drop) <= l:
                drop.append([])
            while len(drop[l]) <= h:
                drop[l].append(np.nan)
            drop[l][h] = float(p["drop"])
        bars(axes[1], drop)
        axes[1].set_ylabel("test-accuracy drop")
        axes[1].set_title("pruning one head")
    axes[0].set_title("head scores (normalised)")
    if L > 1:  # below the panels: covers no bar
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=min(L, 4))
    return fig, axes


def _plain_log_axis(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_sweep(points: Sequence[dict[str, Any]]) -> tuple[Any, Any]:
    """Test error and accuracy against α = P/N, theory at finite α vs the GP limit."""
    pts = sorted((p for p in points if p.get("converged")), key=lambda p: p["alpha"])
    a = np.array([p["alpha"] for p in pts])
    fig, axes = subplots(1, 2, figsize=figsize(2), layout="constrained")
    for ax, key, label in ((axes[0], "test_error", "test error $\\epsilon_g$ (a.u.)"),
                           (axes[1], "accuracy", "test accuracy (fraction)")):
        ys = np.array([np.nan if p.get(key) is None else p[key] for p in pts], dtype=float)
        gp = np.array([np.nan if p.get("gp_" + key) is None else p["gp_" + key] for p in pts], dtype=float)
        ax.plot(a, ys, "o-", label="theory (finite α)")
        ax.plot(a, gp, "--", color="gray", label="GP limit")
        _plain_log_axis(ax)
        ax.set_xlabel("α = P / N")
        ax.set_ylabel(label)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2)  # below: covers no data
    return fig, axes


def solve_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    res = record["result"]
    figs = [(plot_order_parameters(res)[0], "order_parameters")]
    if res.get("head_scores"):
        figs.append((plot_head_scores(res)[0], "head_scores"))
    return figs


def sweep_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(plot_sweep(record["result"]["points"])[0], "sweep")]
