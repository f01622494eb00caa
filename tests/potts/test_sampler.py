"""Gibbs sampler against exact enumeration (check 1) and the Ising transfer matrix (check 2)."""


import numpy as np
import pytest

from statmech_attn import InputError
from statmech_attn.potts import enumerate_exact, generate, integrated_autocorr_time, potts_model

from . import _problems as P

N_SE = 5.0  # every Monte-Carlo comparison: |estimate − exact| < 5 standard errors


def _per_chain(x: np.ndarray, chain_id: np.ndarray) -> np.ndarray:
    """(n, ...) concatenated chain by chain -> (chains, n_per_chain, ...) (equal lengths here)."""
    K = int(chain_id.max()) + 1
    return x.reshape((K, -1) + x.shape[1:])


@pytest.mark.parametrize("scan, precision", [("sequential", "float64"), ("random", "float64"), ("sequential", "float32")])
def test_check1_gibbs_marginals_within_standard_errors(scan, precision):
    J, U, h, beta = P.check1_arrays()
    model = potts_model(J, U, h, beta)
    S = generate(model, 100_000, seed=11, chains=8, burn_in=200, thin=1, scan=scan, precision=precision)
    X = np.eye(3)[S.sequences]  # (n, L, C)
    Xc = _per_chain(X, S.chain_id)
    for i in range(4):
        for a in range(3):
            se = P.mc_standard_error(Xc[:, :, i, a])
            exact = P.CHECK1_P0[i] if a == 0 else (1 - P.CHECK1_P0[i]) / 2
            assert abs(X[:, i, a].mean() - exact) < N_SE * se, (i, a)
    # two-site marginals against exact enumeration as well
    enum = enumerate_exact(model)
    for (i, j) in ((0, 1), (0, 2), (1, 3)):
        for a, b in ((0, 0), (1, 2)):
            y = Xc[:, :, i, a] * Xc[:, :, j, b]
            assert abs(y.mean() - enum.two_site[i, j, a, b]) < N_SE * P.mc_standard_error(y)
    d = S.diagnostics
    assert d["acceptance"] == 1.0 and d["logit_drift"] < (1e-10 if precision == "float64" else 1e-4)
    assert 1.0 <= d["energy_autocorr_sweeps"] < 10.0
    assert S.sequences.dtype == np.int32 and S.sequences.shape == (100_000, 4)


def test_check2_ising_ring_correlations_and_magnetisation():
    L, K = 6, 0.5
    S = generate(potts_model(P.ring(L, K), P.ISING_U), 40_000, seed=3, chains=8, burn_in=100, thin=1)
    sig = _per_chain(1 - 2 * S.sequences.astype(float), S.chain_id)
    for r, ref in zip((1, 2, 3), P.CHECK2_CORR):
        y = np.mean([sig[:, :, i] * sig[:, :, (i + r) % L] for i in range(L)], axis=0)  # translation average
        assert abs(y.mean() - ref) < N_SE * P.mc_standard_error(y), r
    S = generate(potts_model(P.ring(L, K), P.ISING_U, np.tile([0.2, -0.2], (L, 1))), 40_000, seed=4, chains=8,
                 burn_in=100, thin=1, scan="random")
    sig = _per_chain(1 - 2 * S.sequences.astype(float), S.chain_id)
    y = sig.mean(axis=2)
    assert abs(y.mean() - P.CHECK2_MAGNETISATION) < N_SE * P.mc_standard_error(y)


def test_samples_layout_seed_and_thinning():
    model = potts_model(P.ring(5, 0.3), np.eye(3))
    a = generate(model, 101, seed=5, chains=4, burn_in=3, thin=2)
    b = generate(model, 101, seed=5, chains=4, burn_in=3, thin=2)
    c = generate(model, 101, seed=6, chains=4, burn_in=3, thin=2)
    np.testing.assert_array_equal(a.sequences, b.sequences)
    assert not np.array_equal(a.sequences, c.sequences)
    # ⌈101/4⌉ = 26 per chain, chain by chain, truncated to 101
    np.testing.assert_array_equal(a.chain_id, np.repeat(np.arange(4), 26)[:101])
    assert a.energy_trace.shape == (4, 26 * 2)
    assert a.diagnostics["sweeps"] == 3 + 26 * 2
    assert a.sequences.min() >= 0 and a.sequences.max() < 3


def test_energy_trace_matches_energy_of_kept_samples():
    from statmech_attn.potts import energy

    model = potts_model(*P.check1_arrays()[:3], 1.3)
    S = generate(model, 40, seed=1, chains=2, burn_in=5, thin=3)
    seq = _per_chain(S.sequences, S.chain_id)
    e = np.asarray(energy(model, seq))  # (chains, 20)
    np.testing.assert_allclose(S.energy_trace[:, 2::3], e, atol=1e-12)


def test_exact_sampling_matches_enumeration():
    model = potts_model(*P.check1_arrays())
    S = generate(model, 50_000, seed=2, exact=True)
    p = np.eye(3)[S.sequences][:, :, 0].mean(axis=0)
    se = np.sqrt(P.CHECK1_P0 * (1 - P.CHECK1_P0) / 50_000)
    assert np.all(np.abs(p - P.CHECK1_P0) < N_SE * se)


def test_autocorrelation_time_of_ar1():
    """AR(1) x_t = φx_{t−1} + ε has τ = (1 + φ)/(1 − φ)."""
    rng = np.random.default_rng(0)
    phi, K, T = 0.8, 20, 20_000
    eps = rng.normal(size=(K, T))
    x = np.zeros((K, T))
    for t in range(1, T):
        x[:, t] = phi * x[:, t - 1] + eps[:, t]
    tau = integrated_autocorr_time(x)
    assert abs(tau - (1 + phi) / (1 - phi)) < 0.05 * 9
    assert abs(integrated_autocorr_time(rng.normal(size=(10, 5000))) - 1.0) < 0.1
    assert integrated_autocorr_time(np.ones((2, 100))) == 1.0


@pytest.mark.parametrize("kwargs, param", [
    (dict(chains=0), "sampler.chains"), (dict(thin=0), "sampler.thin"), (dict(burn_in=-1), "sampler.burn_in"),
    (dict(scan="zigzag"), "sampler.scan"), (dict(precision="float16"), "sampler.precision"),
])
def test_bad_sampler_settings(kwargs, param):
    with pytest.raises(InputError) as e:
        generate(potts_model(P.ring(3, 1.0), np.eye(2)), 10, **kwargs)
    assert e.value.param == param


@pytest.mark.slow
@pytest.mark.parametrize("scan", ["sequential", "random"])
def test_gibbs_marginals_larger_model_slow(scan):
    """L = 8, C = 3 planted model with fields: one- and two-site marginals, 4·10⁵ samples."""
    J, U = P.planted(8)
    h = np.random.default_rng(1).normal(scale=0.3, size=(8, 3))
    model = potts_model(J, U, h, 0.8)
    enum = enumerate_exact(model)
    S = generate(model, 400_000, seed=21, chains=16, burn_in=500, thin=1, scan=scan)
    X = _per_chain(np.eye(3)[S.sequences], S.chain_id)
    for i in range(8):
        for a in range(3):
            assert abs(X[:, :, i, a].mean() - enum.one_site[i, a]) < N_SE * P.mc_standard_error(X[:, :, i, a])
    for i, j in ((0, 1), (0, 4), (2, 6), (3, 7)):
        y = X[:, :, i, 0] * X[:, :, j, 1]
        assert abs(y.mean() - enum.two_site[i, j, 0, 1]) < N_SE * P.mc_standard_error(y)
