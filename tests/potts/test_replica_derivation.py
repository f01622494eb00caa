"""The SymPy derivation of the replica equations (derivations/potts.py) against the theory file's
(13)–(14), the C = 2 logistic reduction, the limits (15)–(16), and the numeric solver."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from statmech_attn.derivations import potts as dp
from statmech_attn.potts import replica as R

U3 = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))


@pytest.fixture(scope="module")
def setting3() -> R.ReplicaSetting:
    return R.ReplicaSetting.from_colour_matrix(U3, teacher_norm=1.0, ridge=0.1, cubature_order=24)


@pytest.fixture(scope="module")
def float_basis_derivation(setting3):
    """The derivation with the solver's own (numeric) basis B of range(Σ)."""
    B = tuple(tuple(sp.Float(x, 17) for x in row) for row in setting3.range_basis)
    return dp.derive_replica(3, basis=B)


def test_derivation_steps_verified(float_basis_derivation):
    checks = float_basis_derivation.checks
    assert len(checks) == 3 * 3 + 3 and all(checks.values())  # envelope (ω1, ω2, V) and implicit Jacobian per y


def test_symbolic_c2_matches_theory_equations():
    d = dp.derive_replica(2)  # symbolic b_ck
    assert all(dp.check_against_theory(d).values())


@pytest.mark.slow
def test_symbolic_c3_matches_theory_equations():
    d = dp.derive_replica(3)
    assert all(d.checks.values()) and all(dp.check_against_theory(d).values())


def test_c2_reduces_to_logistic_regression():
    diffs = dp.c2_reduction()
    assert set(diffs) >= {"m_hat", "q_hat", "V_hat", "prox y=+1", "prox y=-1", "entropic m", "entropic q", "entropic V"}
    assert all(v == 0 for v in diffs.values()), diffs


def test_derived_equations_vanish_at_numeric_solution(setting3, float_basis_derivation):
    sol = R.solve(setting3, 1.0, cubature_check=False)
    res = dp.stationarity_residuals(float_basis_derivation, setting3, 1.0, sol.value, proximal_map=R.proximal_map)
    assert set(res) == {"m", "q", "V", "m_hat", "q_hat", "V_hat"}
    assert max(abs(v) for v in res.values()) <= 1e-9, res
    # and they do not vanish away from the solution
    off = sol.value._replace(q=sol.value.q * 1.01)
    off_res = dp.stationarity_residuals(float_basis_derivation, setting3, 1.0, off, proximal_map=R.proximal_map)
    assert max(abs(v) for v in off_res.values()) > 1e-4


def _gauss_u(d, rho: float, integrand, n: int = 40) -> float:
    """E over u ~ N(0, ρ I_r) of a derived integrand in u (1-D Gauss–Hermite product, NumPy)."""
    from numpy.polynomial.hermite_e import hermegauss

    x, w = hermegauss(n)
    w = w / w.sum()
    grid = np.meshgrid(*([x] * d.rank), indexing="ij")
    wg = np.prod(np.meshgrid(*([w] * d.rank), indexing="ij"), axis=0).ravel()
    f = sp.lambdify(list(d.u), dp.explicit(integrand), "numpy")
    return float(wg @ np.broadcast_to(f(*[np.sqrt(rho) * g.ravel() for g in grid]), wg.shape))


def test_alpha_to_zero_limit_from_derivation(setting3, float_basis_derivation):
    """(15) from the derived equations, with z̄_y computed here by SciPy, matches the quoted numbers."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    d = float_basis_derivation
    lim = dp.alpha_to_zero(d)
    B = setting3.range_basis
    lam = 0.1
    reps = {d.s["lam"]: lam, d.s["rho"]: 1.0}
    for y in range(3):
        def obj(x):
            t = B @ x
            return lam * x @ x / 2 + logsumexp(t) - t[y], lam * x + B.T @ (softmax(t) - np.eye(3)[y])

        xb = minimize(obj, np.zeros(2), jac=True, method="BFGS", options={"gtol": 1e-13}).x
        reps.update({lim["zbar"][y][k]: xb[k] for k in range(2)})
    vals = [_gauss_u(d, 1.0, lim["integrands"][k].xreplace(reps)) for k in ("m_hat", "q_hat", "V_hat")]
    m_over, q_over, vh_over = vals[0] / lam, vals[1] / lam ** 2, vals[2]
    for got, quoted in zip((m_over, q_over, vh_over), (1.2670, 3.3694, 0.11570)):
        assert abs(got - quoted) / quoted < 2e-3
    ref = R.alpha_to_zero_limit(setting3)
    for got, r in zip((m_over, q_over, vh_over), ref.values()):
        assert abs(got - r) / r < 1e-6


def test_large_ridge_limit_from_derivation(setting3, float_basis_derivation):
    d = float_basis_derivation
    lim = dp.large_ridge(d)
    mh, qh, vh = (_gauss_u(d, 1.0, lim["integrands"][k]) for k in ("m_hat", "q_hat", "V_hat"))
    assert abs(vh - 8 / 9) < 1e-9  # V̂/α = tr Σ / C = (8/3)/3
    assert abs(qh - 8 / 9) < 1e-9  # Σ_y π_y (e_y − 1/C)ᵀ Σ (e_y − 1/C) = 8/9 (quoted)
    ref = R.large_ridge_limit(setting3.replace(ridge=100.0), 2.0)
    assert abs(2 * mh - ref["m_hat"]) < 1e-6 and abs(mh - 0.6496) / 0.6496 < 3e-3


def test_latex_output(float_basis_derivation):
    tex = dp.to_latex(float_basis_derivation)
    assert r"\begin{equation}" in tex and r"\Phi" in tex and "eq:potts-replica:m-hat" in tex
    assert tex.count(r"\begin{equation}") == tex.count(r"\end{equation}") >= 12
