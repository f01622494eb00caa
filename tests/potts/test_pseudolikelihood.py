"""MLM ≡ pseudo-likelihood (check 3), the (A, V) gauge (check 4), and the classical PL estimator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn.potts import (
    enumerate_exact,
    factored_couplings,
    fit_pseudolikelihood,
    neg_pseudo_loglik,
    potts_model,
    recovery_metrics,
    sample_exact,
)
from statmech_attn.potts.spec import TrainConfig
from statmech_attn.validation.potts.layers import FactoredParams, factored_logits, init_factored, masked_cross_entropy
from statmech_attn.validation.potts.train import mlm_objective

from . import _problems as P


def _numpy_attention(W: np.ndarray, kind: str) -> np.ndarray:
    """(3a)/(3b) written independently with explicit loops over rows."""
    H, L, _ = W.shape
    A = np.zeros_like(W)
    for h in range(H):
        for i in range(L):
            keys = [j for j in range(L) if j != i]
            if kind == "linear":
                A[h, i, keys] = W[h, i, keys]
            else:
                w = np.exp(W[h, i, keys] - W[h, i, keys].max())
                A[h, i, keys] = w / w.sum()
    return A


def _numpy_neg_pll(W, V, b, kind, seqs) -> float:
    """−(ML)⁻¹ ln PL(𝒥^θ) from (2) and (7), by loops over samples and sites (independent of the code)."""
    A = _numpy_attention(W, kind)
    M, L = seqs.shape
    total = 0.0
    for s in seqs:
        for i in range(L):
            z = b[i].copy()
            for j in range(L):
                if j != i:
                    z += np.einsum("h,ha->a", A[:, i, j], V[:, :, s[j]])  # 𝒥_ij(a, s_j) = Σ_h A_ij V_{a s_j}
            z = z - z.max()
            total -= z[s[i]] - np.log(np.exp(z).sum())
    return total / (M * L)


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("attention", ["softmax", "linear"])
def test_check3_mlm_equals_neg_pseudo_loglik(heads, attention):
    L, C, M = 6, 4, 25
    key = jax.random.PRNGKey(heads + 10 * (attention == "linear"))
    kW, kV, kb, ks = jax.random.split(key, 4)
    W = jax.random.normal(kW, (heads, L, L))
    V = jax.random.normal(kV, (heads, C, C))
    b = 0.5 * jax.random.normal(kb, (L, C))
    seqs = jax.random.randint(ks, (M, L), 0, C)
    cfg = TrainConfig(layer="factored", attention=attention, heads=heads, fields=True, mask="all")
    mlm = float(mlm_objective(cfg, FactoredParams(W, V, b), seqs, jax.random.PRNGKey(0)))
    ref = _numpy_neg_pll(np.asarray(W), np.asarray(V), np.asarray(b), attention, np.asarray(seqs))
    assert abs(mlm - ref) < 1e-12
    # the same through the package's map (7) and PL (8)
    assert abs(float(neg_pseudo_loglik(*factored_couplings(W, V, b, attention), seqs)) - ref) < 1e-12
    # term by term: the layer with site i masked alone (mask "all" done one site at a time)
    per_site = []
    for i in range(L):
        mask = jnp.zeros((M, L), dtype=bool).at[:, i].set(True)
        per_site.append(masked_cross_entropy(factored_logits(FactoredParams(W, V, b), seqs, mask, attention), seqs, mask))
    assert abs(float(jnp.mean(jnp.array(per_site))) - ref) < 1e-12


@pytest.mark.parametrize("attention", ["softmax", "linear"])
def test_check3_gradients_match_through_the_map(attention):
    L, C, M = 5, 3, 30
    params = init_factored(jax.random.PRNGKey(4), L, C, heads=2, fields=True)
    params = FactoredParams(params.W * 50, params.V, 0.3 * jnp.ones((L, C)))
    seqs = jax.random.randint(jax.random.PRNGKey(5), (M, L), 0, C)
    cfg = TrainConfig(layer="factored", attention=attention, heads=2, fields=True, mask="all")
    g_mlm = jax.grad(lambda p: mlm_objective(cfg, p, seqs, jax.random.PRNGKey(0)))(params)
    couplings, f = factored_couplings(params.W, params.V, params.b, attention)
    gJ, gf = jax.grad(neg_pseudo_loglik, argnums=(0, 1))(couplings, f, seqs)
    _, vjp = jax.vjp(lambda W, V, b: factored_couplings(W, V, b, attention), params.W, params.V, params.b)
    gW, gV, gb = vjp((gJ, gf))
    for a, b_ in ((g_mlm.W, gW), (g_mlm.V, gV), (g_mlm.b, gb)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b_), rtol=1e-10, atol=1e-13)
    # and against central finite differences of the independent NumPy objective
    eps = 1e-6
    for idx in ((0, 1, 3), (1, 4, 0)):
        Wp = np.asarray(params.W).copy()
        Wm = Wp.copy()
        Wp[idx] += eps
        Wm[idx] -= eps
        fd = (_numpy_neg_pll(Wp, np.asarray(params.V), np.asarray(params.b), attention, np.asarray(seqs))
              - _numpy_neg_pll(Wm, np.asarray(params.V), np.asarray(params.b), attention, np.asarray(seqs))) / (2 * eps)
        assert abs(fd - float(g_mlm.W[idx])) < 1e-7


def test_check3_linear_layer_reproduces_the_check1_conditional():
    J, U, h, beta = P.check1_arrays()
    params = FactoredParams(jnp.asarray(beta * J)[None], jnp.asarray(U)[None], jnp.asarray(beta * h))
    s = jnp.array([[0, 0, 2, 0]])
    mask = jnp.array([[False, True, False, False]])
    p = jax.nn.softmax(factored_logits(params, s, mask, "linear"), axis=-1)[0, 1]
    np.testing.assert_allclose(np.asarray(p), P.CHECK1_CONDITIONAL, rtol=0, atol=1e-9)


def test_check4_attention_value_rescaling_and_gauge_invariance():
    """(A, V) -> (2A, V/2) (linear) changes nothing; a colour gauge shift leaves coupling_error unchanged."""
    L, C = 5, 3
    params = init_factored(jax.random.PRNGKey(1), L, C, heads=1, fields=True)
    W = 3 * jax.random.normal(jax.random.PRNGKey(2), (1, L, L))
    seqs = jax.random.randint(jax.random.PRNGKey(3), (40, L), 0, C)
    none = jnp.zeros((40, L), dtype=bool)
    z1 = factored_logits(FactoredParams(W, params.V, params.b), seqs, none, "linear")
    z2 = factored_logits(FactoredParams(2 * W, params.V / 2, params.b), seqs, none, "linear")
    assert float(jnp.max(jnp.abs(z1 - z2))) < 1e-13
    J, U = P.planted(L)
    model = potts_model(J, U, None, 0.9)
    learned, _ = factored_couplings(W, params.V, None, "linear")
    u = jnp.array([0.3, -0.7, 1.2])
    shifted = learned + (u[:, None] + u[None, :])[None, None] * jnp.ones((L, L, 1, 1))
    e1 = recovery_metrics(model, learned)["coupling_error"]
    e2 = recovery_metrics(model, shifted)["coupling_error"]
    assert abs(e1 - e2) < 1e-13 * max(1.0, e1)


def test_classical_pl_estimator_recovers_a_planted_model():
    """L2-regularised PL on exact samples: graph recovered and the coupling error shrinks with M."""
    J, U = P.planted(6)
    model = potts_model(J, U, None, 0.8)
    enum = enumerate_exact(model)
    errors, kls = [], []
    for M in (300, 3000):
        seqs = sample_exact(enum, M, seed=M)
        sol = fit_pseudolikelihood(seqs, 3, l2_couplings=1e-5, l2_fields=1e-5, tol=1e-7)
        assert sol.converged and sol.residual <= 1e-7
        rec = recovery_metrics(model, sol.value.couplings)
        errors.append(rec["coupling_error"])
        assert rec["top_pair_precision"] >= 0.9
        # held-out KL to the true conditionals: asymptotically k/(2M) per site, k = (L−1)C² + C parameters
        from statmech_attn.potts import conditional_metrics, tensor_conditional_logits

        test = jnp.asarray(sample_exact(enum, 2000, seed=7))
        logq = jax.nn.log_softmax(tensor_conditional_logits(jnp.asarray(sol.value.couplings),
                                                            jnp.asarray(sol.value.field_logits), test), -1)
        kls.append(conditional_metrics(model, logq, test)["test_kl"])
        assert kls[-1] < 4 * ((6 - 1) * 9 + 3) / (2 * M)
    assert errors[1] < errors[0] / 3 and kls[1] < kls[0] / 3


def test_pl_estimator_reports_non_convergence_honestly():
    from statmech_attn import SolverError

    seqs = np.random.default_rng(0).integers(0, 3, size=(50, 4))
    sol = fit_pseudolikelihood(seqs, 3, max_steps=1, throw=False)
    assert not sol.converged and sol.result.value == "max_steps" and sol.iterations <= 1 and sol.residual > 1e-8
    with pytest.raises(SolverError):
        fit_pseudolikelihood(seqs, 3, max_steps=1)
