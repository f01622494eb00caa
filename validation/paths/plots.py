"""Theory-vs-simulation figures of the attention-path validation (matplotlib only).

Every function returns ``(fig, ax)`` (``ax`` an array when there are several panels) and never
shows the figure; :func:`figures_from_report` builds all of them from a saved report, so
``statmech-attn paths plot DIR`` needs no recomputation.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "plot_order_parameters",
    "plot_predictor",
    "plot_test_error_vs_alpha",
    "plot_discrepancy_vs_inverse_width",
    "figures_from_report",
]

_STYLE = {"font.size": 9, "axes.labelsize": 9, "axes.titlesize": 9, "legend.fontsize": 8,
          "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False, "axes.spines.right": False}


def _figure(ncols: int, width: float = 3.2, height: float = 2.8) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(1, ncols, figsize=(width * ncols, height), constrained_layout=True, squeeze=False)
    return fig, ax[0] if ncols > 1 else ax[0, 0]


def plot_order_parameters(theory: np.ndarray, simulation: np.ndarray, se: np.ndarray | None = None, *,
                          name: str = "U_1", title: str = "") -> tuple[Any, Any]:
    """Theory and sampled order-parameter matrices side by side (shared colour scale), plus
    (simulation − theory)/SE when standard errors are given."""
    import matplotlib.pyplot as plt

    theory, simulation = np.atleast_2d(theory), np.atleast_2d(simulation)
    panels = [(theory, f"theory ${name}$"), (simulation, f"simulation ${name}$")]
    fig, ax = _figure(3 if se is not None else 2, width=2.6, height=2.4)
    vmax = float(max(np.max(np.abs(theory)), np.max(np.abs(simulation)), 1e-12))
    with plt.rc_context(_STYLE):
        for a, (m, t) in zip(ax, panels):
            im = a.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            a.set_title(t)
            a.set_xlabel("path π'")
            a.set_ylabel("path π")
            a.set_xticks(range(m.shape[1]))
            a.set_yticks(range(m.shape[0]))
        fig.colorbar(im, ax=list(ax[:2]), shrink=0.8)
        if se is not None:
            z = (simulation - theory) / np.where(np.atleast_2d(se) > 0, np.atleast_2d(se), np.inf)
            zmax = float(max(3.0, np.max(np.abs(z))))
            im2 = ax[2].imshow(z, cmap="PuOr_r", vmin=-zmax, vmax=zmax)
            ax[2].set_title("(simulation − theory) / SE")
            ax[2].set_xlabel("path π'")
            ax[2].set_ylabel("path π")
            ax[2].set_xticks(range(z.shape[1]))
            ax[2].set_yticks(range(z.shape[0]))
            fig.colorbar(im2, ax=ax[2], shrink=0.8)
        if title:
            fig.suptitle(title)
    return fig, ax


def plot_predictor(theory_mean: np.ndarray, sim_mean: np.ndarray, sim_mean_se: np.ndarray,
                   theory_var: np.ndarray, sim_var: np.ndarray, sim_var_se: np.ndarray, *,
                   gp_mean: np.ndarray | None = None, title: str = "") -> tuple[Any, Any]:
    """Predictor mean and variance on test inputs: simulation (±1 SE) against theory, with y = x."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(2)
    with plt.rc_context(_STYLE):
        for a, th, sim, se, lab in ((ax[0], theory_mean, sim_mean, sim_mean_se, "⟨f*⟩"),
                                    (ax[1], theory_var, sim_var, sim_var_se, "⟨δf*²⟩")):
            th, sim, se = map(np.asarray, (th, sim, se))
            lo, hi = float(min(th.min(), (sim - se).min())), float(max(th.max(), (sim + se).max()))
            pad = 0.05 * (hi - lo + 1e-12)
            a.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=0.8, zorder=0)
            a.errorbar(th, sim, yerr=se, fmt="o", ms=3, lw=0.8, capsize=1.5, color="C0", label="NUTS ± SE")
            a.set_xlabel(f"theory {lab}")
            a.set_ylabel(f"simulation {lab}")
        if gp_mean is not None:
            ax[0].plot(np.asarray(theory_mean), np.asarray(gp_mean), "x", ms=3, color="C3", label="GP limit")
        ax[0].legend(frameon=False)
        if title:
            fig.suptitle(title)
    return fig, ax


def plot_test_error_vs_alpha(curve_alpha: np.ndarray, curve_error: np.ndarray, sim_alpha: np.ndarray,
                             sim_error: np.ndarray, sim_se: np.ndarray, *, gp_error: np.ndarray | None = None,
                             gd_alpha: np.ndarray | None = None, gd_error: np.ndarray | None = None,
                             title: str = "") -> tuple[Any, Any]:
    """Test error ε_g vs α = P/N: theory curve, GP-limit curve, NUTS points (± SE) and GD points."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(1, width=3.6)
    with plt.rc_context(_STYLE):
        ax.plot(curve_alpha, curve_error, "-" if len(curve_alpha) > 1 else "D", ms=4, color="C0", label="theory (saddle point)")
        if gp_error is not None:
            ax.plot(curve_alpha, gp_error, "--" if len(curve_alpha) > 1 else "+", color="0.5", label="GP limit")
        ax.errorbar(sim_alpha, sim_error, yerr=sim_se, fmt="o", ms=4, capsize=2, color="C1", label="NUTS ± SE")
        if gd_alpha is not None and gd_error is not None and len(gd_alpha):
            ax.plot(gd_alpha, gd_error, "s", ms=4, mfc="none", color="C2", label="gradient descent")
        ax.set_xscale("log")
        ax.set_xlabel("α = P/N")
        ax.set_ylabel("test error ε_g")
        ax.legend(frameon=False)
        if title:
            ax.set_title(title)
    return fig, ax


def plot_discrepancy_vs_inverse_width(widths: Sequence[float], discrepancies: Mapping[str, np.ndarray], *,
                                      fit: Mapping[str, float] | None = None, title: str = "") -> tuple[Any, Any]:
    """Relative discrepancy |theory − simulation| (noise-corrected) vs 1/N, per statistic, with the
    fitted c₀ + c₁/N of the overall discrepancy."""
    import matplotlib.pyplot as plt

    inv = 1.0 / np.asarray(widths, dtype=np.float64)
    fig, ax = _figure(1, width=3.6)
    with plt.rc_context(_STYLE):
        for i, (k, d) in enumerate(discrepancies.items()):
            ax.plot(inv, d, "o-", ms=3, lw=1, color=f"C{i}", label=k)
        if fit is not None:
            xs = np.linspace(0.0, float(inv.max()) * 1.05, 50)
            ax.plot(xs, fit["c0"] + fit["c1"] * xs, ":", color="k", lw=1, label="fit c₀ + c₁/N (overall)")
        ax.set_xlim(left=0.0)
        ax.set_ylim(bottom=0.0)
        ax.set_xlabel("1/N")
        ax.set_ylabel("relative discrepancy |theory − simulation|")
        ax.legend(frameon=False, ncol=2)
        if title:
            ax.set_title(title)
    return fig, ax


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
            figs.append((plot_order_parameters(np.asarray(c["U1"]["theory"]), np.asarray(c["U1"]["simulation"]),
                                               np.asarray(c["U1"]["se"]), name="U_1", title=ttl)[0], f"order_parameters_{tag}"))
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
