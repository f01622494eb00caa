"""The finite network: two forms of the output, the V₀ marginalisation, overlaps (closed forms)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from statmech_attn.validation.paths import network as net

from ._validation_helpers import random_problem, spec


@pytest.mark.parametrize("heads,readout", [((1,), "last"), ((3,), "mean"), ((2, 3), "first"), ((2, 1, 3), "mean")])
def test_forward_equals_path_form(heads, readout):
    (x, att, _), _ = random_problem(4, 5, 3, heads, seed=1)
    L = len(heads)
    m = spec(heads, tuple(range(3, 3 + L)), 6, readout=readout, s0=2.0)
    p = net.init_params(m, 3, seed=2)
    f_layers = net.forward(p, x, att, readout)
    f_paths = net.forward_paths(p, net.path_inputs(x, att, m), 2.0)
    np.testing.assert_allclose(f_layers, f_paths, rtol=1e-12, atol=1e-12)


def test_path_inputs_match_theory_package():
    """Our path-augmented inputs equal statmech_attn.paths.path_inputs (written independently)."""
    paths = pytest.importorskip("statmech_attn.paths")
    (x, att, _), _ = random_problem(3, 4, 5, (2, 3), seed=3)
    model = paths.PathsModel(heads=(2, 3), readout="mean", sigma2_input=1.7, widths=(4.0, 4.0), width_readout=4.0)
    np.testing.assert_allclose(net.path_inputs(x, att, model), paths.path_inputs(x, att, model), rtol=1e-12, atol=1e-14)


def _input_design(params, x, att, readout):
    """G with f = G vec(V₀) (f is linear in V₀), by autodiff of the layer-by-layer pass."""
    return jax.jacobian(lambda v0: net.forward(params._replace(V0=v0), x, att, readout))(params.V0).reshape(x.shape[0], -1)


def test_marginal_likelihood_and_conditional_predictor_are_exact_gaussian_algebra():
    """V₀ integrated out: y ~ N(0, σ₀² G Gᵀ + T I) (scipy), and the GP conditional on test inputs."""
    (x, att, y), (xs, atts, _) = random_problem(6, 4, 3, (2, 2), seed=4, P_test=3)
    m = spec((2, 2), (3, 4), 5, s0=1.3, T=0.2)
    p = net.init_params(m, 3, seed=5)
    G, Gs = _input_design(p, x, att, m.readout), _input_design(p, xs, atts, m.readout)
    K = 1.3 * G @ G.T
    expected = multivariate_normal(mean=np.zeros(6), cov=K + 0.2 * np.eye(6)).logpdf(np.asarray(y))
    W = net.path_weights(p)
    U1 = W @ W.T / W.shape[1]
    Xt, Xs = net.path_inputs(x, att, m), net.path_inputs(xs, atts, m)
    C = net.path_kernels(Xt)
    assert float(net.marginal_log_likelihood(U1, C, y, 0.2)) == pytest.approx(expected, rel=1e-11)
    Ks, Kss = 1.3 * G @ Gs.T, 1.3 * Gs @ Gs.T
    A = np.linalg.solve(K + 0.2 * np.eye(6), Ks)
    mean, var = net.conditional_predictor(U1, C, net.path_kernels(Xt, Xs), jnp.einsum("pia,pib->abp", Xs, Xs), y, 0.2)
    np.testing.assert_allclose(mean, A.T @ np.asarray(y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, np.diag(Kss) - np.sum(Ks * A, axis=0), rtol=1e-9, atol=1e-12)


def test_prior_overlaps_have_gp_means():
    """Under the prior, E[U_ℓ] = σ_a² σ_L² ⋯ σ_ℓ² I and E[U_a] = σ_a² (closed forms, Monte Carlo)."""
    m = spec((2, 2), (16, 16), 16, sl=(0.5, 2.0), sa=1.5)
    (U1, U2), Ua = jax.vmap(lambda s: net.overlaps(*net.init_params(m, 2, seed=s)[1:]))(jnp.arange(400))
    U1, U2, Ua = np.asarray(U1), np.asarray(U2), np.asarray(Ua)
    for U, expect in ((U1, 1.5 * 2.0 * 0.5 * np.eye(4)), (U2, 1.5 * 2.0 * np.eye(2))):
        se = U.std(axis=0, ddof=1) / np.sqrt(len(U))
        assert np.all(np.abs(U.mean(axis=0) - expect) <= 4.5 * se + 1e-12)
    assert abs(Ua.mean() - 1.5) <= 4.5 * Ua.std(ddof=1) / np.sqrt(len(Ua))


def test_non_integer_width_is_an_input_error():
    from statmech_attn.errors import InputError

    with pytest.raises(InputError, match="model.widths"):
        net.network_widths(spec((1,), (3.5,), 4))


# --- the network is built from the theory's objects (issue 17): the old, separately written path
# kernels kept here as the reference, equal to 1e-12 on random problems ------------------------------

def _reference_path_inputs(x, attention, model):
    """The network's former own copy of the path form (readout, path attention, X̃), verbatim maths."""
    last = attention[-1]
    v = {"last": last[:, :, -1, :], "first": last[:, :, 0, :], "mean": jnp.mean(last, axis=2)}[model.readout]
    for att in reversed(attention[:-1]):
        v = jnp.einsum("phts,pdt->phds", att, v)
        v = v.reshape(v.shape[0], -1, v.shape[-1])
    scale = np.sqrt(float(model.sigma2_input) / (x.shape[-1] * v.shape[1]))
    return scale * jnp.einsum("psi,pks->pik", x, v)


@pytest.mark.parametrize("heads,readout", [((1,), "last"), ((3,), "mean"), ((2, 3), "first"), ((2, 1, 3), "mean")])
def test_network_uses_the_theory_path_kernels(heads, readout):
    (x, att, y), (xs, atts, _) = random_problem(7, 5, 4, heads, seed=11, P_test=3)
    m = spec(heads, (5,) * len(heads), 6, readout=readout, s0=1.7, T=0.3)
    ref, ref_s = _reference_path_inputs(x, att, m), _reference_path_inputs(xs, atts, m)
    Xt, Xs = net.path_inputs(x, att, m), net.path_inputs(xs, atts, m)
    np.testing.assert_allclose(Xt, ref, rtol=1e-12, atol=1e-12)
    C_ref = jnp.einsum("pia,qib->abpq", ref, ref)
    np.testing.assert_allclose(net.path_kernels(Xt), C_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.path_kernels(Xt, Xs), jnp.einsum("pia,qib->abpq", ref, ref_s), rtol=1e-12, atol=1e-12)
    # the collapsed likelihood with the shared K + T·I factorisation equals the plain Cholesky form
    p = net.init_params(m, 4, seed=3)
    W = net.path_weights(p)
    U1 = W @ W.T / W.shape[1]
    K = jnp.einsum("ab,abpq->pq", U1, C_ref) + 0.3 * jnp.eye(7)
    Lc = np.linalg.cholesky(np.asarray(K))
    z = np.linalg.solve(Lc, np.asarray(y))
    expected = -0.5 * z @ z - np.sum(np.log(np.diag(Lc))) - 3.5 * np.log(2 * np.pi)
    assert float(net.marginal_log_likelihood(U1, net.path_kernels(Xt), y, 0.3)) == pytest.approx(expected, rel=1e-12)


def test_unknown_readout_and_non_pd_kernel_are_clear_errors():
    from statmech_attn.errors import InputError
    from statmech_attn.paths._kernels import cholesky_kt

    (x, att, _), _ = random_problem(3, 4, 2, (2,), seed=0)
    with pytest.raises(InputError, match="model.readout"):
        net.path_attention(att, "middle")
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cholesky_kt(-jnp.eye(3), 0.5)
    np.testing.assert_array_equal(cholesky_kt(jnp.eye(3), 0.5), np.linalg.cholesky(1.5 * np.eye(3)))
