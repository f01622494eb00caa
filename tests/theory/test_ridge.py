"""gcm_ridge.py against the Marchenko–Pastur ridge learning curve, derived here independently.

Isotropic covariates x ~ N(0, I_p), n = αp samples, y = θ·x/√p + √Δ ε with ‖θ‖²/p = ρ and
ŵ = (F + λ)⁻¹ Xᵀy/√p, F = XᵀX/p.  Then ŵ − θ = −λ(F + λ)⁻¹θ + √Δ (F + λ)⁻¹Xᵀε/√p and, with
g(z) = ∫ dμ_F(s)/(s − z) the Stieltjes transform of F's spectral law,

    test error  = Δ + ρλ² g'(−λ) + Δ [g(−λ) − λ g'(−λ)],
    train MSE   = λ² ∫ (ρs + Δ)/(s + λ)² dν(s),  ν the law of K = XXᵀ/p (n×n)
                = ρ [g_K(−λ) − λ g_K'(−λ)] λ² + Δ λ² g_K'(−λ),

F = α S with S = XᵀX/n Marchenko–Pastur of ratio c = 1/α: c z m² + (z + c − 1) m + 1 = 0 for
m = g_S, and g_F(z) = g_S(z/α)/α; g_K = g_F/α − (1 − 1/α)/z.
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from statmech_attn.theory import solve, sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "theories"


@pytest.fixture(scope="module")
def ridge():
    return runpy.run_path(str(EXAMPLES / "gcm_ridge.py"))


def _mp(z: float, c: float) -> tuple[float, float]:
    """(m, dm/dz) of the MP law of ratio c at real z < 0 (the positive root)."""
    a, b = c * z, z + c - 1
    disc = math.sqrt(b * b - 4 * a)
    m = max((-b + disc) / (2 * a), (-b - disc) / (2 * a))
    dm = -(c * m * m + m) / (2 * c * z * m + z + c - 1)
    return m, dm


def mp_ridge(alpha: float, lam: float, delta: float, rho: float) -> tuple[float, float]:
    c = 1 / alpha
    mS, dmS = _mp(-lam / alpha, c)
    g, dg = mS / alpha, dmS / alpha ** 2  # g_F(−λ), g_F'(−λ)
    test = delta + rho * lam ** 2 * dg + delta * (g - lam * dg)
    z = -lam
    gK = g / alpha - (1 - 1 / alpha) / z
    dgK = dg / alpha + (1 - 1 / alpha) / z ** 2
    train = lam ** 2 * (rho * (gK - lam * dgK) + delta * dgK)
    return test, train


@pytest.mark.parametrize("alpha,lam,delta,rho", [(0.5, 0.1, 0.0, 1.0), (2.0, 0.1, 0.3, 1.0), (4.0, 1.0, 0.5, 2.0),
                                                  (1.0, 0.01, 0.1, 1.0)])
def test_ridge_matches_marchenko_pastur(ridge, alpha, lam, delta, rho):
    sol = solve(ridge["theory"], {"alpha": alpha, "lambda": lam, "Delta": delta, "rho": rho}, tol=1e-13)
    test, train = mp_ridge(alpha, lam, delta, rho)
    assert sol.converged and sol.residual <= 1e-13
    assert sol.stats["observables"]["test_error"] == pytest.approx(test, rel=1e-10)
    assert sol.stats["observables"]["train_loss"] == pytest.approx(train, rel=1e-10)
    assert sol.stats["fixed_point_residual"] < 1e-12  # the isolated fixed-point form agrees
    assert sol.stats["extremum"] == "saddle"


def test_ridge_sweep_of_100_points(ridge):
    alphas = np.geomspace(0.1, 10, 100)
    sols = sweep(ridge["theory"], "alpha", alphas, {"lambda": 0.05, "Delta": 0.2}, tol=1e-12)
    assert all(s.converged for s in sols)
    err = max(abs(s.stats["observables"]["test_error"] - mp_ridge(a, 0.05, 0.2, 1.0)[0]) / mp_ridge(a, 0.05, 0.2, 1.0)[0]
              for s, a in zip(sols, alphas))
    assert err < 1e-9


def test_spectrum_npz_isotropic_equals_default(ridge, tmp_path):
    f = tmp_path / "spec.npz"
    np.savez(f, omega=np.ones(7), t=np.full(7, 3.0))  # t is rescaled to (1/p) Σ ω t² = 1
    th = ridge["make_theory"](str(f))
    a = solve(th, {"alpha": 2.0}).value
    b = solve(ridge["theory"], {"alpha": 2.0}).value
    assert max(abs(a[k] - b[k]) for k in a) < 1e-12


def test_spectrum_changes_the_curve_like_gcmproject(ridge, tmp_path):
    """A two-level spectrum: the entropic equations are GCMProject's spectral updates."""
    w = np.array([0.5, 2.0] * 50)
    t = np.array([1.0, 0.5] * 50)
    f = tmp_path / "spec.npz"
    np.savez(f, omega=w, t=t)
    th = ridge["make_theory"](str(f))
    s = solve(th, {"alpha": 1.5, "lambda": 0.2})
    t = t / np.sqrt(np.mean(w * t ** 2))
    v = s.value
    lam = 0.2
    # GCMProject (gamma = 1, teacher = student features): V, q, m from the hats
    V = np.mean(w / (lam + v["V_hat"] * w))
    q = np.mean((w ** 2 * v["q_hat"] + v["m_hat"] ** 2 * w * (w * t) ** 2) / (lam + v["V_hat"] * w) ** 2)
    m = v["m_hat"] * np.mean((w * t) ** 2 / (lam + v["V_hat"] * w))
    assert (v["V"], v["q"], v["m"]) == pytest.approx((V, q, m), rel=1e-10)
    assert v["V_hat"] == pytest.approx(1.5 / (1 + V), rel=1e-10)
