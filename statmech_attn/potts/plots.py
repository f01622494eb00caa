"""Figures of ``potts sample``, ``train``, ``replica`` and ``validate`` runs, from a saved run directory (no recomputation).

Each function takes the ``result.json`` record and the ``arrays.npz`` arrays and returns a list of
``(figure, file stem)``; nothing is shown.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

__all__ = ["sample_figures", "train_figures", "replica_figures", "validate_figures"]


def sample_figures(record: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[tuple[Any, str]]:
    """One-site marginals (sampled vs exact when enumerable) and the energy trace of every chain."""
    import matplotlib.pyplot as plt

    res = record["result"]
    marg = np.asarray(res["one_site_marginals"])
    L, C = marg.shape
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    if res.get("exact_one_site_marginals") is not None:
        exact = np.asarray(res["exact_one_site_marginals"])
        tau = max(1.0, res["energy_autocorr_sweeps"] / max(1, record["config"].get("sampler", {}).get("thin", 1)))
        se = np.sqrt(exact * (1 - exact) * tau / res["n_samples"]).ravel()
        k = np.arange(L * C)
        ax.fill_between(k, -3 * se, 3 * se, color="0.85", label="±3 standard errors")
        ax.plot(k, (marg - exact).ravel(), "o", ms=4, label="sampled − exact")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("site·C + colour")
        ax.set_ylabel("$P_i(a)$ error")
        ax.legend(fontsize=8)
        ax.set_title(f"one-site marginals (max error {res['max_marginal_error']:.2g})")
    else:
        im = ax.imshow(marg.T, aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set_xlabel("site i")
        ax.set_ylabel("colour a")
        ax.set_title("sampled one-site marginals")
    ax = axes[1]
    trace = arrays.get("energy_trace")
    if trace is not None and trace.size:
        for c in range(min(4, trace.shape[0])):
            ax.plot(trace[c, :500], lw=0.7)
        ax.set_xlabel("sweep after burn-in")
        ax.set_ylabel("energy H(s)")
        ax.set_title(f"energy, first chains (τ = {res['energy_autocorr_sweeps']:.3g} sweeps)")
    else:
        ax.set_axis_off()
    fig.tight_layout()
    return [(fig, "sample")]


def train_figures(record: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[tuple[Any, str]]:
    """Learned vs true interaction matrices, loss curves, and recovery vs the number of samples."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    res = record["result"]
    figs: list[tuple[Any, str]] = []
    learned = arrays.get("pair_scores")
    truth = arrays.get("true_pair_scores")
    n = 1 + (truth is not None)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 4), squeeze=False)
    panels = [(learned, f"learned ({res['layer']})")] + ([(truth, "true")] if truth is not None else [])
    for ax, (mat, title) in zip(axes[0], panels):
        im = ax.imshow(mat, cmap="viridis")
        fig.colorbar(im, ax=ax)
        ax.set_title(f"{title} interaction scores")
        ax.set_xlabel("key site j")
        ax.set_ylabel("query site i")
    fig.tight_layout()
    figs.append((fig, "interaction"))

    curve = arrays.get("loss_curve")
    if curve is not None and curve.size:
        fig, ax = plt.subplots(figsize=(5, 4))
        ep = np.arange(1, curve.shape[0] + 1)
        ax.plot(ep, curve[:, 0], label="training objective (6)")
        if np.any(np.isfinite(curve[:, 1])):
            ax.plot(ep, curve[:, 1], label="validation CE (mask all)")
        if res.get("cond_entropy") is not None:
            ax.axhline(res["cond_entropy"], color="k", ls="--", lw=1, label="conditional entropy (floor)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        figs.append((fig, "loss"))

    rec = res.get("recovery_curve") or []
    if rec:
        Ms = [r["n_samples"] for r in rec]
        keys = [k for k in ("coupling_error", "test_kl", "auc", "top_pair_precision") if rec[0].get(k) is not None]
        fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.6), squeeze=False)
        for ax, k in zip(axes[0], keys):
            ax.plot(Ms, [r[k] for r in rec], "o-")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
            if k in ("coupling_error", "test_kl"):
                ax.set_yscale("log")
            else:
                ax.set_ylim(0.0, 1.05)
            ax.set_xlabel("number of samples M")
            ax.set_title(k)
        fig.tight_layout()
        figs.append((fig, "recovery"))
    return figs


# ------------------------------------------------------------------------------------------------
# replica and validate runs: observables vs α

PLOT_OBSERVABLES = ("m", "q", "test_ce", "kl", "eps_w", "cosine", "train_loss")


LABELS = {"m": "$m$", "q": "$q$", "test_ce": "test cross-entropy", "kl": "KL to the teacher",
          "eps_w": r"$\epsilon_w = \|\hat w - w^*\|^2/\|w^*\|^2$", "cosine": "cosine to the teacher",
          "train_loss": "training loss", "cond_entropy": "conditional entropy"}


def _grid(n: int) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    return fig, axes.ravel()


def _log_alpha_axis(ax: Any) -> None:
    """Log α axis labelled in plain numbers: decades, plus 2 and 5 times them on ranges under 1.5 decades."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    lo, hi = ax.get_xlim()
    if hi / lo < 10 ** 1.5:
        ax.xaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.xaxis.set_minor_formatter(plain)
    else:
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"$\alpha = M/N$")


def _theory_lines(ax: Any, points: Sequence[dict[str, Any]], key: str, **kw: Any) -> None:
    pts = sorted(points, key=lambda p: p["alpha"])
    a = np.array([p["alpha"] for p in pts])
    v = np.array([p[key] if p.get("converged", True) else np.nan for p in pts], dtype=float)
    ax.plot(a, v, "-", **kw)


def replica_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    """Observables of a ``potts replica`` run vs α (one panel per observable, log α axis)."""
    res = record["result"]
    points = res["points"]
    fig, axes = _grid(len(PLOT_OBSERVABLES))
    for ax, key in zip(axes, PLOT_OBSERVABLES):
        _theory_lines(ax, points, key, color="C0", lw=1.5, label="replica theory")
        bad = [p for p in points if not p["converged"]]
        if bad:
            ax.plot([p["alpha"] for p in bad], [p[key] for p in bad], "x", color="C3", label="not converged")
        _log_alpha_axis(ax)
        ax.set_title(LABELS[key], fontsize=10)
        if key == "test_ce" and points:
            ax.axhline(points[0]["cond_entropy"], color="0.5", ls=":", lw=1, label="conditional entropy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"replica theory: ρ = {res['teacher_norm']:g}, λ = {res['ridge']:g}", fontsize=11)
    fig.tight_layout()
    return [(fig, "replica")]


def validate_figures(record: dict[str, Any], arrays: dict[str, Any]) -> list[tuple[Any, str]]:
    """Theory curve and finite-size means ± standard errors (ERM or the MLM-trained layer) vs α, one panel
    per compared observable."""
    res = record["result"]
    keys = ("m", "q", "test_ce", "kl", "eps_w")
    fig, axes = _grid(len(keys))
    sizes = sorted({p["size"] for p in res["points"]})
    train = res.get("target") == "train"
    sim = "MLM layer" if train else "ERM"
    for ax, key in zip(axes, keys):
        _theory_lines(ax, res.get("theory_curve") or res["theory"], key, color="k", lw=1.3, label="replica theory")
        for i, N in enumerate(sizes):
            pts = sorted((p for p in res["points"] if p["size"] == N), key=lambda p: p["alpha"])
            shift = 1 + 0.03 * (i - (len(sizes) - 1) / 2)  # small horizontal offset per size
            ax.errorbar([p["alpha"] * shift for p in pts], [p["mean"][key] for p in pts],
                        yerr=[p["se"][key] for p in pts], fmt="o", ms=4, capsize=2, color=f"C{i}",
                        label=f"{sim} N = {N}")
        _log_alpha_axis(ax)
        ax.set_title(LABELS[key], fontsize=10)
    axes[0].legend(fontsize=7)
    status = "passed" if res["passed"] else "NOT passed"
    contexts = res.get("contexts", "") if train else res["mode"]
    fig.suptitle(f"replica theory vs {sim} ({contexts} contexts, {len(res['seeds'])} seeds): {status}", fontsize=11)
    fig.tight_layout()
    return [(fig, "validate")]

