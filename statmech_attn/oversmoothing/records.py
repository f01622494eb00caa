"""``oversmoothing`` records: an analysed stack -> the JSON-ready ``result`` of ``result.json`` and the
arrays of ``arrays.npz``."""

from __future__ import annotations

from typing import Any

import numpy as np


def _finite_or_none(a: np.ndarray) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(a, dtype=float)]


def analyse_record(spec: Any, an: Any, x0: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record of ``oversmoothing analyse``: the spectrum (growth factors 1 + λ_A λ_H, regime,
    dominant factor, spectral gap), HFC/LFC over depth from theory and simulation, the simulated
    metrics, and the eigenvector condition (None where the map is defective)."""
    s = an.spectrum
    sim = an.simulation
    result: dict[str, Any] = dict(s.to_dict())
    # ratios may leave float64's range at depth (exactly 0 or ∞); JSON gets null there
    result["hfc_lfc_ratio"] = {"theory": _finite_or_none(an.theory), "simulation": _finite_or_none(sim["hfc_lfc_ratio"])}
    result["metrics"] = {k: _finite_or_none(sim[k]) for k in
                         ("mean_pairwise_cosine", "dirichlet_energy_normalised", "effective_rank", "log_norm")}
    result["theory_vs_simulation_max_rel_error"] = an.max_rel_error if np.isfinite(an.max_rel_error) else None
    result["eigenvector_condition"] = an.condition if np.isfinite(an.condition) else None  # None: defective
    result["n_tokens"], result["dim"], result["depth"] = spec.n, spec.d, spec.depth
    arrays = {"growth": s.growth, "smooth_mode": s.smooth_mode, "eig_attention": s.eig_attention,
              "eig_value_projection": s.eig_value_projection, "hfc_lfc_theory": an.theory,
              "hfc_lfc_simulation": sim["hfc_lfc_ratio"], "tokens_initial": x0, "tokens_last": sim["tokens_last"]}
    return result, arrays
