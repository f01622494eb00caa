"""Derived equations against the numeric attention-path module.

- the SymPy-derived gradient (matrix and component form), lambdified to JAX, equals JAX autodiff of
  ``statmech_attn.paths.action`` at random positive-definite U (relative 1e-10), for
  (L, H) ∈ {(1,1), (1,3), (2,2), (3,2)} and problems built with each readout;
- the fixed-point solver's answer is stationary (residual ≤ 1e-9), equals the Newton solver's, and
  for L = H = 1 the root of the scalar equation of theory §11.3 found by brentq;
- it says when it did not converge.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from statmech_attn.derivations.paths import numeric
from statmech_attn import InputError, Result, SolverError
from statmech_attn import paths as P
from statmech_attn.paths._action import action_from
from statmech_attn.paths._fixed_point import solve_fixed_point

CASES = [(1, 1), (1, 3), (2, 2), (3, 2)]  # (L, H)


def _problem(heads, readout, seed=0, n_examples=6, n_tokens=4, n0=3, temperature=0.3):
    """Random tokens and softmax attention, path-augmented with the given readout."""
    rng = np.random.default_rng(seed)
    L = len(heads)
    model = P.PathsModel(heads=heads, readout=readout, sigma2_input=1.1,
                         sigma2_layers=tuple(rng.uniform(0.6, 1.8, L)), sigma2_readout=1.3,
                         widths=tuple(rng.uniform(20.0, 60.0, L)), width_readout=35.0, temperature=temperature)
    x = rng.normal(size=(n_examples, n_tokens, n0))
    attention = []
    for h in heads:
        s = 2.0 * rng.normal(size=(n_examples, h, n_tokens, n_tokens))
        attention.append(np.exp(s) / np.exp(s).sum(-1, keepdims=True))
    y = rng.choice([-1.0, 1.0], n_examples)
    xt = P.path_inputs(x, attention, model)
    return P.make_problem(model, xt, y)


def _random_pd(rng, d):
    a = rng.normal(size=(d, d))
    return jnp.asarray(a @ a.T / d + 0.4 * np.eye(d))


@functools.partial(jax.jit, static_argnames="heads")
def _autodiff_jit(U, arrays, hyper, heads):
    return jax.grad(lambda V: action_from(tuple(0.5 * (v + v.T) for v in V), arrays, heads, hyper))(tuple(U))


def _autodiff_gradient(U, problem):
    """Symmetric-convention gradient of the numeric action: JAX grad of S((U + Uᵀ)/2)."""
    return _autodiff_jit(tuple(U), problem.arrays, problem.model.hyper(), problem.model.heads)


@functools.lru_cache(maxsize=None)
def _derived_jit(heads, form):
    num = numeric(heads, form=form)
    return jax.jit(lambda U, xt, y, hyper: num.gradient(U, xt, y, hyper))


@pytest.mark.parametrize("form", ["matrix", "components"])
@pytest.mark.parametrize("L, H", CASES)
def test_derived_gradient_equals_autodiff(L, H, form):
    heads = (H,) * L
    derived = _derived_jit(heads, form)
    rng = np.random.default_rng(10 * L + H)
    for k, readout in enumerate(("mean", "first", "last")):
        problem = _problem(heads, readout, seed=k)
        U = tuple(_random_pd(rng, d) for d in problem.model.path_dims)
        ref = _autodiff_gradient(U, problem)
        got = derived(U, problem.arrays.xt, problem.arrays.y, problem.model.hyper())
        for g, r in zip(got, ref):
            err = float(jnp.max(jnp.abs(g - r)) / jnp.max(jnp.abs(r)))
            assert err < 1e-10, (readout, err)


def test_derived_energy_gradient_and_readout_match_the_numeric_module():
    problem = _problem((2, 2), "last", seed=4)
    num = numeric((2, 2))
    rng = np.random.default_rng(5)
    U = tuple(_random_pd(rng, d) for d in problem.model.path_dims)
    hyper = problem.model.hyper()
    # Ω(U₁) against JAX autodiff of the energy alone
    ref = jax.jit(jax.grad(lambda u, a, t: P.energy(0.5 * (u + u.T), a, t)))(U[0], problem.arrays, hyper.temperature)
    got = jax.jit(num.omega)(U[0], problem.arrays.xt, problem.arrays.y, hyper)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-10, atol=1e-12 * float(jnp.max(jnp.abs(ref))))
    # U_a: derived positive root vs the theory's closed form as coded in the numeric module
    assert float(num.readout(U, hyper)) == pytest.approx(
        float(P.readout_order_parameter(jnp.trace(U[-1]), 2, hyper)), rel=1e-13)


# ------------------------------------------------------------------------------------------
# fixed-point solver


@pytest.fixture(scope="module")
def two_layer():
    problem = _problem((2, 2), "mean", seed=7, n_examples=12, temperature=0.2)
    newton = P.solve(problem, solver="newton", tol=1e-12)
    return problem, newton


def test_fixed_point_is_stationary_and_matches_newton(two_layer):
    problem, newton = two_layer
    sol = solve_fixed_point(problem, tol=1e-11, damping=0.5, anderson=5)
    assert sol.result is Result.converged and sol.residual <= 1e-9
    # the residual is the gradient of the numeric action at the returned U (recomputed here)
    g = _autodiff_gradient(sol.value.U, problem)
    assert max(float(jnp.max(jnp.abs(x))) for x in g) <= 1e-9
    for a, b in zip(sol.value.U, newton.value.U):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-7 * float(jnp.max(jnp.abs(b))))
    assert sol.stats["min_hessian_eigenvalue"] > 0
    assert sol.action == pytest.approx(newton.action, rel=1e-12)


def test_newton_solution_is_a_fixed_point_of_the_derived_map(two_layer):
    problem, newton = two_layer
    num = numeric((2, 2))
    F = num.fixed_point_map(newton.value.U, problem.arrays.xt, problem.arrays.y, problem.model.hyper())
    for f, u in zip(F, newton.value.U):
        np.testing.assert_allclose(np.asarray(f), np.asarray(u), rtol=0, atol=1e-8 * float(jnp.max(jnp.abs(u))))


def test_plain_damped_iteration_reaches_the_same_point(two_layer):
    problem, newton = two_layer
    sol = P.solve(problem, solver="fixed_point", tol=1e-10, damping=0.7, anderson=0, max_steps=20000)
    assert sol.converged and sol.stats["anderson"] == 0
    for a, b in zip(sol.value.U, newton.value.U):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6 * float(jnp.max(jnp.abs(b))))


def test_one_layer_one_head_matches_the_scalar_root():
    # theory §11.3: N₁(1/(U_a(u)σ₁²) − 1/u) + Σ_k λ_k/(uλ_k+T) − Σ_k λ_k (v_kᵀY)²/(uλ_k+T)² = 0
    problem = _problem((1,), "last", seed=3, n_examples=8, temperature=0.1)
    m = problem.model
    xt = np.asarray(problem.arrays.xt)
    y = np.asarray(problem.arrays.y)
    k0 = np.einsum("mi,ni->mn", xt[:, :, 0], xt[:, :, 0])
    lam, v = np.linalg.eigh(k0)
    proj = (v.T @ y) ** 2
    n1, na, s1, sa, T = m.widths[0], m.width_readout, m.sigma2_layers[0], m.sigma2_readout, m.temperature

    def u_a(u):
        beta = sa * (n1 / na - 1.0)
        gamma = u * n1 * sa / (na * s1)
        return (-beta + math.sqrt(beta**2 + 4 * gamma)) / 2

    def eq(u):
        return n1 * (1 / (u_a(u) * s1) - 1 / u) + np.sum(lam / (u * lam + T)) - np.sum(lam * proj / (u * lam + T) ** 2)

    grid = np.geomspace(1e-4, 1e3, 400)
    vals = [eq(u) for u in grid]
    k = next(i for i in range(len(grid) - 1) if vals[i] < 0 < vals[i + 1])
    root = brentq(eq, grid[k], grid[k + 1], xtol=1e-15, rtol=1e-15)
    sol = solve_fixed_point(problem, tol=1e-12)
    assert sol.converged
    assert float(sol.value.U[0][0, 0]) == pytest.approx(root, rel=1e-9)


def test_not_converged_is_reported(two_layer):
    problem, _ = two_layer
    sol = solve_fixed_point(problem, max_steps=2, throw=False)
    assert sol.result is Result.max_steps and not sol.converged and sol.iterations == 2
    assert sol.residual > 1e-9
    with pytest.raises(SolverError) as info:
        solve_fixed_point(problem, max_steps=2)
    assert info.value.solution.result is Result.max_steps


@pytest.mark.parametrize("kw, param", [(dict(damping=0.0), "damping"), (dict(damping=1.5), "damping"),
                                       (dict(anderson=-1), "anderson"), (dict(max_steps=0), "max_steps")])
def test_bad_solver_settings_raise_input_error(two_layer, kw, param):
    problem, _ = two_layer
    with pytest.raises(InputError, match=param):
        solve_fixed_point(problem, **kw)


def test_three_layer_fixed_point_is_stationary():
    # the middle layer uses the general Riccati closed form (A = N₂(I ⊗ U₃⁻¹)/σ₂² not ∝ I)
    problem = _problem((2, 1, 2), "first", seed=9, n_examples=10)
    sol = solve_fixed_point(problem, tol=1e-11)
    assert sol.converged
    g = _autodiff_gradient(sol.value.U, problem)
    assert max(float(jnp.max(jnp.abs(x))) for x in g) <= 1e-9
    F = numeric((2, 1, 2)).fixed_point_map(sol.value, problem)
    for f, u in zip(F, sol.value.U):
        np.testing.assert_allclose(np.asarray(f), np.asarray(u), rtol=0, atol=1e-8 * float(jnp.max(jnp.abs(u))))
