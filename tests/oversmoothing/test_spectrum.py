"""Spectral theory of oversmoothing: every number here comes from a closed form or a second method."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statmech_attn import InputError
from statmech_attn import oversmoothing as os_

SETTINGS = settings(max_examples=12, deadline=None)


def _stochastic(rng, n, t=1.0):
    s = rng.standard_normal((n, n)) / t
    a = np.exp(s)
    return a / a.sum(axis=1, keepdims=True)


def _match_multiset(x, y, tol):
    """Greedy matching of two complex multisets; returns the worst distance."""
    y = list(y)
    worst = 0.0
    for v in x:
        k = int(np.argmin([abs(v - w) for w in y]))
        worst = max(worst, abs(v - y.pop(k)))
    return worst


@SETTINGS
@given(n=st.integers(1, 5), d=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_kronecker_spectrum_identity(n, d, seed):
    """eig(I + Hᵀ ⊗ A) (dense, numpy) equals {1 + λ_i(A) λ_j(H)} as a multiset."""
    rng = np.random.default_rng(seed)
    a, h = _stochastic(rng, n), rng.standard_normal((d, d))
    dense = np.linalg.eigvals(np.eye(n * d) + np.kron(h.T, a))
    g = os_.spectrum(a, h).growth.ravel()
    scale = 1 + np.abs(dense).max()
    assert _match_multiset(g, dense, 1e-6) < 1e-6 * scale * 10


@SETTINGS
@given(n=st.sampled_from([2, 5]), d=st.sampled_from([1, 3]), seed=st.integers(0, 2**31 - 1))
def test_one_layer_is_the_kronecker_map(n, d, seed):
    """vec(X_1) = (I + Hᵀ ⊗ A) vec(X_0) (column-major vec) against the simulated X_1."""
    rng = np.random.default_rng(seed)
    a, h, x0 = _stochastic(rng, n), rng.standard_normal((d, d)), rng.standard_normal((n, d)) + 1.0
    x1 = ((np.eye(n * d) + np.kron(h.T, a)) @ x0.ravel(order="F")).reshape((n, d), order="F")
    sim = os_.simulate(os_.StackSpec(a, h, 1), x0)
    expect = np.linalg.norm(x1 - x1.mean(0)) / (np.sqrt(n) * np.linalg.norm(x1.mean(0)))
    assert sim["hfc_lfc_ratio"][1] == pytest.approx(expect, rel=1e-10)
    assert sim["log_norm"][1] == pytest.approx(np.log(np.linalg.norm(x1)), abs=1e-12)


@SETTINGS
@given(a=st.floats(0.05, 1.0), h=st.one_of(st.floats(0.05, 2.0), st.floats(-0.9, -0.05)),
       n=st.sampled_from([2, 6]), d=st.sampled_from([1, 3]), seed=st.integers(0, 1000))
def test_uniform_mixing_ratio_changes_by_closed_form_factor(a, h, n, d, seed):
    """A = (1−a)I + (a/n)11ᵀ, H = hI: HFC/LFC changes by ((1 + (1−a)h)/(1 + h))^L exactly."""
    big_a = (1 - a) * np.eye(n) + a / n * np.ones((n, n))
    depth = 15
    x0 = os_.random_tokens(n, d, seed)
    an = os_.analyse(os_.StackSpec(big_a, h * np.eye(d), depth), x0)
    q = (1 + (1 - a) * h) / (1 + h)
    r0 = np.linalg.norm(x0 - x0.mean(0)) / (np.sqrt(n) * np.linalg.norm(x0.mean(0)))
    expect = r0 * q ** np.arange(depth + 1)
    np.testing.assert_allclose(an.theory, expect, rtol=1e-9)
    # the simulated LFC (the token mean) shrinks by (1 + h)^L: its cancellation error, relative to the
    # ratio, grows like eps times the ratio's growth (1e9 at h = -0.9, L = 15)
    tol = 1e-9 + 1e-14 * expect / r0
    assert np.all(np.abs(an.simulation["hfc_lfc_ratio"] / expect - 1) <= tol)
    s = an.spectrum
    assert s.regime == ("smoothing" if h > 0 else "sharpening")
    assert s.dominant_growth_factor == pytest.approx(max(1 + h, 1 + (1 - a) * h), rel=1e-12)
    if a < 1:  # with a = 1 the other modes have growth exactly 1
        assert s.spectral_gap == pytest.approx(a * abs(h), rel=1e-9)
    assert s.hfc_lfc_rate == pytest.approx(np.log(q), rel=1e-9)


def test_theory_matches_simulation_on_random_stacks():
    rng = np.random.default_rng(3)
    for _ in range(5):
        a, h = _stochastic(rng, 7), rng.standard_normal((5, 5)) / np.sqrt(5)
        an = os_.analyse(os_.StackSpec(a, h, 40), os_.random_tokens(7, 5, 1))
        assert an.max_rel_error < 1e-8


def test_regimes_complex_and_balanced_closed_forms():
    # cyclic shift on 3 tokens: λ(A) = 1, ω, ω̄; H = −I: |1 − ω| = √3 for the conjugate pair
    shift = np.roll(np.eye(3), 1, axis=1)
    s = os_.spectrum(shift, -np.eye(2))
    assert s.regime == "complex"
    assert s.dominant_growth_factor == pytest.approx(np.sqrt(3), rel=1e-12)
    assert s.spectral_gap == 0.0
    # swap on 2 tokens: λ(A) = ±1; H = diag(1, −1): the all-ones and the alternating mode both grow by 2
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    s = os_.spectrum(swap, np.diag([1.0, -1.0]))
    assert s.regime == "balanced" and s.dominant_growth_factor == pytest.approx(2.0)
    assert os_.spectrum(swap, np.eye(2)).regime == "smoothing"
    assert os_.spectrum(swap, -np.eye(2)).regime == "sharpening"


def test_reducible_attention_is_balanced():
    """A = I or two uniform blocks: λ = 1 twice; the extra unit mode is high-frequency and grows
    exactly like the all-ones mode, so HFC/LFC stays constant (checked by simulation)."""
    block = np.kron(np.eye(2), np.full((2, 2), 0.5))
    for a in (np.eye(3), block):
        n = a.shape[0]
        s = os_.spectrum(a, np.diag([0.5, -0.2]))
        assert s.regime == "balanced" and s.smooth_mode.sum() == 1
        r = os_.simulate(os_.StackSpec(a, np.diag([0.5, -0.2]), 60), os_.random_tokens(n, 2, 0))["hfc_lfc_ratio"]
        assert 1e-3 < r[-1] / r[0] < 1e3


def test_sharpening_limit_for_nonsymmetric_attention():
    """Sharpening with 1ᵀu ≠ 0: HFC/LFC saturates at ‖u − ū1‖/(√n|ū|) (u from numpy, not the library)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = _stochastic(rng, 5, 0.5)
        h = -np.diag(rng.uniform(0.2, 0.9, 3))
        s = os_.spectrum(a, h)
        if s.regime != "sharpening":
            continue
        lam, u = np.linalg.eig(a)
        k = int(np.argmax(np.abs(1 + lam * h.min())))
        uk = u[:, k]
        expect = np.linalg.norm(uk - uk.mean()) / (np.sqrt(5) * abs(uk.mean()))
        assert s.hfc_lfc_limit == pytest.approx(expect, rel=1e-8)
        an = os_.analyse(os_.StackSpec(a, h, 400), os_.random_tokens(5, 3, 0))
        assert an.simulation["hfc_lfc_ratio"][-1] == pytest.approx(expect, rel=1e-6)
        return
    pytest.fail("no sharpening stack drawn")


@SETTINGS
@given(n=st.integers(2, 6), d=st.integers(2, 5), seed=st.integers(0, 2**31 - 1), clip=st.booleans())
def test_reparameterisation_forces_regime(n, d, seed, clip):
    rng = np.random.default_rng(seed)
    a = _stochastic(rng, n)
    free, psi = rng.standard_normal((d, d)), rng.uniform(0.3, 1.2, d)
    v = np.asarray(os_.orthogonal_from_free(free))
    np.testing.assert_allclose(v.T @ v, np.eye(d), atol=1e-12)
    h_s = np.asarray(os_.sign_constrained_h(free, psi, "smooth"))
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(h_s)), np.sort(psi**2), rtol=1e-10)
    assert os_.spectrum(a, h_s).regime == "smoothing"
    h_n = np.asarray(os_.sign_constrained_h(free, psi, "sharpen", clip=clip))
    lam = np.linalg.eigvalsh(h_n)
    np.testing.assert_allclose(np.sort(lam), np.sort(-(np.clip(psi**2, 1e-6, 1) if clip else psi**2)), rtol=1e-10)
    if clip:  # spec(H) ⊂ [−1, 0): the all-ones mode has the smallest growth factor
        s = os_.spectrum(a, h_n)
        g = np.abs(s.growth)
        assert g[s.smooth_mode].min() <= g.min() + 1e-12
        assert s.regime != "smoothing"


def test_negative_ln_gain_flips_spectrum_and_swaps_regime():
    rng = np.random.default_rng(1)
    h = rng.standard_normal((4, 4))
    plus = os_.effective_value_projection(h, 1.0)
    minus = os_.effective_value_projection(h, -1.0)
    p = np.eye(4) - 0.25
    np.testing.assert_allclose(plus, p @ h, atol=1e-14)
    np.testing.assert_allclose(minus, -plus, atol=1e-14)
    # A = (1−a)I + (a/n)11ᵀ with a = 1.2 (still non-negative, n = 4): λ(A) = 1, −0.2
    a = -0.2 * np.eye(4) + 0.3 * np.ones((4, 4))
    spec = lambda g: os_.StackSpec(a, 0.5 * np.eye(3), 5, pre_ln="linear", ln_gain=(g,))
    assert os_.spectrum(a, spec(1.0).effective_h()).regime == "smoothing"
    assert os_.spectrum(a, spec(-1.0).effective_h()).regime == "sharpening"


def test_metrics_against_direct_formulas():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3))
    hf = x - x.mean(0)
    assert float(os_.dirichlet_energy(x)) == pytest.approx(np.sum(hf**2), rel=1e-12)
    a = _stochastic(rng, 6)
    brute = 0.5 * sum(a[i, j] * np.sum((x[i] - x[j]) ** 2) for i in range(6) for j in range(6))
    assert float(os_.dirichlet_energy(x, a)) == pytest.approx(brute, rel=1e-12)
    assert float(os_.effective_rank(np.eye(5))) == pytest.approx(5.0, rel=1e-12)
    assert float(os_.effective_rank(np.outer(rng.standard_normal(4), rng.standard_normal(3)))) == pytest.approx(1.0, abs=1e-6)
    same = np.tile(rng.standard_normal((1, 3)), (4, 1))
    assert float(os_.mean_pairwise_cosine(same)) == pytest.approx(1.0)
    assert float(os_.hfc_lfc_ratio(same)) == pytest.approx(0.0, abs=1e-12)
    cos = [x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j]) for i in range(6) for j in range(6) if i != j]
    assert float(os_.mean_pairwise_cosine(x)) == pytest.approx(np.mean(cos), rel=1e-12)


@pytest.mark.parametrize("a, param", [
    (np.array([[0.5, 0.6], [0.5, 0.5]]), "attention"),
    (np.array([[1.5, -0.5], [0.5, 0.5]]), "attention"),
    (np.array([[np.nan, 0.5], [0.5, 0.5]]), "attention"),
    (np.ones((2, 3)) / 3, "attention"),
])
def test_bad_attention_is_input_error(a, param):
    with pytest.raises(InputError) as e:
        os_.spectrum(a, np.eye(2))
    assert e.value.param == param


def test_bad_value_projection_and_tokens():
    with pytest.raises(InputError) as e:
        os_.spectrum(np.eye(2), np.ones((2, 3)))
    assert e.value.param == "value_projection"
    with pytest.raises(InputError) as e:
        os_.simulate(os_.StackSpec(np.eye(2), np.eye(3), 2), np.ones((2, 2)))
    assert e.value.param == "tokens"
