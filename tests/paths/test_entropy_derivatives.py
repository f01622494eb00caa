"""The entropy's closed-form value, gradient and Hessian (:mod:`statmech_attn.paths._entropy`) against
autodiff of the entropy as :func:`statmech_attn.paths._action.entropy` writes it (a second method)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import statmech_attn.paths as sp
from statmech_attn.paths import action
from statmech_attn.paths._entropy import entropy_value_gradient_hessian_x, entropy_value_gradient_x
from statmech_attn.paths._hessian import value_and_gradient_x, value_gradient_hessian_x
from statmech_attn.paths._param import U_to_x, _entropy_x, layout_of, x_to_U
from statmech_attn.paths.spec import PathsSpec
from statmech_attn.paths.verbs import load_problem

ROOT = Path(__file__).resolve().parents[2]

# (architecture, sign of β = σ_a² (H_L N_L / N_a − 1) in readout_order_parameter)
CASES = {
    "example (2,2)": (dict(heads=(2, 2)), 1),
    "example (2,2), N_a > H_L N_L": (dict(heads=(2, 2), width_readout=500.0), -1),
    "(2,2), β = 0": (dict(heads=(2, 2), width_readout=200.0), 0),
    "one layer (3,)": (dict(heads=(3,), widths=(40.0,), sigma2_layers=(0.6,), sigma2_readout=1.7, width_readout=70.0), 1),
    "one layer (3,), β < 0": (dict(heads=(3,), widths=(40.0,), sigma2_layers=(0.6,), width_readout=300.0), -1),
    "three layers": (dict(heads=(2, 1, 2), widths=(50.0, 80.0, 120.0), sigma2_layers=(0.7, 1.3, 2.0),
                          sigma2_readout=0.8, width_readout=90.0), 1),
    "three layers, β < 0": (dict(heads=(2, 3, 1), widths=(30.0, 60.0, 45.0), sigma2_layers=(1.5, 0.4, 0.9),
                                 width_readout=400.0), -1),
}


def _random_pd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.3 * np.eye(d) + 0.5 * rng.random() * np.ones((d, d)) / d


def _rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("name", list(CASES))
def test_closed_form_matches_autodiff(name):
    kwargs, beta_sign = CASES[name]
    model = sp.PathsModel(**kwargs)
    hyper, layout = model.hyper(), layout_of(model.heads)
    beta = model.sigma2_readout * (model.heads[-1] * model.widths[-1] / model.width_readout - 1.0)
    assert np.sign(beta) == beta_sign
    auto_vg = jax.jit(jax.value_and_grad(lambda x: _entropy_x(x, hyper, layout)))
    auto_h = jax.jit(jax.hessian(lambda x: _entropy_x(x, hyper, layout)))
    closed = jax.jit(lambda x: entropy_value_gradient_hessian_x(x_to_U(x, layout), layout.heads, hyper))
    closed_vg = jax.jit(lambda x: entropy_value_gradient_x(x_to_U(x, layout), layout.heads, hyper))
    rng = np.random.default_rng(7)
    for _ in range(4):
        U = tuple(jnp.asarray(_random_pd(rng, d)) for d in layout.dims)
        x = U_to_x(U)
        value, grad, hess = closed(x)
        value_a, grad_a = auto_vg(x)
        hess_a = auto_h(x)
        assert _rel(value, value_a) < 1e-10
        assert _rel(grad, grad_a) < 1e-10
        assert _rel(hess, hess_a) < 1e-10
        assert _rel(hess, hess.T) < 1e-14
        value2, grad2 = closed_vg(x)
        assert _rel(value2, value_a) < 1e-10 and _rel(grad2, grad_a) < 1e-10


def test_not_positive_definite_gives_nan():
    model = sp.PathsModel(heads=(2, 2))
    layout = layout_of(model.heads)
    U = (jnp.diag(jnp.asarray([1.0, -0.5, 1.0, 1.0])), jnp.eye(2))
    value, grad, hess = entropy_value_gradient_hessian_x(U, layout.heads, model.hyper())
    assert np.isnan(float(value)) and np.any(np.isnan(np.asarray(grad))) and np.any(np.isnan(np.asarray(hess)))


def test_action_gradient_matches_hessian_route():
    """value_and_gradient_x and value_gradient_hessian_x (both closed form now) agree."""
    from tests.problems import random_problem

    problem, _ = random_problem(heads=(2, 1, 2), p=12, n0=4, width=15.0, width_readout=40.0)
    layout = layout_of(problem.model.heads)
    hyper = problem.model.hyper()
    rng = np.random.default_rng(3)
    x = U_to_x(tuple(jnp.asarray(_random_pd(rng, d)) for d in layout.dims))
    v1, g1 = value_and_gradient_x(x, problem.arrays, hyper, layout)
    v2, g2, _ = value_gradient_hessian_x(x, problem.arrays, hyper, layout)
    assert _rel(v1, v2) < 1e-13 and _rel(g1, g2) < 1e-12


def test_bundled_example_solution_is_the_saddle_point():
    """The Newton solve of examples/paths_hmm.toml (closed-form entropy derivatives) is stationary for
    autodiff of the original action (``_action.entropy``, no closed form), and the fixed-point solver
    (the derived map U = F(U), another algorithm) reaches the same point."""
    with open(ROOT / "examples" / "paths_hmm.toml", "rb") as fh:
        cfg = PathsSpec.from_config(tomllib.load(fh))
    problem, _ = load_problem(cfg)
    sol = sp.solve(problem, tol=cfg.solver.tol, max_steps=cfg.solver.max_steps)
    assert sol.converged
    grads = jax.grad(lambda U: action(U, problem))(tuple(jnp.asarray(u) for u in sol.value.U))
    assert max(float(jnp.max(jnp.abs(0.5 * (g + g.T)))) for g in grads) < 1e-9
    fp = sp.solve(problem, solver="fixed_point", tol=cfg.solver.tol)
    for u_newton, u_fp in zip(sol.value.U, fp.value.U):
        assert _rel(u_fp, u_newton) < 1e-8
    assert float(fp.value.U_a) == pytest.approx(float(sol.value.U_a), rel=1e-8)
