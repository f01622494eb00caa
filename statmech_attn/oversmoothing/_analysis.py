"""One call: spectrum, regime, closed-form and simulated HFC/LFC over depth."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg

from ._depth import StackSpec, simulate, theory_hfc_lfc
from ._spectrum import Spectrum, spectrum_from_eigs

__all__ = ["Analysis", "analyse"]

#: Ratios outside [RATIO_FLOOR, 1/RATIO_FLOOR] carry a relative round-off error ~ ε/ratio in the
#: simulation (a small component is rebuilt from sums of O(1) numbers), so agreement is judged
#: only inside that window.
RATIO_FLOOR = 1e-6


@dataclasses.dataclass(frozen=True)
class Analysis:
    """Theory and simulation of one stack.

    Attributes:
        spectrum: growth factors, regime and gap of (A, H_eff).
        theory: closed-form HFC/LFC for ℓ = 0..L.
        simulation: per-layer simulated metrics (see :func:`simulate`).
        max_rel_error: max |theory/simulation − 1| over layers whose ratios lie in the
            round-off window [1e-6, 1e6].
        condition: eigenvector condition number of the closed form.
    """

    spectrum: Spectrum
    theory: np.ndarray
    simulation: dict
    max_rel_error: float
    condition: float


def analyse(spec: StackSpec, x0: np.ndarray, *, tol: float = 1e-9) -> Analysis:
    """Spectrum of ``I + H_effᵀ ⊗ A``, the regime, and HFC/LFC(ℓ) by theory and by simulation."""
    eig_a = scipy.linalg.eig(spec.attention)
    eig_h = scipy.linalg.eig(spec.effective_h())
    spec_ = spectrum_from_eigs(eig_a[0], eig_a[1], eig_h[0], tol=tol)
    theory, cond = theory_hfc_lfc(spec, x0, eig_attention=eig_a, eig_value_projection=eig_h)
    sim = simulate(spec, x0)
    s = sim["hfc_lfc_ratio"]
    ok = (np.isfinite(theory) & np.isfinite(s) & (s > RATIO_FLOOR) & (s < 1 / RATIO_FLOOR)
          & (theory > RATIO_FLOOR) & (theory < 1 / RATIO_FLOOR))
    err = float(np.max(np.abs(theory[ok] / s[ok] - 1.0))) if np.any(ok) else float("nan")
    return Analysis(spec_, theory, sim, err, cond)
