"""Finite-size teacher–student ERM (validation/potts/replica_erm.py) against the replica theory (§7.9)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from statmech_attn.potts import replica as R
from statmech_attn.validation.potts import replica_erm as E

U3 = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))


@pytest.fixture(scope="module")
def setting3() -> R.ReplicaSetting:
    return R.ReplicaSetting.from_colour_matrix(U3, teacher_norm=1.0, ridge=0.1, cubature_order=24)


def test_newton_fit_matches_scipy_lbfgs():
    """The ERM minimiser agrees with an independent SciPy L-BFGS solve of (10)."""
    import jax

    prob = E.ERMProblem.from_setting(R.ReplicaSetting.from_colour_matrix(U3, ridge=0.3))
    X, y, _ = E.sample_data(jax.random.PRNGKey(3), 40, 60, np.asarray(E._sqrtm(prob.colour_covariance)),
                            np.asarray(prob.colour_matrix), 1.0, False)
    w, gnorm, steps = E.fit_ridge_ce(X, y, 0.3)
    assert float(gnorm) <= 1e-8 and int(steps) < 30
    Xn, yn = np.asarray(X), np.asarray(y)

    def f(v):
        t = Xn @ v / np.sqrt(40)
        p = np.exp(t - logsumexp(t, axis=1, keepdims=True))
        g = np.einsum("mcn,mc->n", Xn, p - np.eye(3)[yn]) / np.sqrt(40) + 0.3 * v
        return np.sum(logsumexp(t, axis=1) - t[np.arange(60), yn]) + 0.15 * v @ v, g

    ref = minimize(f, np.zeros(40), jac=True, method="L-BFGS-B", options={"gtol": 1e-11, "ftol": 0, "maxiter": 5000}).x
    assert np.max(np.abs(np.asarray(w) - ref)) < 1e-6


def test_discrete_contexts_have_the_colour_covariance():
    import jax

    prob = E.ERMProblem.from_setting(R.ReplicaSetting.from_colour_matrix(U3), U3)
    X = np.asarray(E.contexts(jax.random.PRNGKey(0), 2000, 5, np.asarray(E._sqrtm(prob.colour_covariance)),
                              np.asarray(U3), True))
    cols = X.transpose(0, 2, 1).reshape(-1, 3)
    np.testing.assert_allclose(cols.T @ cols / len(cols), R.colour_covariance(U3), atol=0.02)


def test_small_finite_size_agreement(setting3):
    """N = 100, α = 1, 8 seeds: every compared observable within 3 standard errors of the theory."""
    theory = R.replica_curve(setting3, [1.0], cubature_check=False)
    sims = E.simulate(E.ERMProblem.from_setting(setting3, U3), [1.0], [100], list(range(8)), mode="gauss")
    rep = E.compare(theory, sims)
    p = rep["points"][0]
    assert p["grad_norm_max"] <= 1e-8
    assert rep["passed"], p["z"]
    assert abs(p["mean"]["cond_entropy"] - theory[0]["cond_entropy"]) < 5 * p["se"]["cond_entropy"] + 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["gauss", "discrete"])
def test_finite_size_agreement_n400(setting3, mode):
    """§7.9 / issue 7: N = 400, α ∈ {0.5, 1, 2, 4}, 32 seeds: |z| < 3 for m, q, test_ce, kl, eps_w.

    32 seeds, not 8: with 8 the standard error itself is uncertain by ~25 % and z follows Student's
    t with 7 degrees of freedom (P(|t₇| > 3) ≈ 2 % per comparison, 20 comparisons here); seeds 0–7
    gave z(m) = 3.3, z(kl) = −4.3 at α = 0.5 while seeds 0–31 give z(m) = 1.3 and seeds 100–131
    z(m) = −1.9 at the same N (measured, session 2)."""
    alphas = [0.5, 1.0, 2.0, 4.0]
    theory = R.replica_curve(setting3, alphas, cubature_check=False)
    sims = E.simulate(E.ERMProblem.from_setting(setting3, U3), alphas, [400], list(range(32)), mode=mode)
    rep = E.compare(theory, sims)
    print(mode, [(p["alpha"], {k: round(v, 2) for k, v in p["z"].items()}) for p in rep["points"]])
    assert rep["passed"], [(p["alpha"], p["z"]) for p in rep["points"]]
