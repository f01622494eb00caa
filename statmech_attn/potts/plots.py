"""Figures of ``potts sample``, ``train``, ``replica`` and ``validate`` runs, from a saved run directory (no recomputation).

Each function takes the ``result.json`` record and the ``arrays.npz`` arrays and returns a list of
``(figure, file stem)``; nothing is shown.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._style import figsize, subplots

__all__ = ["sample_figures", "train_figures", "replica_figures", "validate_figures"]


def sample_figures(record: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[tuple[Any, str]]:
    """One-site marginals (sampled vs exact when enumerable, ±1 SE bars and a ±3 SE band) and the energy
    trace of the first chains."""
    res = record["result"]
    marg = np.asarray(res["one_site_marginals"])
    L, C = marg.shape
    fig, axes = subplots(1, 2, figsize=figsize(2, aspect=0.95), layout="constrained")
    ax = axes[0]
    if res.get("exact_one_site_marginals") is not None:
        exact = np.asarray(res["exact_one_site_marginals"])
        tau = max(1.0, res["energy_autocorr_sweeps"] / max(1, record["config"].get("sampler", {}).get("thin", 1)))
        se = np.sqrt(exact * (1 - exact) * tau / res["n_samples"]).ravel()
        k = np.arange(L * C)
        ax.fill_between(k, -3 * se, 3 * se, color="0.88", step="mid", lw=0, label="±3 SE")
        ax.errorbar(k, (marg - exact).ravel(), yerr=se, fmt="o", label="sampled − exact ± 1 SE")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(np.arange(L) * C + (C - 1) / 2, [str(i + 1) for i in range(L)])
        ax.set_xticks(np.arange(1, L) * C - 0.5, minor=True)
        ax.tick_params(axis="x", which="major", length=0)
        ax.tick_params(axis="x", which="minor", length=4)
        if L > 12:  # keep the site labels readable
            ax.set_xticks(np.arange(L) * C + (C - 1) / 2, [str(i + 1) if i % 5 == 0 else "" for i in range(L)])
        ax.set_xlabel(f"site i (× {C} colours a)")
        ax.set_ylabel(r"$\hat P_i(a) - P_i(a)$ (prob.)")
        ax.set_title(f"Marginals (max err. {res['max_marginal_error']:.2g})")
        lim = float(max(4 * se.max(), 1.15 * np.abs(marg - exact).max() + se.max()))
        ax.set_ylim(-lim, lim)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)  # below: covers no data
    else:
        im = ax.imshow(marg.T, aspect="auto", cmap="viridis", vmin=0.0)
        fig.colorbar(im, ax=ax).set_label("$P_i(a)$ (probability)")
        ax.set_xticks(range(L), [str(i + 1) for i in range(L)] if L <= 20 else None)
        ax.set_yticks(range(C), [str(c + 1) for c in range(C)])
        ax.set_xlabel("site i")
        ax.set_ylabel("colour a")
        ax.set_title("sampled one-site marginals")
    ax = axes[1]
    trace = arrays.get("energy_trace")
    if trace is not None and trace.size:
        n = min(200, trace.shape[1])
        nc = min(2, trace.shape[0])
        for c in range(nc):  # no legend: the colours only tell the chains apart
            ax.plot(np.arange(n), trace[c, :n], lw=0.6, alpha=0.9)
        ax.set_xlabel("sweep after burn-in")
        ax.set_ylabel("energy H (a.u.)")
        ax.set_title(f"Energy (τ = {res['energy_autocorr_sweeps']:.2g} sweeps)")
    else:
        ax.set_axis_off()
    return [(fig, "sample")]


_RECOVERY = {  # key: (title, y label, log y)
    "coupling_error": ("coupling error", "‖J − J*‖²/‖J*‖² (relative)", True),
    "test_kl": ("test KL divergence", "KL to the true model (nats)", True),
    "auc": ("contact AUC", "area under ROC curve", False),
    "top_pair_precision": ("top-pair precision", "precision (fraction)", False),
}


def train_figures(record: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[tuple[Any, str]]:
    """Learned vs true interaction matrices (one colour scale), loss curves, and recovery vs the number of
    samples (± SE where the record carries repeats)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    res = record["result"]
    figs: list[tuple[Any, str]] = []
    learned = arrays.get("pair_scores")
    truth = arrays.get("true_pair_scores")
    if learned is not None:
        panels = [(np.asarray(learned), f"learned ({res['layer']} attention)")]
        if truth is not None:
            panels.append((np.asarray(truth), "true model"))
        n = len(panels)
        fig, axes = subplots(1, n, figsize=figsize(n, aspect=1.0), layout="constrained", squeeze=False)
        vmin = float(min(np.nanmin(m) for m, _ in panels))
        vmax = float(max(np.nanmax(m) for m, _ in panels))
        im = None
        for ax, (mat, title) in zip(axes[0], panels):
            im = ax.imshow(mat, cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(title)
            ax.set_xlabel("key site j")
            ax.set_ylabel("query site i")
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(integer=True, nbins=6))
                axis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v)) + 1}"))  # sites 1…L
        fig.colorbar(im, ax=list(axes[0]), shrink=0.85).set_label(r"pair score $\|J_{ij}\|_F$ (a.u.)")
        figs.append((fig, "interaction"))

    curve = arrays.get("loss_curve")
    if curve is not None and curve.size:
        fig, ax = subplots(figsize=figsize(1), layout="constrained")
        ep = np.arange(1, curve.shape[0] + 1)
        ax.plot(ep, curve[:, 0], label="training objective")
        if np.any(np.isfinite(curve[:, 1])):
            ax.plot(ep, curve[:, 1], label="validation cross-entropy")
        if res.get("cond_entropy") is not None:
            ax.axhline(res["cond_entropy"], color="k", ls="--", lw=0.8, label="conditional entropy (floor)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (nats per site)")
        ax.legend(loc="best")
        figs.append((fig, "loss"))

    rec = res.get("recovery_curve") or []
    if rec:
        Ms = np.array([r["n_samples"] for r in rec], dtype=float)
        keys = [k for k in _RECOVERY if rec[0].get(k) is not None]
        ncols = min(2, len(keys))
        nrows = math.ceil(len(keys) / ncols)
        fig, axes = subplots(nrows, ncols, figsize=figsize(ncols, nrows, aspect=0.5), layout="constrained",
                             squeeze=False)
        for ax in axes.ravel()[len(keys):]:
            ax.set_axis_off()
        for ax, k in zip(axes.ravel(), keys):
            title, ylabel, logy = _RECOVERY[k]
            y = np.array([r[k] for r in rec], dtype=float)
            se = [r.get(f"{k}_se") for r in rec]
            if all(v is not None for v in se):  # repeated fits per M: mean ± SE
                ax.errorbar(Ms, y, yerr=np.asarray(se, dtype=float), fmt="o-")
            else:
                ax.plot(Ms, y, "o-")
            ax.set_xscale("log")
            ax.set_xticks(Ms, [f"{m:g}" for m in Ms])  # the sample sizes fitted
            ax.xaxis.set_minor_formatter(NullFormatter())
            if logy:
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                narrow = np.nanmax(y) < 5 * np.nanmin(y)  # under a decade: label every minor tick
                ax.yaxis.set_minor_formatter(FuncFormatter(
                    lambda v, _, narrow=narrow: f"{v:.2g}" if narrow or f"{v:.0e}"[0] in "25" else ""))
            else:
                ax.set_ylim(0.0, 1.05)
            ax.set_xlabel("number of samples M")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
        figs.append((fig, "recovery"))
    return figs


# ------------------------------------------------------------------------------------------------
# replica and validate runs: observables vs α

PLOT_OBSERVABLES = ("m", "q", "test_ce", "kl", "eps_w", "cosine", "train_loss")


LABELS = {"m": "$m$ (a.u.)", "q": "$q$ (a.u.)", "test_ce": "CE (nats)", "kl": "KL (nats)",
          "eps_w": r"$\epsilon_w$ (relative)", "cosine": "cosine (fraction)", "train_loss": "loss (nats)",
          "cond_entropy": "entropy (nats)"}

TITLES = {"m": "teacher overlap $m$", "q": "self-overlap $q$", "test_ce": "test cross-entropy", "kl": "KL to the teacher",
          "eps_w": r"weight error $\epsilon_w$", "cosine": "cosine to the teacher", "train_loss": "training loss",
          "cond_entropy": "conditional entropy"}

_MAX_WIDTH = 11.6  # inches: under 2400 px at the 200 dpi of the saved PNG


def _grid(n: int) -> tuple[Any, np.ndarray]:
    rows = math.ceil(n / 4)
    cols = math.ceil(n / rows)  # balanced rows: 5 panels as 3 + 2, 7 as 4 + 3
    w, h = figsize(cols, rows, aspect=0.85)
    if w > _MAX_WIDTH:  # default/talk: many panels side by side would be too wide to read
        w, h = _MAX_WIDTH, h * _MAX_WIDTH / w
    fig, axes = subplots(rows, cols, figsize=(w, h), layout="constrained", squeeze=False)
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
        ax.set_title(TITLES[key])
        ax.set_ylabel(LABELS[key])
        if key == "test_ce" and points:
            ax.axhline(points[0]["cond_entropy"], color="0.5", ls=":", lw=1, label="conditional entropy")
    _figure_legend(fig, axes)
    fig.suptitle(f"Replica theory: ρ = {res['teacher_norm']:g}, λ = {res['ridge']:g}")
    return [(fig, "replica")]


def _figure_legend(fig: Any, axes: Sequence[Any]) -> None:
    """One legend for every panel, below them (it covers no data)."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=min(4, len(seen)))


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
                        yerr=[p["se"][key] for p in pts], fmt="o", color=f"C{i}",
                        label=f"{sim} N = {N}")
        _log_alpha_axis(ax)
        ax.set_title(TITLES[key])
        ax.set_ylabel(LABELS[key])
    _figure_legend(fig, axes)
    status = "passed" if res["passed"] else "NOT passed"
    contexts = res.get("contexts", "") if train else res["mode"]
    fig.suptitle(f"Replica theory vs {sim} ({contexts} contexts, {len(res['seeds'])} seeds, mean ± SE): {status}")
    return [(fig, "validate")]

