"""The layers of §4: masking rules and the one-pass mask-"all" logits against the definition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn.validation.potts.layers import (
    FactoredParams,
    factored_logits,
    init_factored,
    init_vanilla,
    logits_all,
    logits_all_by_site,
    vanilla_attention,
    vanilla_logits,
)


@pytest.mark.parametrize("residual", [False, True])
def test_vanilla_one_pass_equals_one_pass_per_masked_site(residual):
    p = init_vanilla(jax.random.PRNGKey(0), 7, 4, 8)
    s = jax.random.randint(jax.random.PRNGKey(1), (9, 7), 0, 4)
    fast = logits_all("vanilla", p, s, residual=residual)
    slow = logits_all_by_site("vanilla", p, s, residual=residual)
    assert float(jnp.max(jnp.abs(fast - slow))) < 1e-12


def test_factored_unmasked_pass_equals_one_pass_per_masked_site():
    p = init_factored(jax.random.PRNGKey(2), 6, 3, heads=2, fields=True)
    p = FactoredParams(p.W * 100, p.V, p.b + 0.1)
    s = jax.random.randint(jax.random.PRNGKey(3), (9, 6), 0, 3)
    for att in ("softmax", "linear"):
        d = logits_all("factored", p, s, attention=att) - logits_all_by_site("factored", p, s, attention=att)
        assert float(jnp.max(jnp.abs(d))) < 1e-12


def test_factored_logits_by_hand():
    """(4) for one sequence written out: masked keys contribute zero, A is not renormalised."""
    L, C = 4, 3
    W = jnp.array(np.random.default_rng(0).normal(size=(1, L, L)))
    V = jnp.array(np.random.default_rng(1).normal(size=(1, C, C)))
    s = jnp.array([[2, 0, 1, 1]])
    mask = jnp.array([[False, True, False, True]])
    z = np.asarray(factored_logits(FactoredParams(W, V, None), s, mask, "softmax"))[0]
    Wn, Vn = np.asarray(W[0]), np.asarray(V[0])
    for i in range(L):
        keys = [j for j in range(L) if j != i]
        a = np.exp(Wn[i, keys]) / np.exp(Wn[i, keys]).sum()
        ref = sum(a[n] * Vn[:, int(s[0, j])] for n, j in enumerate(keys) if not bool(mask[0, j]))
        np.testing.assert_allclose(z[i], ref, atol=1e-14)


def test_vanilla_mask_token_and_attention_rows():
    p = init_vanilla(jax.random.PRNGKey(4), 5, 3, 6)
    s = jax.random.randint(jax.random.PRNGKey(5), (3, 5), 0, 3)
    mask = jnp.zeros((3, 5), dtype=bool).at[:, 2].set(True)
    A = vanilla_attention(p, s, mask)
    np.testing.assert_allclose(np.asarray(A.sum(-1)), 1.0, atol=1e-14)
    # the masked site's own colour never enters its logits
    s2 = s.at[:, 2].set((s[:, 2] + 1) % 3)
    np.testing.assert_allclose(np.asarray(vanilla_logits(p, s, mask)), np.asarray(vanilla_logits(p, s2, mask)), atol=1e-14)


def test_single_mask_averages_to_all():
    """E over the L single-site masks of the masked CE equals the mask-"all" loss (§5, last bullet)."""
    from statmech_attn.validation.potts.layers import masked_cross_entropy

    p = init_vanilla(jax.random.PRNGKey(6), 5, 3, 6)
    s = jax.random.randint(jax.random.PRNGKey(7), (11, 5), 0, 3)
    all_ce = masked_cross_entropy(logits_all("vanilla", p, s), s, jnp.ones(s.shape, dtype=bool))
    singles = [masked_cross_entropy(vanilla_logits(p, s, jnp.zeros(s.shape, bool).at[:, i].set(True)), s,
                                    jnp.zeros(s.shape, bool).at[:, i].set(True)) for i in range(5)]
    assert abs(float(jnp.mean(jnp.array(singles))) - float(all_ce)) < 1e-13
