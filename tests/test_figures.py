"""Paper-grade figures of the energy, factors, oversmoothing and Potts replica plot functions: every panel
labelled (a quantity with units or "(a.u.)"), human titles, labelled colour bars, ``--style paper`` sizes."""

import re

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def _check_labelled(fig, what):
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            assert ax.get_xlabel() or ax.get_ylabel(), f"{what}: unlabelled colour bar"
        elif ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel(), f"{what}: {ax.get_title()!r}"
            plain = re.sub(r"\$[^$]*\$", "", ax.get_title())  # mathtext subscripts are not snake_case
            assert "_" not in plain, f"{what}: snake_case title {ax.get_title()!r}"


def _figures():
    from statmech_attn.energy.plots import plot_norms
    from statmech_attn.factors.plots import plot_importance
    from statmech_attn.oversmoothing.plots import plot_growth_plane, plot_hfc_lfc

    rng = np.random.default_rng(0)
    n = rng.uniform(1, 2, size=(3, 4))
    yield "norms", plot_norms(n, 1.5 * n, n, layer_norm=True, dim=2)[0]
    yield "importance", plot_importance(rng.uniform(size=(10, 5)), np.array(["low", "mid", "high", "unused", "low"] * 2))[0]
    yield "hfc_lfc", plot_hfc_lfc(0.5 ** np.arange(6), 0.5 ** np.arange(6), regime="over_smoothing")[0]
    g = 1 + rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2))
    yield "growth_plane", plot_growth_plane(g, np.array([True, False, False]), (0, 0))[0]
    from statmech_attn.theory.plots import figures

    rec = {"theory": "gcm_ridge", "over": "alpha", "observables": ["test_error"], "order_parameters": ["m", "q"],
           "points": [{"alpha": a, "test_error": 1 / a, "m": a, "q": 2 * a, "converged": True} for a in (0.5, 1, 2)]}
    for fig, stem in figures(rec):
        yield f"theory {stem}", fig


def _replica_record():
    pts = [dict(alpha=a, m=0.5 * a, q=a, test_ce=1.0 / a, kl=0.1 / a, eps_w=1.0 / a, cosine=0.5, train_loss=0.3,
                cond_entropy=0.7, converged=True) for a in (0.5, 1.0, 2.0)]
    return {"result": {"points": pts, "teacher_norm": 1.0, "ridge": 0.1}}


def test_every_panel_is_labelled_and_paper_is_one_column():
    import matplotlib.pyplot as plt

    from statmech_attn._style import style_context
    from statmech_attn.potts.plots import replica_figures

    for what, fig in _figures():
        _check_labelled(fig, what)
    fig, _ = replica_figures(_replica_record(), {})[0]
    _check_labelled(fig, "replica")
    assert fig.get_figwidth() * 200 <= 2400  # a readable size at the PNG's 200 dpi
    with style_context("paper"):
        widths = {what: fig.get_figwidth() for what, fig in _figures()}
    assert all(abs(w - 3.4) < 1e-9 for w in widths.values()), widths  # one journal column
    plt.close("all")


def test_importance_colour_bar_and_legend_outside():
    import matplotlib.pyplot as plt

    from statmech_attn.factors.plots import plot_importance

    fig, (ax, ax2) = plot_importance(np.random.default_rng(1).uniform(size=(6, 4)), np.array(["low", "mid"] * 3))
    (cb,) = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert cb.get_ylabel() == "IS(c, ℓ) / max IS"
    # the legend is anchored outside the axes (x ≥ 1 in axes coordinates): it covers no curve
    assert ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted()).x0 >= 1.0 - 1e-9
    plt.close("all")
