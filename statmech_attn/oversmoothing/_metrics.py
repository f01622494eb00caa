"""Smoothness metrics of a token matrix X (n tokens × d features).

The low-frequency component is the token mean broadcast to every token,
``LFC(X) = (1/n) 1 1ᵀ X``, and the high-frequency component is the rest, ``HFC(X) = X − LFC(X)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["lfc", "hfc", "hfc_lfc_ratio", "mean_pairwise_cosine", "dirichlet_energy", "effective_rank", "metrics"]


def lfc(x: jax.Array) -> jax.Array:
    """``LFC(X) = (1/n) 1 1ᵀ X``: every row replaced by the token mean."""
    return jnp.broadcast_to(jnp.mean(x, axis=0, keepdims=True), x.shape)


def hfc(x: jax.Array) -> jax.Array:
    """``HFC(X) = X − LFC(X)``."""
    return x - jnp.mean(x, axis=0, keepdims=True)


def hfc_lfc_ratio(x: jax.Array) -> jax.Array:
    """``‖HFC(X)‖_F / ‖LFC(X)‖_F`` (0: all tokens equal; ∞: zero token mean)."""
    return jnp.linalg.norm(hfc(x)) / jnp.linalg.norm(lfc(x))


def mean_pairwise_cosine(x: jax.Array) -> jax.Array:
    """Mean of ``cos(x_i, x_j)`` over ordered pairs i ≠ j (1: all tokens collinear, same direction)."""
    n = x.shape[0]
    xn = x / jnp.linalg.norm(x, axis=1, keepdims=True)
    c = xn @ xn.T
    return (jnp.sum(c) - jnp.trace(c)) / (n * (n - 1))


def dirichlet_energy(x: jax.Array, attention: jax.Array | None = None) -> jax.Array:
    """``E(X) = ½ Σ_ij A_ij ‖x_i − x_j‖²``; with ``A = None`` the complete graph ``A_ij = 1/n``.

    For the complete graph ``E(X) = ‖HFC(X)‖_F²``.
    """
    n = x.shape[0]
    a = jnp.full((n, n), 1.0 / n) if attention is None else attention
    sq = jnp.sum(x * x, axis=1)
    dist2 = sq[:, None] + sq[None, :] - 2.0 * x @ x.T
    return 0.5 * jnp.sum(a * jnp.maximum(dist2, 0.0))


def effective_rank(x: jax.Array) -> jax.Array:
    """Roy–Vetterli effective rank ``exp(−Σ_k p_k log p_k)``, ``p_k = s_k / Σ s`` (singular values)."""
    s = jnp.linalg.svd(x, compute_uv=False)
    p = s / jnp.sum(s)
    ent = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
    return jnp.exp(ent)


def metrics(x: jax.Array) -> dict[str, jax.Array]:
    """All scale-free metrics of X: HFC/LFC, mean pairwise cosine, Dirichlet energy / ‖X‖², effective rank."""
    return {
        "hfc_lfc_ratio": hfc_lfc_ratio(x),
        "mean_pairwise_cosine": mean_pairwise_cosine(x),
        "dirichlet_energy_normalised": dirichlet_energy(x) / jnp.sum(x * x),
        "effective_rank": effective_rank(x),
    }
