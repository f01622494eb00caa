"""Recovery metrics of §6 against scikit-learn and hand-computed values."""

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.metrics import roc_auc_score

from statmech_attn.potts import (
    colour_cosine,
    conditional_logits,
    conditional_metrics,
    coupling_tensor,
    potts_model,
    recovery_metrics,
    roc_auc,
    sample_exact,
    enumerate_exact,
    top_pair_precision,
)

from . import _problems as P


def test_auc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    L = 9
    S = rng.integers(0, 4, size=(L, L)).astype(float)  # many ties
    S = S + S.T
    E = rng.random((L, L)) < 0.3
    E = np.triu(E, 1)
    E = E | E.T
    iu = np.triu_indices(L, 1)
    assert abs(roc_auc(S, E) - roc_auc_score(E[iu], S[iu])) < 1e-15


def test_top_pair_precision_by_hand():
    L = 4
    E = np.zeros((L, L), dtype=bool)
    E[0, 1] = E[1, 0] = E[2, 3] = E[3, 2] = True
    F = np.zeros((L, L))
    F[0, 1] = F[1, 0] = 5.0  # edge, rank 1
    F[0, 2] = F[2, 0] = 4.0  # non-edge, rank 2
    F[2, 3] = F[3, 2] = 3.0  # edge, rank 3
    assert top_pair_precision(F, E) == 0.5
    F[2, 3] = F[3, 2] = 4.5
    assert top_pair_precision(F, E) == 1.0


def test_true_couplings_have_zero_error_and_perfect_ranking():
    J, U = P.planted(7)
    model = potts_model(J, U + 0.4, None, 0.6)  # U + c11ᵀ: the gauge does not matter
    rec = recovery_metrics(model, coupling_tensor(model), value=np.asarray(U)[None])
    assert rec["coupling_error"] < 1e-28
    assert rec["top_pair_precision"] == 1.0 and rec["auc"] == 1.0
    assert abs(rec["colour_cosine"] - 1.0) < 1e-14
    # a transposed (asymmetric-pseudo-likelihood-like) tensor symmetrises to the same thing
    T = coupling_tensor(model)
    asym = T.at[0, 1].multiply(1.5).at[1, 0].multiply(0.5)
    assert recovery_metrics(model, asym)["coupling_error"] < 1e-28


def test_colour_cosine_invariances():
    U = np.array([[2.0, -1.0, 0.3], [-1.0, 1.0, 0.2], [0.3, 0.2, 0.5]])
    P_ = np.eye(3) - 1 / 3
    assert abs(colour_cosine(3.0 * U + 1.0, U) - 1.0) < 1e-14
    assert abs(colour_cosine(-U, U) + 1.0) < 1e-14
    assert abs(colour_cosine(-U, U, absolute=True) - 1.0) < 1e-14
    V = np.diag([1.0, 0.0, 0.0])
    a, b = P_ @ V @ P_, P_ @ U @ P_
    assert abs(colour_cosine(V, U) - np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b)) < 1e-15


def test_conditional_metrics_kl_zero_for_truth_and_ce_identity():
    J, U, h, beta = P.check1_arrays()
    model = potts_model(J, U, h, beta)
    enum = enumerate_exact(model)
    s = jnp.asarray(sample_exact(enum, 20_000, seed=3))
    logp = jax.nn.log_softmax(conditional_logits(model, s), -1)
    m = conditional_metrics(model, logp, s)
    assert abs(m["test_kl"]) < 1e-14
    # exact expectations over P(s): test_ce = cond_entropy in expectation; here within sampling error
    states = jnp.asarray(enum.states)
    lp = jax.nn.log_softmax(conditional_logits(model, states), -1)
    H_exact = float(-np.sum(enum.probabilities[:, None] * np.sum(np.exp(lp) * lp, -1)) / 4)
    assert abs(m["cond_entropy"] - H_exact) < 0.01
    assert abs(m["test_ce"] - H_exact) < 0.01
    # a uniform predictor: KL = ln C − entropy on average
    u = jnp.full(logp.shape, -np.log(3.0))
    mu = conditional_metrics(model, u, s)
    assert abs(mu["test_kl"] - (np.log(3.0) - mu["cond_entropy"])) < 1e-12
