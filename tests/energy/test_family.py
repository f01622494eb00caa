"""Log-sum-exp attention: closed forms vs SymPy vs JAX autodiff, inequalities, layer norm."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from statmech_attn.derivations.energy import log_partition_derivation, two_token_derivation
from statmech_attn import InputError
from statmech_attn import energy as en

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**31 - 1)
betas = st.floats(0.1, 3.0)


def _draw(seed, n=3, d=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(d), rng.standard_normal((n, d))


@SETTINGS
@given(seed=seeds, beta=betas)
def test_sympy_closed_forms_equal_autodiff(seed, beta):
    """SymPy-derived ∇A, ∇²A (lambdified) == jax.grad / jax.hessian of the library's A."""
    der = log_partition_derivation(3, 2)
    assert der.verified
    # the zero test can tell a wrong closed form: component 0 of ∇A is not component 1 of Σ p_j k_j
    assert sp.cancel(sp.together(der.gradient[0] - der.gradient_closed[1])) != 0
    theta, keys = _draw(seed)
    g_ad = jax.grad(en.log_partition)(jnp.asarray(theta), jnp.asarray(keys), beta)
    h_ad = jax.hessian(en.log_partition)(jnp.asarray(theta), jnp.asarray(keys), beta)
    np.testing.assert_allclose(np.asarray(der.gradient_fn(theta, keys, beta), float), g_ad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(der.hessian_fn(theta, keys, beta), float), h_ad, rtol=1e-9, atol=1e-12)
    # and the library's own closed forms agree with autodiff
    np.testing.assert_allclose(en.mean_parameter(theta, keys, beta), g_ad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(en.fisher(theta, keys, beta), h_ad, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(seed=seeds, beta=betas, n=st.sampled_from([2, 5]), d=st.sampled_from([1, 3]))
def test_fisher_is_psd_and_is_beta_times_covariance(seed, beta, n, d):
    theta, keys = _draw(seed, n, d)
    s = beta * keys @ theta
    p = np.exp(s - s.max())
    p /= p.sum()
    cov = np.cov(keys.T, aweights=p, bias=True).reshape(d, d)
    f = np.asarray(en.fisher(theta, keys, beta))
    np.testing.assert_allclose(f, beta * cov, rtol=1e-9, atol=1e-12)
    assert np.linalg.eigvalsh(f).min() >= -1e-12


@SETTINGS
@given(seed=seeds, beta=betas, eta=st.floats(0.0, 3.0))
def test_ascent_inequality(seed, beta, eta):
    """A(θ + η∇A) >= A(θ) + η|∇A|² (convexity); θ' computed by hand."""
    theta, keys = _draw(seed, 4, 3)
    s = beta * keys @ theta
    p = np.exp(s - s.max())
    p /= p.sum()
    g = p @ keys
    lse = lambda t: np.log(np.sum(np.exp(beta * keys @ t))) / beta
    np.testing.assert_allclose(en.ascent_step(theta, keys, beta, eta), theta + eta * g, rtol=1e-12)
    assert lse(theta + eta * g) >= lse(theta) + eta * g @ g - 1e-12
    assert float(en.ascent_gain(theta, keys, beta, eta)) == pytest.approx(lse(theta + eta * g) - lse(theta) - eta * g @ g,
                                                                        abs=1e-10)


@SETTINGS
@given(seed=seeds, beta=betas, pos=st.integers(0, 4))
def test_infonce_is_exponential_family_nll(seed, beta, pos):
    theta, cands = _draw(seed, 5, 3)
    s = beta * cands @ theta
    ce = -(s[pos] - np.log(np.sum(np.exp(s))))  # cross-entropy by hand
    assert float(en.infonce(theta, cands, pos, beta)) == pytest.approx(ce, rel=1e-10)
    assert float(en.exponential_family_nll(theta, cands, pos, beta)) == pytest.approx(ce, rel=1e-10)
    p = np.exp(s - s.max())
    p /= p.sum()
    grad = jax.grad(en.exponential_family_nll)(jnp.asarray(theta), jnp.asarray(cands), pos, beta)
    np.testing.assert_allclose(grad, beta * (p @ cands - cands[pos]), rtol=1e-9, atol=1e-12)


def test_two_tokens_closed_form_update():
    """x_{1,2} = ±e_1, η = β = 1: x_1' = (1 + tanh 1) e_1 (hand-derived) and the SymPy form."""
    t = two_token_derivation()
    assert t.verified
    x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    eye = np.eye(2)
    new = np.asarray(en.attention_update(x, 1.0, 1.0, eye, eye, eye))
    np.testing.assert_allclose(new, [[1 + np.tanh(1.0), 0.0], [-(1 + np.tanh(1.0)), 0.0]], rtol=1e-14)
    for r, beta, eta in [(1.0, 1.0, 1.0), (0.5, 2.0, 0.3), (2.0, 0.1, 1.5)]:
        xr = np.array([[r, 0.0], [-r, 0.0]])
        got = np.asarray(en.attention_update(xr, beta, eta, eye, eye, eye))[0, 0]
        assert got == pytest.approx(float(t.update_fn(r, beta, eta)), rel=1e-13)
        assert got == pytest.approx(r * (1 + eta * np.tanh(beta * r * r)), rel=1e-13)
    ln = np.asarray(en.layer_norm(new))
    np.testing.assert_allclose(ln, [[1.0, -1.0], [-1.0, 1.0]], atol=1e-14)
    np.testing.assert_allclose(np.asarray(t.after_layer_norm, float).ravel(), [1.0, -1.0])


@SETTINGS
@given(seed=seeds, n=st.sampled_from([1, 4]), d=st.sampled_from([2, 7]), scale=st.floats(0.01, 100.0))
def test_layer_norm_rows_have_norm_sqrt_d(seed, n, d, scale):
    x = scale * np.random.default_rng(seed).standard_normal((n, d))
    y = np.asarray(en.layer_norm(x))
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.sqrt(d), rtol=1e-12)
    np.testing.assert_allclose(y.sum(axis=1), 0.0, atol=1e-10)


@SETTINGS
@given(seed=seeds, beta=betas, eta=st.floats(0.01, 2.0), n=st.sampled_from([2, 6]), d=st.sampled_from([1, 3]))
def test_centred_cloud_never_shrinks(seed, beta, eta, n, d):
    """Chebyshev: Σ_j x_j = 0 ⇒ x_i·Σ_j P_ij x_j >= 0, so |x_i'| >= |x_i|."""
    x = np.random.default_rng(seed).standard_normal((n, d))
    x -= x.mean(axis=0)
    diag = en.stack_diagnostic(x, en.identity_weights(1, d), beta=beta, eta=eta)
    assert diag.centred[0]
    s = beta * x @ x.T
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    cheb = np.sum(x * (p @ x), axis=1)
    np.testing.assert_allclose(diag.chebyshev[0], cheb, rtol=1e-9, atol=1e-13)
    assert cheb.min() >= -1e-13
    assert np.all(diag.norms_attention[0] >= diag.norms_in[0] * (1 - 1e-13))


def test_uncentred_cloud_can_shrink():
    x = np.array([[0.1, 0.0], [-5.0, 0.0]])  # x_1·(Px)_1 = 0.01 p_11 − 0.5 p_12 < 0
    diag = en.stack_diagnostic(x, en.identity_weights(1, 2), beta=1.0, eta=0.1)
    assert diag.norms_attention[0, 0] < diag.norms_in[0, 0]


def test_gradient_field_check():
    rng = np.random.default_rng(0)
    d, dk = 5, 3
    wq, wk = rng.standard_normal((d, dk)), rng.standard_normal((d, dk))
    m = rng.standard_normal((dk, d))
    ok = en.gradient_field_check(wq, wk, wk @ m)
    assert ok.is_gradient_field and ok.residual < 1e-12
    # the attention output then equals ∇_θ A(θ) M with θ = x W_Q (autodiff)
    x = rng.standard_normal((4, d))
    p = jax.nn.softmax((x @ wq) @ (x @ wk).T, axis=-1)
    out = p @ (x @ wk @ m)
    grads = jax.vmap(jax.grad(en.log_partition), in_axes=(0, None))(jnp.asarray(x @ wq), jnp.asarray(x @ wk))
    np.testing.assert_allclose(out, grads @ m, rtol=1e-10, atol=1e-12)
    # a generic W_V is outside the column span of W_K (rank test, numpy)
    wv = rng.standard_normal((d, d))
    assert np.linalg.matrix_rank(np.hstack([wk, wv])) > np.linalg.matrix_rank(wk)
    bad = en.gradient_field_check(wq, wk, wv)
    assert not bad.is_gradient_field and bad.residual > 0.1


def test_stack_diagnostic_two_token_recursion_over_layers():
    """Without LN the pair ±r e_1 obeys r_{ℓ+1} = r_ℓ (1 + η tanh(β r_ℓ²)) (the derived recursion)."""
    beta, eta, L = 0.7, 0.4, 5
    diag = en.stack_diagnostic(np.array([[0.8, 0.0], [-0.8, 0.0]]), en.identity_weights(L, 2), beta=beta, eta=eta)
    r = [0.8]
    for _ in range(L):
        r.append(r[-1] * (1 + eta * np.tanh(beta * r[-1] ** 2)))
    np.testing.assert_allclose(diag.norms_attention[:, 0], r[1:], rtol=1e-13)
    lp = [np.log(np.exp(beta * ri**2) + np.exp(-beta * ri**2)) / beta for ri in r[:-1]]
    np.testing.assert_allclose(diag.log_partition[:, 0], lp, rtol=1e-12)
    assert np.all(diag.ascent_gain >= -1e-12)


def test_bad_input():
    with pytest.raises(InputError) as e:
        en.stack_diagnostic(np.array([[np.nan, 1.0]]), en.identity_weights(1, 2))
    assert e.value.param == "tokens"
    with pytest.raises(InputError) as e:
        en.stack_diagnostic(np.ones((2, 3)), en.identity_weights(1, 2))
    assert e.value.param == "tokens"
    with pytest.raises(InputError) as e:
        en.Weights(np.ones((1, 2, 2)), np.ones((1, 2, 2)), np.ones((1, 2, 3)))
    assert e.value.param == "w_value"
    with pytest.raises(InputError) as e:
        en.stack_diagnostic(np.ones((2, 2)), en.identity_weights(1, 2), beta=-1.0)
    assert e.value.param == "beta"
