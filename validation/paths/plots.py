"""Theory-vs-simulation figures of the attention-path validation (matplotlib only).

Every function returns ``(fig, ax)`` (``ax`` an array when there are several panels) and never
shows the figure; :func:`figures_from_report` builds all of them from a saved report, so
``statmech-attn paths plot DIR`` needs no recomputation.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np

from statmech_attn._style import figsize, subplots
from statmech_attn.paths.plots import draw_order_parameter, heads_from_dims, path_names

__all__ = [
    "plot_order_parameters",
    "plot_order_parameter_comparison",
    "plot_predictor",
    "plot_test_error_vs_alpha",
    "plot_discrepancy_vs_inverse_width",
    "figures_from_report",
]

_MAX_WIDTH = 9.0  # inches (1800 px at the 200 dpi of the saved PNG)


def _figure(ncols: int, nrows: int = 1, *, aspect: float | None = None) -> tuple[Any, Any]:
    """A figure of ``nrows × ncols`` panels sized by the style in force (``paper``: one column for one
    or two panels); fonts come from the style, not from here."""
    w, h = figsize(ncols, nrows, aspect=aspect)
    if w > _MAX_WIDTH:  # default/talk with many panels: scale down to a readable size
        w, h = _MAX_WIDTH, h * _MAX_WIDTH / w
    fig, ax = subplots(nrows, ncols, figsize=(w, h), layout="constrained", squeeze=False)
    if nrows > 1:
        return fig, ax
    return fig, ax[0] if ncols > 1 else ax[0, 0]


def _z(theory: np.ndarray, simulation: np.ndarray, se: np.ndarray) -> np.ndarray:
    se = np.atleast_2d(np.asarray(se, dtype=float))
    return (np.atleast_2d(simulation) - np.atleast_2d(theory)) / np.where(se > 0, se, np.inf)


def _order_parameter_row(fig: Any, axes: Sequence[Any], theory: np.ndarray, simulation: np.ndarray,
                         se: np.ndarray | None, *, name: str, layer: int, n_layers: int, names: Sequence[str] | None,
                         lim: float, zlim: float) -> tuple[Any, Any]:
    """Theory, simulation (and z) of one order parameter on ``axes``; returns (value image, z image)."""
    im = imz = None
    for a, m, what in zip(axes, (theory, simulation), ("theory", "simulation")):
        im = draw_order_parameter(a, m, names, vmin=-lim, vmax=lim, layer=layer, n_layers=n_layers)
        a.set_title(f"{what} ${name}$")
    if se is not None and len(axes) > 2:
        imz = draw_order_parameter(axes[2], _z(theory, simulation, se), names, vmin=-zlim, vmax=zlim, cmap="PuOr_r",
                                   layer=layer, n_layers=n_layers)
        axes[2].set_title("(simulation − theory) / SE")
    if np.atleast_2d(theory).size == 1:  # a scalar (U_a): one readout cell, value written in it
        for a in axes:
            a.set_xticks([0], [""])
            a.set_yticks([0], [""])
            a.set_xlabel("readout")
            a.set_ylabel("readout")
    return im, imz


def plot_order_parameters(theory: np.ndarray, simulation: np.ndarray, se: np.ndarray | None = None, *,
                          name: str = "U_1", title: str = "", names: Sequence[str] | None = None,
                          layer: int = 1, n_layers: int = 1) -> tuple[Any, Any]:
    """Theory and sampled order-parameter matrices side by side (one labelled colour scale), plus
    (simulation − theory)/SE when standard errors are given. ``names`` label the (sub-)paths
    (default: ``h1``, ``h2``… for a single layer, else ``π1``…)."""
    theory, simulation = np.atleast_2d(theory), np.atleast_2d(simulation)
    if names is None:
        heads = (theory.shape[0],) if n_layers == 1 else None
        names = path_names(heads) if heads is not None else None
    fig, ax = _figure(3 if se is not None else 2)
    lim = float(max(np.max(np.abs(theory)), np.max(np.abs(simulation)), 1e-12))
    zlim = float(max(3.0, np.max(np.abs(_z(theory, simulation, se))))) if se is not None else 3.0
    im, imz = _order_parameter_row(fig, ax, theory, simulation, se, name=name, layer=layer, n_layers=n_layers,
                                   names=names, lim=lim, zlim=zlim)
    fig.colorbar(im, ax=list(ax[:2]), shrink=0.8).set_label(f"${name}$ entry (a.u.)")
    if imz is not None:
        fig.colorbar(imz, ax=ax[2], shrink=0.8).set_label("z = (sim. − theory) / SE")
    if title:
        fig.suptitle(title)
    return fig, ax


def plot_order_parameter_comparison(comparisons: Mapping[str, Mapping[str, Any]], *, title: str = "") -> tuple[Any, Any]:
    """Every order parameter of one validation point: a row per U_1 … U_L and U_a (a 1×1 panel), columns
    theory | simulation | (simulation − theory)/SE. Theory and simulation of all rows share one colour
    scale, the z panels another; paths are named by head sequence (``h1→h2``)."""
    keys = sorted((k for k in comparisons if re.fullmatch(r"U\d+", k)), key=lambda k: int(k[1:]))
    rows = [(k, f"U_{{{k[1:]}}}", int(k[1:])) for k in keys] + ([("U_a", "U_a", 0)] if "U_a" in comparisons else [])
    mats = {k: tuple(np.atleast_2d(np.asarray(comparisons[k][f], dtype=float)) for f in ("theory", "simulation", "se"))
            for k, _, _ in rows}
    L = len(keys)
    heads = heads_from_dims([mats[k][0].shape[0] for k in keys])
    lim = float(max([np.max(np.abs(m[i])) for m in mats.values() for i in (0, 1)] + [1e-12]))
    zlim = float(max([3.0] + [np.max(np.abs(_z(*m))) for m in mats.values()]))
    fig, ax = _figure(3, len(rows), aspect=0.9)
    im = imz = None
    for r, (k, name, layer) in enumerate(rows):
        names = path_names(heads, layer) if heads is not None and layer else None
        a, b = _order_parameter_row(fig, ax[r], *mats[k], name=name, layer=max(layer, 1), n_layers=L, names=names,
                                    lim=lim, zlim=zlim)
        im, imz = im or a, imz or b
    fig.colorbar(im, ax=list(ax[:, :2].ravel()), shrink=0.6, location="bottom").set_label("$U_\\ell$, $U_a$ entry (a.u.)")
    fig.colorbar(imz, ax=list(ax[:, 2]), shrink=0.9, location="bottom").set_label("z = (sim. − theory) / SE")
    if title:
        fig.suptitle(title)
    return fig, ax


def plot_predictor(theory_mean: np.ndarray, sim_mean: np.ndarray, sim_mean_se: np.ndarray,
                   theory_var: np.ndarray, sim_var: np.ndarray, sim_var_se: np.ndarray, *,
                   gp_mean: np.ndarray | None = None, title: str = "") -> tuple[Any, Any]:
    """Predictor mean and variance on test inputs: simulation (±1 SE) against theory, with y = x."""
    fig, ax = _figure(2, aspect=1.0)
    for a, th, sim, se, lab, what in ((ax[0], theory_mean, sim_mean, sim_mean_se, "⟨f*⟩", "predictor mean"),
                                      (ax[1], theory_var, sim_var, sim_var_se, "⟨δf*²⟩", "predictor variance")):
        th, sim, se = map(np.asarray, (th, sim, se))
        lo, hi = float(min(th.min(), (sim - se).min())), float(max(th.max(), (sim + se).max()))
        pad = 0.05 * (hi - lo + 1e-12)
        a.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=0.8, zorder=0, label="y = x")
        a.errorbar(th, sim, yerr=se, fmt="o", ms=3, lw=0.8, color="C0", label="NUTS ± SE")
        a.set_xlabel(f"theory {lab} (a.u.)")
        a.set_ylabel(f"simulation {lab} (a.u.)" if lab == "⟨f*⟩" else "simulation (a.u.)")
        a.set_title(f"{what} {lab}")
    if gp_mean is not None:
        ax[0].plot(np.asarray(theory_mean), np.asarray(gp_mean), "x", ms=3, color="C3", label="GP limit")
    fig.legend(*ax[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)  # below, over no data
    if title:
        fig.suptitle(title)
    return fig, ax


def plot_test_error_vs_alpha(curve_alpha: np.ndarray, curve_error: np.ndarray, sim_alpha: np.ndarray,
                             sim_error: np.ndarray, sim_se: np.ndarray, *, gp_error: np.ndarray | None = None,
                             gd_alpha: np.ndarray | None = None, gd_error: np.ndarray | None = None,
                             title: str = "") -> tuple[Any, Any]:
    """Test error ε_g vs α = P/N: theory curve, GP-limit curve, NUTS points (± SE) and GD points."""
    from matplotlib.ticker import FuncFormatter

    fig, ax = _figure(1)
    ax.plot(curve_alpha, curve_error, "-" if len(curve_alpha) > 1 else "D", color="C0", label="theory (saddle point)")
    if gp_error is not None:
        ax.plot(curve_alpha, gp_error, "--" if len(curve_alpha) > 1 else "+", color="0.5", label="GP limit")
    ax.errorbar(sim_alpha, sim_error, yerr=sim_se, fmt="o", color="C1", label="NUTS ± SE")
    if gd_alpha is not None and gd_error is not None and len(gd_alpha):
        ax.plot(gd_alpha, gd_error, "s", mfc="none", color="C2", label="gradient descent")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("α = P/N")
    ax.set_ylabel("test error ε_g (a.u.)")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)  # below the axes: covers no data
    if title:
        ax.set_title(title)
    return fig, ax


def plot_discrepancy_vs_inverse_width(widths: Sequence[float], discrepancies: Mapping[str, np.ndarray], *,
                                      fit: Mapping[str, float] | None = None, title: str = "") -> tuple[Any, Any]:
    """Relative discrepancy |theory − simulation| (noise-corrected) vs 1/N, per statistic, with the
    fitted c₀ + c₁/N of the overall discrepancy."""
    inv = 1.0 / np.asarray(widths, dtype=np.float64)
    fig, ax = _figure(1)
    for i, (k, d) in enumerate(discrepancies.items()):
        ax.plot(inv, d, "o-", color=f"C{i}", label=_STAT_NAMES.get(k, k))
    if fit is not None:
        xs = np.linspace(0.0, float(inv.max()) * 1.05, 50)
        ax.plot(xs, fit["c0"] + fit["c1"] * xs, ":", color="k", label="fit c₀ + c₁/N (overall)")
    ax.set_xlim(left=0.0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("inverse width 1/N")
    ax.set_ylabel("relative discrepancy |theory − simulation|")
    # many statistics: the legend goes outside the axes, so it covers no data
    if len(discrepancies) + (fit is not None) > 3:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig, ax


_STAT_NAMES = {"U1": "$U_1$", "U2": "$U_2$", "U3": "$U_3$", "U_a": "$U_a$", "f_mean": "mean ⟨f*⟩",
               "f_var": "variance ⟨δf*²⟩", "test_error": "test error ε_g", "overall": "overall"}


def figures_from_report(report: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """All figures of a validation report (as saved in result.json / report.json): (fig, stem) pairs."""
    figs: list[tuple[Any, str]] = []
    points = [p for p in report.get("points", []) if "error" not in p]
    many_seeds = len({p.get("seed", 0) for p in points}) > 1
    for p in points:
        c = p["comparisons"]
        tag = f"alpha{p['alpha']:g}_N{p['width']}" + (f"_seed{p['seed']}" if many_seeds else "")
        ttl = (f"α = {p['alpha']:g}, N = {p['width']}" + (f", seed {p['seed']}" if many_seeds else "")
               + ("" if p.get("used") else " (not mixed)"))
        if "U1" in c:
            figs.append((plot_order_parameter_comparison(c, title=ttl)[0], f"order_parameters_{tag}"))
        if "f_mean" in c and "f_var" in c:
            figs.append((plot_predictor(c["f_mean"]["theory"], c["f_mean"]["simulation"], c["f_mean"]["se"],
                                        c["f_var"]["theory"], c["f_var"]["simulation"], c["f_var"]["se"],
                                        gp_mean=p["theory"].get("gp_f_mean"), title=ttl)[0], f"predictor_{tag}"))
    if points and "test_error" in points[0]["comparisons"]:
        curve = report.get("theory_curve")
        wmax = curve["width"] if curve is not None else max(p["width"] for p in points)
        sel = sorted([p for p in points if p["width"] == wmax], key=lambda p: p["alpha"])
        if curve is not None and len(curve.get("alpha", [])):
            ca, ce, cg = np.asarray(curve["alpha"]), np.asarray(curve["test_error"]), np.asarray(curve["gp_test_error"])
        else:  # no separate theory curve (e.g. --quick): the theory at the simulated points
            ca = np.asarray([p["n_train"] / p["width"] for p in sel])
            ce = np.asarray([p["comparisons"]["test_error"]["theory"] for p in sel])
            cg = np.asarray([p["theory"].get("gp_test_error", np.nan) for p in sel])
        gd = [p for p in sel if "gd" in p and "test_error" in p["gd"]]
        figs.append((plot_test_error_vs_alpha(
            ca, ce, np.asarray([p["n_train"] / p["width"] for p in sel]),
            np.asarray([p["comparisons"]["test_error"]["simulation"] for p in sel]),
            np.asarray([p["comparisons"]["test_error"]["se"] for p in sel]), gp_error=cg,
            gd_alpha=np.asarray([p["n_train"] / p["width"] for p in gd]),
            gd_error=np.asarray([p["gd"]["test_error"] for p in gd]), title=f"N = {wmax}")[0], "test_error_vs_alpha"))
    for s in report.get("n_scaling", []):
        if s.get("shrinks") is None:
            continue
        d = {k: np.asarray(v["discrepancy_corrected"]) for k, v in s["statistics"].items()}
        stem = f"discrepancy_vs_inverse_width_alpha{s['alpha']:g}" + (f"_seed{s['seed']}" if many_seeds else "")
        ttl = f"α = {s['alpha']:g}" + (f", seed {s['seed']}" if many_seeds else "")
        figs.append((plot_discrepancy_vs_inverse_width(s["widths"], d, fit=s["overall"]["fit"], title=ttl)[0], stem))
    return figs
