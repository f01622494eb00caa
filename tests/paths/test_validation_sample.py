"""NUTS against posteriors known in closed form (Gaussian), and the estimators' standard errors."""

import math

import numpy as np
import pytest

from statmech_attn.validation.paths import network as net
from statmech_attn.validation.paths import sample as smp

from ._validation_helpers import random_problem, spec

SETTINGS = smp.SamplerSettings(num_chains=4, num_warmup=300, num_samples=500, chain_method="vectorized",
                               sampler="full", block_size=500)


def _features(V0, V1, a_dim, x, att):
    """x⁽¹⁾ ∈ R^{N_a} of a one-layer, one-head network with last-token readout, in NumPy (theory §1)."""
    x, r = np.asarray(x), np.asarray(att[0])[:, 0, -1, :]             # r_s = A_{s,S}
    h0 = np.einsum("psi,ni->psn", x, V0) / math.sqrt(x.shape[-1])       # V₀ x / √N₀
    pooled = np.einsum("ps,psn->pn", r, h0)
    return pooled @ V1[0].T / math.sqrt(V1.shape[-1])                   # (1/√(H N₁)) V₁ Σ_s x_s a_s, H = 1


def _check_gaussian(samples, mean, cov, k=4.5):
    """Sample mean and covariance of (chains, draws, d) samples against the exact ones (MC error via ESS)."""
    flat = samples.reshape(-1, samples.shape[-1])
    est = smp.estimate(samples)
    assert np.all(est.rhat < 1.05)
    assert np.all(np.abs(est.mean - mean) <= k * est.se), (est.mean, mean, est.se)
    emp = np.cov(flat.T)
    ess = float(np.min(est.ess))
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / ess)
    assert np.all(np.abs(emp - cov) <= k * se_cov + 1e-12), (emp, cov)


def test_nuts_readout_posterior_is_the_exact_gaussian():
    """One layer, one head, V₀ and V₁ fixed, readout a sampled: a ~ N(μ, Σ) with
    Σ⁻¹ = I/σ_a² + ΦᵀΦ/(N_a T), μ = Σ Φᵀ y/(√N_a T), Φ the last-layer features."""
    (x, att, y), _ = random_problem(6, 4, 3, (1,), seed=11)
    m = spec((1,), (2,), 3, sa=0.7, T=0.3)
    p = net.init_params(m, 3, seed=12)
    V0, V1 = np.asarray(p.V0), np.asarray(p.V[0])
    Phi = _features(V0, V1, 3, x, att) / math.sqrt(3)
    prec = np.eye(3) / 0.7 + Phi.T @ Phi / 0.3
    cov = np.linalg.inv(prec)
    mean = cov @ Phi.T @ np.asarray(y) / 0.3
    seq = smp.SamplerSettings(num_chains=4, num_warmup=300, num_samples=500, chain_method="sequential",
                              sampler="full", block_size=250)
    res = smp.run_nuts(m, smp.SampleData(x, att, y), seq, seed=0, fixed={"V0": p.V0, "V1": p.V[0]}, keep_sites=True)
    assert res["divergences"] == 0
    _check_gaussian(math.sqrt(0.7) * res["sites"]["a"], mean, cov)


@pytest.mark.slow
def test_nuts_input_projection_posterior_is_the_exact_gaussian():
    """V₁ and a fixed, V₀ sampled: f = G vec(V₀) is linear, so vec(V₀) ~ N(μ, Σ) with
    Σ⁻¹ = I/σ₀² + GᵀG/T, μ = Σ Gᵀ y/T; G from the NumPy forward pass."""
    (x, att, y), _ = random_problem(5, 3, 2, (1,), seed=21)
    m = spec((1,), (2,), 3, s0=1.4, T=0.5)
    p = net.init_params(m, 2, seed=22)
    V1, a = np.asarray(p.V[0]), np.asarray(p.a)
    G = np.stack([_features(E.reshape(2, 2), V1, 3, x, att) @ a / math.sqrt(3) for E in np.eye(4)], axis=1)
    cov = np.linalg.inv(np.eye(4) / 1.4 + G.T @ G / 0.5)
    mean = cov @ G.T @ np.asarray(y) / 0.5
    res = smp.run_nuts(m, smp.SampleData(x, att, y), SETTINGS, seed=1, fixed={"V1": p.V[0], "a": p.a}, keep_sites=True)
    z = res["sites"]["V0"]
    _check_gaussian(math.sqrt(1.4) * z.reshape(*z.shape[:2], 4), mean, cov)


@pytest.mark.slow
def test_collapsed_and_full_sampling_agree_on_the_same_posterior():
    """V₀ integrated out (collapsed) vs sampled (full): the same posterior, so the same overlaps
    and predictor within Monte-Carlo error."""
    (x, att, y), (xs, atts, ys) = random_problem(6, 4, 3, (2, 1), seed=31, P_test=3)
    m = spec((2, 1), (3, 3), 3, T=0.5)
    data = smp.SampleData(x, att, y, xs, atts)
    out = {}
    for sampler in ("collapsed", "full"):
        s = smp.SamplerSettings(num_chains=4, num_warmup=300, num_samples=600, sampler=sampler, block_size=600)
        r = smp.run_nuts(m, data, s, seed=3)
        out[sampler] = {**smp.summarise(r["draws"]), **smp.predictor_estimates(r["draws"], ys)}
    for key in ("U1", "U2", "U_a", "f_mean", "f_var", "test_error"):
        a, b = out["collapsed"][key], out["full"][key]
        assert np.all(np.abs(a.mean - b.mean) <= 4.5 * np.hypot(a.se, b.se)), key


def test_estimate_standard_error_of_iid_draws():
    """For independent draws the ESS is ≈ the number of draws and SE ≈ sd/√n."""
    rng = np.random.default_rng(0)
    e = smp.estimate(rng.normal(2.0, 3.0, size=(4, 1000)))
    assert e.ess == pytest.approx(4000, rel=0.15)
    assert e.se == pytest.approx(3.0 / math.sqrt(4000), rel=0.15)
    assert abs(e.mean - 2.0) < 4 * e.se
    assert e.rhat == pytest.approx(1.0, abs=0.01)
