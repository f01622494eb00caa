"""Gradient descent and Langevin dynamics: stationary points and stationary distributions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import optax
import scipy.optimize
from jax.flatten_util import ravel_pytree

from statmech_attn.validation.paths import network as net
from statmech_attn.validation.paths import train
from statmech_attn.validation.paths.sample import SampleData

from ._validation_helpers import random_problem, spec


def test_langevin_transform_has_the_exact_discrete_ou_stationary_variance():
    """For loss ½ a θ², the update θ ← θ − η a θ + √(2ηT) ξ is an AR(1) process whose stationary
    variance is 2ηT / (1 − (1 − ηa)²) = T / (a (1 − ηa/2))."""
    a = jnp.array([1.0, 4.0])
    eta, T, chains = 0.05, 0.3, 4000
    opt = train.langevin(eta, T, seed=0)

    def run(key):
        st = train.LangevinState(key)

        def step(c, _):
            th, s = c
            u, s = opt.update(a * th, s, th)
            return (optax.apply_updates(th, u), s), None

        return jax.lax.scan(step, (jnp.zeros(2), st), None, length=400)[0][0]

    th = np.asarray(jax.jit(jax.vmap(run))(jax.random.split(jax.random.PRNGKey(1), chains)))
    exact = T / (np.asarray(a) * (1 - eta * np.asarray(a) / 2))
    var = th.var(axis=0)
    assert np.all(np.abs(var - exact) <= 4 * exact * math.sqrt(2 / chains))
    assert np.all(np.abs(th.mean(axis=0)) <= 4 * np.sqrt(exact / chains))


def test_gradient_descent_reaches_the_minimum_that_lbfgs_finds():
    """Full-batch GD on the regularised loss ends at a stationary point whose loss equals the
    minimum found by SciPy's L-BFGS from the same initialisation."""
    (x, att, y), _ = random_problem(4, 3, 2, (1,), seed=41)
    m = spec((1,), (2,), 2, T=1.0)
    data = SampleData(x, att, y)
    res = train.train_gd(m, data, learning_rate=0.5, steps=4000, num_inits=2, seed=5)
    assert np.all(res["grad_norm"] < 1e-7)
    seeds = np.random.default_rng(5).integers(0, 2**31 - 1, size=2)
    p0 = net.init_params(m, 2, int(seeds[0]))
    flat0, unravel = ravel_pytree(p0)
    f = jax.jit(lambda v: net.regularised_loss(unravel(v), x, att, y, m))
    g = jax.jit(jax.grad(lambda v: net.regularised_loss(unravel(v), x, att, y, m)))
    opt = scipy.optimize.minimize(lambda v: float(f(v)), np.asarray(flat0), jac=lambda v: np.asarray(g(v)),
                                  method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10000})
    np.testing.assert_allclose(res["loss"][0], opt.fun, rtol=1e-8)
    assert set(res["draws"]) == {"U1", "U_a"}


@pytest.mark.slow
def test_langevin_on_the_network_samples_the_nuts_posterior():
    """Langevin dynamics at temperature T and NUTS sample the same posterior: the overlaps and the
    predictor agree within the combined Monte-Carlo error (small η: discretisation bias ≪ SE)."""
    from statmech_attn.validation.paths import sample as smp

    (x, att, y), (xs, atts, ys) = random_problem(4, 3, 2, (1,), seed=51, P_test=2)
    m = spec((1,), (2,), 2, T=1.0)
    data = SampleData(x, att, y, xs, atts)
    lg = train.run_langevin(m, data, step_size=0.02, num_steps=40000, burn_in=2000, thin=20, num_chains=4, seed=0)
    nuts = smp.run_nuts(m, data, smp.SamplerSettings(num_chains=4, num_warmup=300, num_samples=1000, sampler="full"), seed=1)
    a = {**smp.summarise(lg["draws"]), **smp.predictor_estimates(lg["draws"], ys)}
    b = {**smp.summarise(nuts["draws"]), **smp.predictor_estimates(nuts["draws"], ys)}
    for key in ("U1", "U_a", "f_mean", "f_var"):
        assert np.all(a[key].ess > 100), key
        assert np.all(np.abs(a[key].mean - b[key].mean) <= 4.5 * np.hypot(a[key].se, b[key].se)), key
