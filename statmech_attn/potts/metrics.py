"""Recovery metrics: learned couplings and attention against the true Potts model (docs/theories/potts.md).

Learned couplings 𝒥 (L,L,C,C) are brought to the zero-sum gauge and symmetrised,

    𝒥̃_ij = P 𝒥_ij P,      𝒥^sym_ij = ½(𝒥̃_ij + 𝒥̃_jiᵀ),      P = I − 11ᵀ/C,

and compared with the truth 𝒥̃*_ij = β J_ij PUP.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .model import PottsModel, centring_projector, conditional_logits

__all__ = [
    "zero_sum_couplings",
    "symmetrised_couplings",
    "true_couplings",
    "coupling_error",
    "pair_scores",
    "true_edges",
    "top_pair_precision",
    "roc_auc",
    "colour_cosine",
    "conditional_metrics",
    "recovery_metrics",
]


def zero_sum_couplings(couplings: jax.Array) -> jax.Array:
    """𝒥̃_ij = P 𝒥_ij P for every pair, with the diagonal blocks set to zero."""
    L, C = couplings.shape[0], couplings.shape[-1]
    P = centring_projector(C)
    out = jnp.einsum("ac,ijcd,db->ijab", P, couplings, P)
    return out * (1.0 - jnp.eye(L))[:, :, None, None]


def symmetrised_couplings(couplings: jax.Array) -> jax.Array:
    """𝒥^sym_ij = ½(𝒥̃_ij + 𝒥̃_jiᵀ): zero-sum gauge, then symmetrised over (i,a) ↔ (j,b)."""
    Jt = zero_sum_couplings(couplings)
    return 0.5 * (Jt + jnp.transpose(Jt, (1, 0, 3, 2)))


def true_couplings(model: PottsModel) -> jax.Array:
    """𝒥̃*_ij = β J_ij PUP, the true couplings in the zero-sum gauge."""
    P = centring_projector(model.colours)
    return model.beta * model.interaction[:, :, None, None] * (P @ model.colour_matrix @ P)[None, None]


def coupling_error(learned_sym: jax.Array, truth: jax.Array) -> float:
    """Σ_{i≠j}‖𝒥^sym_ij − 𝒥̃*_ij‖²_F / Σ_{i≠j}‖𝒥̃*_ij‖²_F (relative squared Frobenius error)."""
    L = truth.shape[0]
    off = (1.0 - jnp.eye(L))[:, :, None, None]
    num = jnp.sum(((learned_sym - truth) * off) ** 2)
    den = jnp.sum((truth * off) ** 2)
    return float(num / den) if float(den) > 0 else float(num)


def pair_scores(learned_sym: jax.Array) -> np.ndarray:
    """F_ij = ‖𝒥^sym_ij‖_F (L×L, symmetric)."""
    return np.asarray(jnp.sqrt(jnp.sum(learned_sym ** 2, axis=(-2, -1))))


def true_edges(interaction: np.ndarray, edge_tol: float = 1e-12) -> np.ndarray:
    """Boolean (L×L): |J_ij| > edge_tol."""
    return np.abs(np.asarray(interaction)) > edge_tol


def _upper(x: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(x.shape[0], k=1)
    return np.asarray(x)[iu]


def top_pair_precision(scores: np.ndarray, edges: np.ndarray) -> float:
    """Fraction of true edges among the |E| highest-scoring pairs i < j (1.0 when there are no edges)."""
    f, e = _upper(scores), _upper(edges).astype(bool)
    n = int(e.sum())
    if n == 0:
        return 1.0
    top = np.argsort(-f, kind="stable")[:n]
    return float(e[top].mean())


def roc_auc(scores: np.ndarray, edges: np.ndarray) -> float:
    """ROC AUC of the scores over all pairs i < j (Mann–Whitney U / (n₊n₋), ties count ½).

    0.5 when all pairs are edges or none is (undefined AUC).
    """
    f, e = _upper(scores), _upper(edges).astype(bool)
    pos, neg = f[e], f[~e]
    if len(pos) == 0 or len(neg) == 0:
        return 0.5
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def colour_cosine(value: np.ndarray, colour_matrix: np.ndarray, absolute: bool = False) -> float:
    """⟨PVP, PUP⟩_F / (‖PVP‖_F ‖PUP‖_F); the absolute value when ``absolute`` (linear attention)."""
    C = colour_matrix.shape[0]
    P = np.asarray(centring_projector(C))
    a = P @ np.asarray(value) @ P
    b = P @ np.asarray(colour_matrix) @ P
    den = np.linalg.norm(a) * np.linalg.norm(b)
    c = float(np.sum(a * b) / den) if den > 0 else 0.0
    return abs(c) if absolute else c


def conditional_metrics(model: PottsModel, log_probs: jax.Array, sequences: jax.Array) -> dict[str, float]:
    """Prediction quality of learned conditionals on held-out sequences (§6).

    Args:
        log_probs: ln p_θ(s_i = a | s_−i) with site i masked alone, shape (M, L, C).
        sequences: (M, L).

    Returns:
        ``test_ce`` = mean −ln p_θ(s_i | s_−i); ``test_kl`` = mean KL(P(·|s_−i) ‖ p_θ(·|s_−i));
        ``cond_entropy`` = mean entropy of the true conditional (2).
    """
    s = jnp.asarray(sequences)
    ce = -jnp.mean(jnp.take_along_axis(log_probs, s[..., None], axis=-1))
    logP = jax.nn.log_softmax(conditional_logits(model, s), axis=-1)
    P = jnp.exp(logP)
    ent = -jnp.mean(jnp.sum(P * logP, axis=-1))
    kl = jnp.mean(jnp.sum(P * (logP - log_probs), axis=-1))
    return {"test_ce": float(ce), "test_kl": float(kl), "cond_entropy": float(ent)}


def recovery_metrics(model: PottsModel, couplings: jax.Array, *, value: np.ndarray | None = None,
                     absolute_cosine: bool = False, edge_tol: float = 1e-12) -> dict[str, Any]:
    """``coupling_error``, ``top_pair_precision``, ``auc`` and (H = 1) ``colour_cosine`` of §6.

    Args:
        couplings: learned 𝒥 (L,L,C,C) in any gauge (e.g. the map (7) of a factored layer).
        value: the value matrices V (H,C,C); ``colour_cosine`` is reported for H = 1, else None.
        absolute_cosine: report |cosine| (linear attention: (A, V) → (−A, −V) is a symmetry).
    """
    sym = symmetrised_couplings(jnp.asarray(couplings))
    truth = true_couplings(model)
    scores = pair_scores(sym)
    edges = true_edges(np.asarray(model.interaction), edge_tol)
    cos = None
    if value is not None and np.asarray(value).shape[0] == 1:
        cos = colour_cosine(np.asarray(value)[0], np.asarray(model.colour_matrix), absolute_cosine)
    return {
        "coupling_error": coupling_error(sym, truth),
        "top_pair_precision": top_pair_precision(scores, edges),
        "auc": roc_auc(scores, edges),
        "colour_cosine": cos,
    }
