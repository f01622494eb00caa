"""Potts model: exact enumeration (check 1), Ising closed forms (check 2), gauge (check 4), input checks."""

import itertools
import math

import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn import InputError
from statmech_attn.potts import (
    all_states,
    conditionals,
    energy,
    enumerate_exact,
    ising_chain_correlation,
    ising_chain_log_partition,
    ising_couplings,
    ising_ring_correlation,
    ising_ring_log_partition,
    ising_ring_magnetisation,
    potts_model,
    zero_sum_gauge,
)

from . import _problems as P


@pytest.fixture(scope="module")
def check1():
    J, U, h, beta = P.check1_arrays()
    model = potts_model(J, U, h, beta)
    return model, enumerate_exact(model)


def test_check1_partition_function_and_marginals(check1):
    model, enum = check1
    assert abs(enum.log_partition - P.CHECK1_LOG_Z) < 1e-12
    np.testing.assert_allclose(enum.one_site[:, 0], P.CHECK1_P0, rtol=0, atol=1e-9)
    # colours 1 and 2 share the rest equally by symmetry
    np.testing.assert_allclose(enum.one_site[:, 1], (1 - P.CHECK1_P0) / 2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(enum.one_site[:, 2], (1 - P.CHECK1_P0) / 2, rtol=0, atol=1e-9)
    assert abs(enum.two_site[0, 1, 0, 0] - P.CHECK1_P01_00) < 1e-12
    assert abs(enum.two_site[0, 2, 0, 0] - P.CHECK1_P02_00) < 1e-12
    # P_ii = diag P_i, and the two-site marginals sum to the one-site ones
    np.testing.assert_allclose(enum.two_site[2, 2], np.diag(enum.one_site[2]), atol=1e-15)
    np.testing.assert_allclose(enum.two_site[0, 3].sum(axis=1), enum.one_site[0], atol=1e-14)


def test_check1_conditional(check1):
    model, _ = check1
    p = conditionals(model, jnp.array([0, 0, 2, 0]))[1]
    np.testing.assert_allclose(np.asarray(p), P.CHECK1_CONDITIONAL, rtol=0, atol=1e-9)
    # the value at the site itself never enters its own conditional
    for a in range(3):
        np.testing.assert_allclose(conditionals(model, jnp.array([0, a, 2, 0]))[1], p, atol=1e-15)


def test_energy_matches_a_direct_double_loop(check1):
    model, enum = check1
    J, U, h, _ = P.check1_arrays()
    rng = np.random.default_rng(0)
    for s in rng.integers(0, 3, size=(20, 4)):
        direct = -sum(J[i, j] * U[s[i], s[j]] for i in range(4) for j in range(i + 1, 4)) - sum(h[i, s[i]] for i in range(4))
        assert abs(float(energy(model, jnp.asarray(s))) - direct) < 1e-13


def test_states_are_in_itertools_product_order():
    np.testing.assert_array_equal(all_states(3, 3), np.array(list(itertools.product(range(3), repeat=3))))


def test_check2_ising_ring_zero_field():
    model = potts_model(P.ring(6, 0.5), P.ISING_U)
    enum = enumerate_exact(model)
    assert abs(enum.log_partition - P.CHECK2_LOG_Z) < 1e-12
    assert abs(P.CHECK2_LOG_Z - math.log((2 * math.cosh(0.5)) ** 6 + (2 * math.sinh(0.5)) ** 6)) < 1e-12
    sigma = 1 - 2 * enum.states  # colour 0 -> +1
    for r, ref in zip((1, 2, 3), P.CHECK2_CORR):
        assert abs(np.sum(enum.probabilities * sigma[:, 0] * sigma[:, r]) - ref) < 1e-12
        assert abs(ising_ring_correlation(6, 0.5, r) - ref) < 1e-12
    assert abs(ising_ring_log_partition(6, 0.5) - P.CHECK2_LOG_Z) < 1e-12


def test_check2_ising_ring_with_field():
    model = potts_model(P.ring(6, 0.5), P.ISING_U, np.tile([0.2, -0.2], (6, 1)))
    enum = enumerate_exact(model)
    assert abs(enum.log_partition - P.CHECK2_LOG_Z_FIELD) < 1e-12
    sigma = 1 - 2 * enum.states
    np.testing.assert_allclose(enum.probabilities @ sigma, P.CHECK2_MAGNETISATION, atol=1e-12)
    assert abs(ising_ring_log_partition(6, 0.5, 0.2) - P.CHECK2_LOG_Z_FIELD) < 1e-12
    assert abs(ising_ring_magnetisation(6, 0.5, 0.2) - P.CHECK2_MAGNETISATION) < 1e-12
    K, B = ising_couplings(model)
    np.testing.assert_allclose(np.asarray(B), 0.2, atol=1e-15)
    np.testing.assert_allclose(np.asarray(K), 0.5 * P.ring(6, 1.0), atol=1e-15)


def test_ising_open_chain_closed_forms():
    L, K = 5, 0.7
    J = np.zeros((L, L))
    for i in range(L - 1):
        J[i, i + 1] = J[i + 1, i] = K
    enum = enumerate_exact(potts_model(J, P.ISING_U))
    assert abs(enum.log_partition - (math.log(2) + (L - 1) * math.log(2 * math.cosh(K)))) < 1e-12
    assert abs(ising_chain_log_partition(L, K) - enum.log_partition) < 1e-12
    sigma = 1 - 2 * enum.states
    for i, j in ((0, 1), (0, 3), (1, 4)):
        assert abs(np.sum(enum.probabilities * sigma[:, i] * sigma[:, j]) - math.tanh(K) ** (j - i)) < 1e-12
        assert abs(ising_chain_correlation(K, j - i) - math.tanh(K) ** (j - i)) < 1e-15


def test_general_2x2_colour_matrix_maps_to_ising():
    """U = u0 + u1(σa+σb) + u2σaσb: enumerate the Potts model and the Ising model (K, B) independently."""
    rng = np.random.default_rng(3)
    L = 5
    J = rng.normal(size=(L, L))
    J = np.triu(J, 1) + np.triu(J, 1).T
    U = np.array([[0.7, -0.2], [-0.2, 0.3]])
    h = rng.normal(size=(L, 2)) * 0.3
    model = potts_model(J, U, h, 0.8)
    enum = enumerate_exact(model)
    K, B = map(np.asarray, ising_couplings(model))
    sig = 1 - 2 * enum.states
    logw = 0.5 * np.einsum("si,ij,sj->s", sig, K, sig) + sig @ B
    p = np.exp(logw - logw.max())
    np.testing.assert_allclose(enum.probabilities, p / p.sum(), atol=1e-13)


def test_check4_gauge_shift_of_colour_matrix():
    """U -> U + u1ᵀ + 1uᵀ with h_i(a) -> h_i(a) − u_a Σ_j J_ij leaves every conditional unchanged (< 1e-13)."""
    J, U, h, beta = P.check1_arrays()
    u = np.array([0.4, -1.1, 0.25])
    U2 = U + u[:, None] + u[None, :]
    h2 = h - u[None, :] * J.sum(axis=1)[:, None]
    m1, m2 = potts_model(J, U, h, beta), potts_model(J, U2, h2, beta)
    s = jnp.asarray(all_states(4, 3))
    assert float(jnp.max(jnp.abs(conditionals(m1, s) - conditionals(m2, s)))) < 1e-13
    # U -> U + c11ᵀ, h_i -> h_i + c_i 1 and (J, U) -> (cJ, U/c) change nothing either
    m3 = potts_model(2.5 * J, (U + 0.7) / 2.5, h + np.arange(4)[:, None], beta)
    assert float(jnp.max(jnp.abs(conditionals(m1, s) - conditionals(m3, s)))) < 1e-13
    # the project's zero-sum gauge is an equivalent model with PUP and centred fields
    g = zero_sum_gauge(m2)
    assert float(jnp.max(jnp.abs(conditionals(m1, s) - conditionals(g, s)))) < 1e-13
    np.testing.assert_allclose(np.asarray(g.colour_matrix).sum(axis=0), 0, atol=1e-14)
    np.testing.assert_allclose(np.asarray(g.fields).sum(axis=1), 0, atol=1e-14)


@pytest.mark.parametrize("kwargs, param", [
    (dict(interaction=[[0, 1], [2, 0]], colour_matrix=np.eye(2)), "interaction"),
    (dict(interaction=[[1, 1], [1, 0]], colour_matrix=np.eye(2)), "interaction"),
    (dict(interaction=[[0.0]], colour_matrix=np.eye(2)), "interaction"),
    (dict(interaction=[[0, np.nan], [np.nan, 0]], colour_matrix=np.eye(2)), "interaction"),
    (dict(interaction=[[0, 1], [1, 0]], colour_matrix=[[1, 0], [1, 1]]), "colour_matrix"),
    (dict(interaction=[[0, 1], [1, 0]], colour_matrix=np.eye(2), fields=np.zeros((3, 2))), "fields"),
    (dict(interaction=[[0, 1], [1, 0]], colour_matrix=np.eye(2), beta=0.0), "beta"),
])
def test_bad_model_input_names_the_parameter(kwargs, param):
    with pytest.raises(InputError) as e:
        potts_model(**kwargs)
    assert e.value.param == param


def test_enumeration_refuses_large_systems():
    with pytest.raises(InputError) as e:
        enumerate_exact(potts_model(P.ring(12, 1.0), np.eye(4)), max_states=1000)
    assert e.value.param == "potts.max_enumerate"
