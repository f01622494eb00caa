"""Figures of ``potts sample`` and ``potts train`` runs, from a saved run directory (no recomputation).

Each function takes the ``result.json`` record and the ``arrays.npz`` arrays and returns a list of
``(figure, file stem)``; nothing is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["sample_figures", "train_figures"]


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
