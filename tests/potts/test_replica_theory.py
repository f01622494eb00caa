"""Replica theory of one attention row (theory/potts.md §7): checks 5-9 of §8 and independent methods.

Reference numbers come from the theory file (checks 5-9), from an independent scalar logistic-
regression implementation written here (check 6), from closed forms computed here with SciPy
(limits (15)-(16)) and from a plain NumPy Monte-Carlo of the channel integrals written here in the
full C-dimensional space (not on range(Σ) as the solver does).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq, minimize
from scipy.special import expit, logsumexp, softmax

from statmech_attn import InputError, SolverError
from statmech_attn.potts import replica as R

U3 = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))  # check 5: doubly centred, Σ = (4/3)I − (4/9)11ᵀ
U2 = np.array([[1.0, -1.0], [-1.0, 1.0]])


@pytest.fixture(scope="module")
def setting3() -> R.ReplicaSetting:
    return R.ReplicaSetting.from_colour_matrix(U3, teacher_norm=1.0, ridge=0.1, cubature_order=24)


@pytest.fixture(scope="module")
def check5(setting3):
    return R.solve(setting3, 1.0, init=(0.01, 0.02, 10.0), cubature_check=True)


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# ------------------------------------------------------------------------------------------------
# check 5


def test_colour_covariance_of_check5():
    sig = R.colour_covariance(U3)
    np.testing.assert_allclose(sig, (4 / 3) * np.eye(3) - (4 / 9) * np.ones((3, 3)), atol=1e-15)


def test_check5_reference_point(check5):
    v, st = check5.value, check5.stats
    ref = dict(m=0.9239626, q=2.818552, V=3.082283, m_hat=0.2997657, q_hat=0.2068156, V_hat=0.2244349)
    for k, x in ref.items():
        assert rel(getattr(v, k), x) < 1e-5, (k, getattr(v, k), x)
    obs = dict(test_ce=1.376319, cond_entropy=0.8231950, kl=0.5531238, eps_w=1.970627, cosine=0.5503530,
               train_loss=0.3228895)
    for k, x in obs.items():
        assert rel(st[k], x) < 1e-5, (k, st[k], x)
    assert check5.converged and check5.residual <= 1e-10
    # the n vs 1.5n cubature change is reported and small (theory: n = 24 is good to ~2e-6)
    assert st["cubature_order_check"] == 36 and st["cubature_change"] < 1e-5


def test_newton_and_fixed_point_agree(setting3, check5):
    fp = R.solve(setting3, 1.0, solver="fixed_point", cubature_check=False)
    assert fp.converged and fp.iterations > 20 and check5.iterations < 15
    for a, b in zip(fp.value, check5.value):
        assert abs(a - b) < 1e-9


# ------------------------------------------------------------------------------------------------
# check 6: C = 2 against an independent scalar logistic-regression implementation


def logistic_replica(alpha: float, lam: float, rho: float, n: int) -> tuple[float, float, float]:
    """Scalar replica equations of ridge logistic regression (§7.8), 1-D Gauss–Hermite in ξ and ζ.

    ω = √q ξ, h* = (m/√q) ξ + √(ρ − m²/q) ζ, Z(y) = E_ζ σ(y h*), ∂Z(y) = y E_ζ σ'(h*), h_y = prox of
    ln(1 + e^{−y h}) with parameter V (bisection on [ω, ω + yV], then Newton), f_y = (h_y − ω)/V;
    m̂ = α E Σ_y ∂Z f, q̂ = α E Σ_y Z f², V̂ = α E Σ_y Z ℓ''/(1 + V ℓ''); m = ρm̂/(λ+V̂),
    q = (ρm̂² + q̂)/(λ+V̂)², V = 1/(λ+V̂); damped iteration to 1e-13.
    """
    x, w = hermegauss(n)
    w = w / w.sum()
    m, q, V = 0.04, 0.08, 1.0 / lam
    for _ in range(5000):
        omega = math.sqrt(q) * x
        hstar = (m / math.sqrt(q)) * x[:, None] + math.sqrt(max(rho - m * m / q, 0.0)) * x[None, :]
        mh = qh = vh = 0.0
        for y in (1.0, -1.0):
            Z = expit(y * hstar) @ w
            dZ = y * (expit(hstar) * expit(-hstar)) @ w
            lo, hi = np.minimum(omega, omega + y * V), np.maximum(omega, omega + y * V)
            for _ in range(200):  # bisection on the prox condition (h − ω)/V − y σ(−y h) = 0
                mid = 0.5 * (lo + hi)
                g = (mid - omega) / V - y * expit(-y * mid)
                lo, hi = np.where(g > 0, lo, mid), np.where(g > 0, mid, hi)
            h = 0.5 * (lo + hi)
            for _ in range(3):
                s = expit(-y * h)
                h = h - ((h - omega) / V - y * s) / (1 / V + s * (1 - s))
            f = (h - omega) / V
            l2 = expit(h) * expit(-h)
            mh += alpha * w @ (dZ * f)
            qh += alpha * w @ (Z * f * f)
            vh += alpha * w @ (Z * l2 / (1 + V * l2))
        new = np.array([rho * mh / (lam + vh), (rho * mh ** 2 + qh) / (lam + vh) ** 2, 1 / (lam + vh)])
        old = np.array([m, q, V])
        if np.max(np.abs(new - old)) < 1e-13:
            return tuple(new)
        m, q, V = 0.5 * old + 0.5 * new
    raise AssertionError("scalar logistic replica iteration did not converge")


def test_check6_c2_reduces_to_logistic_regression():
    setting = R.ReplicaSetting.from_colour_matrix(U2, teacher_norm=1.0, ridge=0.1, cubature_order=80)
    sol = R.solve(setting, 1.0, cubature_check=False)
    v = sol.value
    for got, ref in zip((v.m, v.q, v.V), (0.6931877, 1.8123291, 4.7013206)):
        assert rel(got, ref) < 1e-6
    mv, qv, Vv = logistic_replica(1.0, lam=0.1 / 4, rho=4.0, n=80)  # ρ_v = 4ρ, λ_v = λ/4
    for got, ref in zip((v.m, v.q, v.V), (mv / 4, qv / 4, Vv / 4)):
        assert rel(got, ref) < 1e-8, (got, ref)


# ------------------------------------------------------------------------------------------------
# check 7: limits (15)-(16), computed here independently with SciPy


def _prior_moments(sig: np.ndarray, rho: float, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """π_y = E p*_y, g_y = E p*_y (e_y − p*) for t* = S u*, u* ~ N(0, ρ I_C): full C-dim product rule."""
    C = sig.shape[0]
    x, w = hermegauss(n)
    w = w / w.sum()
    ev, Q = np.linalg.eigh(sig)
    S = (Q * np.sqrt(np.clip(ev, 0, None))) @ Q.T
    grids = np.meshgrid(*([x] * C), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], -1)
    weights = np.prod(np.stack([g.ravel() for g in np.meshgrid(*([w] * C), indexing="ij")], -1), -1)
    p = softmax(math.sqrt(rho) * nodes @ S.T, axis=1)
    pi = weights @ p
    g = np.diag(pi) - np.einsum("k,ky,kc->yc", weights, p, p)
    return pi, g, S


def alpha_zero_reference(U: np.ndarray, rho: float, lam: float) -> tuple[float, float, float]:
    """(15) with z̄_y = argmin λ‖z‖²/2 + CE(y, Sz) by BFGS in R^C."""
    sig = R.colour_covariance(U)
    C = sig.shape[0]
    pi, g, S = _prior_moments(sig, rho, n=30)
    m = q = vh = 0.0
    for y in range(C):
        e = np.eye(C)[y]

        def obj(z):
            t = S @ z
            return lam * z @ z / 2 + logsumexp(t) - t[y], lam * z + S @ (softmax(t) - e)

        z = minimize(obj, np.zeros(C), jac=True, method="BFGS", options={"gtol": 1e-13}).x
        pbar = softmax(S @ z)
        f = lam * z
        m += rho / lam * f @ S @ g[y]
        q += pi[y] * f @ f / lam ** 2
        A = np.eye(C) + S @ (np.diag(pbar) - np.outer(pbar, pbar)) @ S / lam
        vh += lam * pi[y] * (C - np.trace(np.linalg.inv(A)))
    return m, q, vh


def test_alpha_zero_closed_form_for_kappa_projector():
    """z̄_y = c (e_y − 1/C) with λc = σ(1 − p)C/(C − 1), p = e^{σc}/(e^{σc} + C − 1), for U = κP."""
    kappa, C, lam = 2.0, 3, 0.1
    sigma = kappa / math.sqrt(C)
    c = brentq(lambda c: lam * c - sigma * (1 - math.exp(sigma * c) / (math.exp(sigma * c) + C - 1)) * C / (C - 1),
               0, 100)
    S = sigma * (np.eye(C) - np.ones((C, C)) / C)  # Σ^{1/2} for Σ = σ²P
    z = c * (np.eye(C)[0] - 1 / C)
    grad = lam * z + S @ (softmax(S @ z) - np.eye(C)[0])
    assert np.max(np.abs(grad)) < 1e-12


def test_check7_alpha_to_zero(setting3):
    m_ref, q_ref, vh_ref = alpha_zero_reference(U3, 1.0, 0.1)
    for got, quoted in zip((m_ref, q_ref, vh_ref), (1.2670, 3.3694, 0.11570)):
        assert rel(got, quoted) < 2e-3
    lim = R.alpha_to_zero_limit(setting3)
    for got, ref in zip(lim.values(), (m_ref, q_ref, vh_ref)):
        assert rel(got, ref) < 1e-6
    for alpha, tol in ((1e-3, 2e-3), (1e-4, 3e-4)):
        v = R.solve(setting3, alpha, cubature_check=False).value
        for got, ref in zip((v.m / alpha, v.q / alpha, v.V_hat / alpha), (m_ref, q_ref, vh_ref)):
            assert rel(got, ref) < tol, (alpha, got, ref)
    v = R.solve(setting3, 1e-3, cubature_check=False).value
    for got, quoted in zip((v.m / 1e-3, v.q / 1e-3, v.V_hat / 1e-3), (1.2663, 3.3697, 0.11578)):
        assert rel(got, quoted) < 2e-4


def large_ridge_reference(U: np.ndarray, rho: float, lam: float, alpha: float) -> dict[str, float]:
    """(16): Hebbian limit, expectations under u* ~ N(0, ρI) by a full C-dim product rule."""
    sig = R.colour_covariance(U)
    C = sig.shape[0]
    pi, g, _ = _prior_moments(sig, rho, n=30)
    mh = alpha * np.trace(sig @ g)
    e = np.eye(C) - 1 / C
    qh = alpha * sum(pi[y] * e[y] @ sig @ e[y] for y in range(C))
    vh = alpha * np.trace(sig) / C
    return dict(m=rho * mh / lam, q=(rho * mh ** 2 + qh) / lam ** 2, V_hat=vh,
                cosine=math.sqrt(rho) * mh / math.sqrt(rho * mh ** 2 + qh), m_shift=rho * mh / (lam + vh))


def test_check7_large_ridge(setting3):
    ref = large_ridge_reference(U3, 1.0, 100.0, 2.0)
    assert rel(ref["V_hat"], 16 / 9) < 1e-12
    assert rel(ref["m"], 0.012993) < 3e-2 and rel(ref["cosine"], 0.69790) < 3e-2
    sol = R.solve(setting3.replace(ridge=100.0), 2.0, cubature_check=False)
    assert rel(sol.value.m, 0.012730) < 1e-4 and rel(sol.stats["cosine"], 0.69989) < 1e-4
    assert rel(sol.value.m, ref["m"]) < 3e-2 and rel(sol.value.q, ref["q"]) < 6e-2
    assert rel(sol.value.m, ref["m_shift"]) < 1e-2
    mine = R.large_ridge_limit(setting3.replace(ridge=100.0), 2.0)
    assert rel(mine["m"], ref["m"]) < 1e-6 and rel(mine["cosine"], ref["cosine"]) < 1e-6
    # at λ = 1e4 the leading order is accurate to O(V̂/λ)
    ref4 = large_ridge_reference(U3, 1.0, 1e4, 2.0)
    v = R.solve(setting3.replace(ridge=1e4), 2.0, init=(1e-4, 1e-7, 1e-4), cubature_check=False).value
    for got, key in ((v.m, "m"), (v.q, "q"), (v.V_hat, "V_hat")):
        assert rel(got, ref4[key]) < 1e-3, (key, got, ref4[key])


# ------------------------------------------------------------------------------------------------
# check 8 and 9


def test_check8_free_energy_identity(check5):
    v = check5.value
    assert abs(check5.action - (-0.4638171)) < 1e-6
    assert abs(-check5.action - (1.0 * check5.stats["train_loss"] + 0.1 * v.q / 2)) < 1e-10


@pytest.fixture(scope="module")
def curve(setting3):
    return R.replica_curve(setting3, [2.0, 0.5, 1.0, 8.0, 32.0], cubature_check=False)


def test_check8_identity_along_curve(curve):
    for rec in curve:
        assert rec["converged"] and rec["residual"] <= 1e-10
        assert abs(-rec["free_energy"] - (rec["alpha"] * rec["train_loss"] + 0.1 * rec["q"] / 2)) < 1e-10


def test_check9_sanity(setting3, curve):
    assert [r["alpha"] for r in curve] == [2.0, 0.5, 1.0, 8.0, 32.0]  # records in the order given
    by_alpha = {r["alpha"]: r for r in curve}
    for a, kl in ((0.5, 0.50), (1.0, 0.55), (2.0, 0.36)):
        assert abs(by_alpha[a]["kl"] - kl) < 0.01
    assert by_alpha[0.5]["kl"] < by_alpha[1.0]["kl"] > by_alpha[2.0]["kl"] > by_alpha[8.0]["kl"] > by_alpha[32.0]["kl"]
    assert by_alpha[32.0]["kl"] < 0.02 and by_alpha[32.0]["cosine"] > 0.95
    assert all(r["kl"] >= 0 for r in curve)
    h = [r["cond_entropy"] for r in curve]
    h.append(R.solve(setting3.replace(ridge=3.0), 1.0, cubature_check=False).stats["cond_entropy"])
    assert max(h) - min(h) < 1e-12
    # the curve's points are the single-point solutions
    single = R.solve(setting3, 8.0, cubature_check=False).value
    assert abs(single.q - by_alpha[8.0]["q"]) < 1e-9


# ------------------------------------------------------------------------------------------------
# cubature against Monte Carlo of the channel integrals (full C-space, written here)


def mc_hats(sig: np.ndarray, rho: float, alpha: float, m: float, q: float, V: float, K: int, seed: int):
    """(m̂, q̂, V̂) of (14) and their MC standard errors from K joint samples (ξ, ζ) ~ N(0, I_C)²."""
    rng = np.random.default_rng(seed)
    C = sig.shape[0]
    ev, Q = np.linalg.eigh(sig)
    S = (Q * np.sqrt(np.clip(ev, 0, None))) @ Q.T
    xi, zeta = rng.standard_normal((2, K, C))
    omega = math.sqrt(q) * xi
    u = (m / math.sqrt(q)) * xi + math.sqrt(rho - m * m / q) * zeta
    ps = softmax(u @ S, axis=1)
    samples = np.zeros((3, K))
    for y in range(C):
        e = np.eye(C)[y]
        z = omega.copy()
        for _ in range(60):  # Newton with steps clipped to length 1 in R^C, all samples at once
            p = softmax(z @ S, axis=1)
            g = (z - omega) / V + (p - e) @ S
            D = p[:, :, None] * np.eye(C) - p[:, :, None] * p[:, None, :]
            H = np.eye(C) / V + S @ D @ S
            step = np.linalg.solve(H, g[:, :, None])[:, :, 0]
            z = z - step / np.maximum(1.0, np.linalg.norm(step, axis=1, keepdims=True))
        assert np.max(np.abs((z - omega) / V + (softmax(z @ S, axis=1) - e) @ S)) < 1e-10
        p = softmax(z @ S, axis=1)
        f = (z - omega) / V
        grad_p = (ps[:, y:y + 1] * (e - ps)) @ S  # ∇_u p*_y
        D = p[:, :, None] * np.eye(C) - p[:, :, None] * p[:, None, :]
        A = np.eye(C) + V * S @ D @ S
        tr = np.trace(np.linalg.inv(A), axis1=1, axis2=2)
        samples[0] += np.sum(f * grad_p, axis=1)
        samples[1] += ps[:, y] * np.sum(f * f, axis=1)
        samples[2] += ps[:, y] * (C - tr) / V
    return alpha * samples.mean(axis=1), alpha * samples.std(axis=1, ddof=1) / math.sqrt(K)


def test_cubature_matches_monte_carlo(setting3):
    m, q, V = 0.9, 2.5, 3.0
    st = R.fixed_point_map(setting3, 1.0, m, q, V)
    mean, se = mc_hats(setting3.colour_covariance, 1.0, 1.0, m, q, V, K=20000, seed=7)
    for got, mu, s in zip((st.m_hat, st.q_hat, st.V_hat), mean, se):
        assert abs(got - mu) < 4 * s, (got, mu, s)
    # the cubature error itself is far below the MC error: 24 vs 36 nodes per dimension
    fine = R.fixed_point_map(setting3.replace(cubature_order=36), 1.0, m, q, V)
    for a, b, s in zip((st.m_hat, st.q_hat, st.V_hat), (fine.m_hat, fine.q_hat, fine.V_hat), se):
        assert abs(a - b) < 1e-3 * s


def test_fixed_point_jacobian_matches_finite_differences(setting3):
    """Newton's Jacobian of F = (13)∘(14) (forward mode through the implicit proximal map and the
    (a, b) rule of the teacher moments) against central differences of F."""
    import jax
    import jax.numpy as jnp

    from statmech_attn.potts import _replica_equations as E

    geo, nodes = E._geometry(setting3), E._nodes(*setting3.rules(16, 16))
    x = jnp.asarray([0.8, 2.5, 3.0])
    F = jax.jit(lambda y: E._map(y, jnp.asarray(1.0), geo, nodes))
    J = np.asarray(jax.jacfwd(lambda y: E._map(y, jnp.asarray(1.0), geo, nodes))(x))
    h = 1e-5
    fd = np.stack([(np.asarray(F(x + h * e)) - np.asarray(F(x - h * e))) / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)


def test_full_rank_covariance_uses_product_rule_and_gauge_invariance():
    """A full-rank Σ at C = 3 is integrated with a product Gauss–Hermite rule in 3 dimensions (after
    the eigen transform), not by QMC.  Independent reference: adding c·11ᵀ to Σ shifts every logit
    by the same Gaussian amount, which leaves every softmax and cross-entropy (hence the ERM
    estimator and m, q, V) unchanged, so the numbers of check 5 (theory file, rank-2 Σ) must come out."""
    sig = R.colour_covariance(U3) + 0.3 * np.ones((3, 3))
    setting = R.ReplicaSetting(sig, teacher_norm=1.0, ridge=0.1, cubature_order=20)
    rx, rz = setting.rules()
    assert setting.rank == 3 and rx.kind == rz.kind == "gauss_hermite"
    assert rx.nodes.shape[1] == 3 and setting.teacher_order == 10 and rz.size <= setting.max_teacher_nodes
    sol = R.solve(setting, 1.0, init=(0.01, 0.02, 10.0), cubature_check=False)
    ref = dict(m=0.9239626, q=2.818552, V=3.082283, m_hat=0.2997657, q_hat=0.2068156, V_hat=0.2244349)
    for k, x in ref.items():
        assert rel(getattr(sol.value, k), x) < 1e-5, (k, getattr(sol.value, k), x)
    for k, x in dict(test_ce=1.376319, train_loss=0.3228895).items():
        assert rel(sol.stats[k], x) < 1e-5, (k, sol.stats[k], x)
    # kl = test_ce − cond_entropy inherits test_ce's absolute error (~6e-6 with n = 20 in 3-D)
    assert abs(sol.stats["kl"] - 0.5531238) < 2e-5
    # QMC stays the large-C fallback: rank 4 with 24 nodes per dimension would need ~10⁵ nodes
    big = R.ReplicaSetting(np.eye(4) + 0.1 * np.ones((4, 4)), cubature_order=24)
    assert big.rules()[0].kind == "sobol" and big.rules()[0].size == big.max_nodes


# ------------------------------------------------------------------------------------------------
# bad input and honest failure


@pytest.mark.parametrize("kwargs, param", [
    (dict(colour_covariance=np.array([[1.0, 2.0], [2.0, 1.0]])), "colour_covariance"),  # not PSD
    (dict(colour_covariance=np.array([[1.0, 0.5], [0.0, 1.0]])), "colour_covariance"),  # not symmetric
    (dict(colour_covariance=np.array([[1.0]])), "colours"),
    (dict(colour_covariance=np.eye(2), ridge=-0.1), "ridge"),
    (dict(colour_covariance=np.eye(2), teacher_norm=0.0), "teacher_norm"),
])
def test_bad_setting(kwargs, param):
    with pytest.raises(InputError) as e:
        R.ReplicaSetting(**kwargs)
    assert e.value.param == param


def test_bad_alpha(setting3):
    for a in (0.0, -1.0, float("nan")):
        with pytest.raises(InputError):
            R.solve(setting3, a)
    with pytest.raises(InputError):
        R.replica_curve(setting3, [1.0, -2.0])


def test_not_converged_is_reported(setting3):
    sol = R.solve(setting3, 1.0, solver="fixed_point", max_steps=3, throw=False, cubature_check=False)
    assert not sol.converged and sol.result.value == "max_steps" and sol.iterations == 3
    with pytest.raises(SolverError):
        R.solve(setting3, 1.0, solver="fixed_point", max_steps=3, cubature_check=False)


# --- one rule per parameter (issue 17): the config and the Python API say the same thing --------------

@pytest.mark.parametrize("key, bad", [("ridge", 0.0), ("ridge", -0.1), ("teacher_norm", 0.0)])
def test_config_and_api_refuse_alike(key, bad):
    from statmech_attn.potts.spec import PottsSpec

    table = {"colours": 2, "colour_covariance": [[1.0, 0.0], [0.0, 1.0]], key: bad}
    with pytest.raises(InputError) as from_config:
        PottsSpec.from_config({"replica": table})
    with pytest.raises(InputError) as from_api:
        R.ReplicaSetting(np.eye(2), **{key: bad})
    with pytest.raises(InputError) as from_mapping:
        R.ReplicaSetting.from_config(table)
    assert from_config.value.param == from_mapping.value.param == f"replica.{key}"
    assert from_api.value.param == key
    assert str(from_config.value) == str(from_mapping.value) == f"replica.{str(from_api.value)}"


@pytest.mark.parametrize("bad", [[-1.0], [0.5, 0.0], []])
def test_alpha_rule_is_one(bad):
    from statmech_attn.potts.spec import PottsSpec

    table = {"colours": 2, "colour_covariance": [[1.0, 0.0], [0.0, 1.0]], "alphas": bad}
    with pytest.raises(InputError) as from_config:
        PottsSpec.from_config({"replica": table})
    with pytest.raises(InputError) as from_api:
        R.replica_curve(R.ReplicaSetting(np.eye(2)), bad)
    assert from_config.value.param == "replica.alphas" and from_api.value.param == "alpha"
    assert from_config.value.allowed == from_api.value.allowed
    assert str(from_config.value).split(": ", 1)[1] == str(from_api.value).split(": ", 1)[1]


def test_setting_from_config_uses_the_toml_names():
    from statmech_attn.potts.spec import PottsSpec

    table = {"colours": 3, "colour_matrix": U3.tolist(), "teacher_norm": 1.5, "ridge": 0.2, "cubature_order": 12}
    s = R.ReplicaSetting.from_config(table)
    s2 = R.ReplicaSetting.from_config(PottsSpec.from_config({"replica": table}).replica)
    old = R.ReplicaSetting.from_colour_matrix(U3, teacher_norm=1.5, ridge=0.2, cubature_order=12)
    for t in (s, s2):
        np.testing.assert_array_equal(t.colour_covariance, old.colour_covariance)
        assert (t.teacher_norm, t.ridge, t.cubature_order, t.cubature_order_teacher) == (1.5, 0.2, 12, None)


def test_replica_solutions_equal_the_curve_records(setting3):
    """``replica_solutions`` is ``replica_curve`` as list[Solution] (issue 17): the same numbers, field by field."""
    import statmech_attn
    from statmech_attn import potts

    alphas = [2.0, 0.5, 1.0]  # not sorted: both keep the order given
    recs = R.replica_curve(setting3, alphas)
    sols = potts.replica_solutions(setting3, alphas)
    assert len(sols) == len(recs)
    for sol, rec in zip(sols, recs):
        assert isinstance(sol, statmech_attn.Solution) and isinstance(sol.value, R.ReplicaState)
        assert sol.value._asdict() == {k: rec[k] for k in ("m", "q", "V", "m_hat", "q_hat", "V_hat")}
        assert (sol.residual, sol.iterations, sol.converged, sol.action) == \
            (rec["residual"], rec["iterations"], rec["converged"], rec["free_energy"])
        assert sol.stats["alpha"] == rec["alpha"] and sol.stats["cubature_change"] == rec["cubature_change"]
        assert all(sol.stats[k] == rec[k] for k in R.OBSERVABLES)
