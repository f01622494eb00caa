"""Non-negative FISTA: closed form for orthonormal Φ, KKT conditions, scikit-learn agreement."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import sparse_encode
from sklearn.linear_model import Lasso

from statmech_attn import InputError, SolverError
from statmech_attn.factors import sparse_codes

SETTINGS = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2**31 - 1)


def _dictionary(rng, d, k):
    phi = rng.standard_normal((d, k))
    return phi / np.linalg.norm(phi, axis=0)


@SETTINGS
@given(seed=seeds, lam=st.floats(0.0, 1.5), k=st.sampled_from([3, 6]))
def test_orthonormal_dictionary_closed_form(seed, lam, k):
    """Φᵀ Φ = I ⇒ α = max(Φᵀx − λ, 0) exactly."""
    rng = np.random.default_rng(seed)
    phi, _ = np.linalg.qr(rng.standard_normal((8, k)))
    x = rng.standard_normal((20, 8))
    sol = sparse_codes(x, phi, lam, tol=1e-12)
    np.testing.assert_allclose(sol.value, np.maximum(x @ phi - lam, 0.0), atol=1e-12)
    assert sol.iterations <= 2  # step 1/L = 1: the first prox step is exact


@SETTINGS
@given(seed=seeds, lam=st.floats(0.01, 1.0), shape=st.sampled_from([(8, 16), (12, 6)]))
def test_kkt_conditions_on_random_dictionaries(seed, lam, shape):
    rng = np.random.default_rng(seed)
    d, k = shape
    phi = _dictionary(rng, d, k)
    x = rng.standard_normal((30, d))
    a = sparse_codes(x, phi, lam, tol=1e-9, max_steps=20000).value
    g = (a @ phi.T - x) @ phi          # gradient of ½|x − Φα|², numpy
    assert a.min() >= 0
    assert (g + lam).min() >= -1e-8     # stationarity on the inactive set
    active = a > 1e-10
    assert np.all(np.abs((g + lam)[active]) <= 1e-8)


def test_agrees_with_scikit_learn_sparse_encode():
    """sparse_encode(alpha=λ, positive=True) solves ½|x − Φα|² + λ|α|₁: scikit-learn divides λ by
    n_features internally to undo Lasso's 1/(2 n_samples) scaling (checked against Lasso directly)."""
    rng = np.random.default_rng(0)
    d, k, lam = 16, 32, 0.3
    phi = _dictionary(rng, d, k)
    x = rng.standard_normal((100, d))
    ours = sparse_codes(x, phi, lam, tol=1e-10, max_steps=20000)
    sk = sparse_encode(x, phi.T, algorithm="lasso_cd", alpha=lam, positive=True, max_iter=100000)
    lasso = Lasso(alpha=lam / d, positive=True, fit_intercept=False, tol=1e-12, max_iter=100000).fit(phi, x[0])
    np.testing.assert_allclose(sk[0], lasso.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.value, sk, atol=1e-5)
    obj = lambda a: 0.5 * np.sum((x - a @ phi.T) ** 2) + lam * np.sum(a)
    assert ours.action == pytest.approx(obj(sk), rel=1e-8)
    assert ours.action <= obj(sk) + 1e-9
    lars = sparse_encode(x, phi.T, algorithm="lasso_lars", alpha=lam, positive=True)
    assert ours.action == pytest.approx(obj(lars), rel=1e-7)


def test_solution_contract_and_bad_input():
    rng = np.random.default_rng(1)
    phi = _dictionary(rng, 8, 16)
    x = rng.standard_normal((5, 8))
    with pytest.raises(SolverError) as e:
        sparse_codes(x, phi, 0.1, max_steps=1, tol=1e-12)
    assert e.value.solution.result.value == "max_steps"
    sol = sparse_codes(x, phi, 0.1, max_steps=1, tol=1e-12, throw=False)
    assert not sol.converged and sol.residual > 1e-12
    for bad, param in [((x, phi, -0.1), "sparsity"), ((x[:, :5], phi, 0.1), "dictionary"),
                       ((np.full((2, 8), np.nan), phi, 0.1), "states"), ((x, phi * np.nan, 0.1), "dictionary")]:
        with pytest.raises(InputError) as e:
            sparse_codes(*bad)
        assert e.value.param == param
