"""Factored and vanilla self-attention layers and the masked-language-model loss (docs/theories/potts.md).

Input: sequences ``s`` (B, L) int in [0, C) and a mask (B, L) bool (True = masked).  Output: logits
(B, L, C); only masked positions enter the loss.

Factored layer (4):  z_i(a) = Σ_h Σ_{j≠i} A^h_ij (1 − mask_j) V^h_{a s_j} + b_i(a),
with A^h from the position scores W^h by (3a) (softmax over keys j ≠ i) or (3b) (linear).

Vanilla layer (5):  e_j = E[:, t_j] + E^pos[:, j] (t_j = C if masked else s_j), q = W_Q e, k = W_K e,
v = W_V e, A_ij = softmax_j(q_i·k_j/√d), z_i = W_O Σ_j A_ij v_j + b_O (plus W_O e_i if residual).

MLM objective (6): mean cross-entropy over the (sample, masked site) pairs + (λ_W/2)‖W‖² + (λ_V/2)‖V‖².
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import jax
import jax.numpy as jnp

from statmech_attn.potts.pseudolikelihood import attention_matrix

__all__ = [
    "FactoredParams",
    "VanillaParams",
    "init_factored",
    "init_vanilla",
    "factored_logits",
    "vanilla_logits",
    "vanilla_attention",
    "masked_cross_entropy",
    "logits_all",
    "logits_all_by_site",
    "vanilla_logits_all",
    "draw_mask",
    "penalty",
]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class FactoredParams:
    """Factored layer: position scores W (H, L, L), value matrices V (H, C, C), output bias b (L, C) or None."""

    W: jax.Array
    V: jax.Array
    b: jax.Array | None


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class VanillaParams:
    """Vanilla layer: E (d, C+1), E_pos (d, L), W_Q, W_K, W_V (d, d), W_O (C, d), b_O (C,)."""

    E: jax.Array
    E_pos: jax.Array
    W_Q: jax.Array
    W_K: jax.Array
    W_V: jax.Array
    W_O: jax.Array
    b_O: jax.Array


def init_factored(key: jax.Array, sites: int, colours: int, heads: int = 1, fields: bool = False) -> FactoredParams:
    """W ~ N(0, 0.01²), V ~ N(0, 1/C), b = 0 (§4.1)."""
    kw, kv = jax.random.split(key)
    W = 0.01 * jax.random.normal(kw, (heads, sites, sites))
    V = jax.random.normal(kv, (heads, colours, colours)) / jnp.sqrt(colours)
    b = jnp.zeros((sites, colours)) if fields else None
    return FactoredParams(W, V, b)


def init_vanilla(key: jax.Array, sites: int, colours: int, embed_dim: int = 32) -> VanillaParams:
    """Embeddings ~ N(0, 1), projections ~ N(0, 1/d), b_O = 0."""
    d = embed_dim
    k = jax.random.split(key, 6)
    s = 1.0 / jnp.sqrt(d)
    return VanillaParams(
        E=jax.random.normal(k[0], (d, colours + 1)),
        E_pos=jax.random.normal(k[1], (d, sites)),
        W_Q=s * jax.random.normal(k[2], (d, d)),
        W_K=s * jax.random.normal(k[3], (d, d)),
        W_V=s * jax.random.normal(k[4], (d, d)),
        W_O=s * jax.random.normal(k[5], (colours, d)),
        b_O=jnp.zeros((colours,)),
    )


def factored_logits(params: FactoredParams, s: jax.Array, mask: jax.Array,
                    attention: Literal["softmax", "linear"] = "softmax") -> jax.Array:
    """Logits (4): Σ_h A^h (X̄ V^hᵀ) + b, X̄ the one-hot rows with masked rows zeroed; (B, L, C)."""
    C = params.V.shape[-1]
    A = attention_matrix(params.W, attention)
    Xbar = jax.nn.one_hot(s, C, dtype=params.V.dtype) * (1.0 - mask[..., None].astype(params.V.dtype))
    z = jnp.einsum("hij,...jb,hab->...ia", A, Xbar, params.V)
    return z if params.b is None else z + params.b


def _embed(params: VanillaParams, s: jax.Array, mask: jax.Array) -> jax.Array:
    C = params.W_O.shape[0]
    t = jnp.where(mask, C, s)
    return params.E.T[t] + params.E_pos.T  # (..., L, d)


def vanilla_attention(params: VanillaParams, s: jax.Array, mask: jax.Array) -> jax.Array:
    """A_ij = softmax_j(q_i·k_j/√d) of (5), shape (..., L, L)."""
    e = _embed(params, s, mask)
    q, k = e @ params.W_Q.T, e @ params.W_K.T
    d = params.W_Q.shape[0]
    return jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(d), axis=-1)


def vanilla_logits(params: VanillaParams, s: jax.Array, mask: jax.Array, residual: bool = False) -> jax.Array:
    """Logits (5): z_i = W_O(Σ_j A_ij v_j [+ e_i]) + b_O; (B, L, C)."""
    e = _embed(params, s, mask)
    d = params.W_Q.shape[0]
    q, k, v = e @ params.W_Q.T, e @ params.W_K.T, e @ params.W_V.T
    A = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(d), axis=-1)
    h = A @ v
    if residual:
        h = h + e
    return h @ params.W_O.T + params.b_O


def masked_cross_entropy(logits: jax.Array, s: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of −ln softmax(z_i)[s_i] over the masked positions (the data term of (6))."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, s[..., None], axis=-1)[..., 0]
    m = mask.astype(logp.dtype)
    return jnp.sum(nll * m) / jnp.maximum(jnp.sum(m), 1.0)


def logits_all(layer: Literal["factored", "vanilla"], params, s: jax.Array, *,
               attention: Literal["softmax", "linear"] = "softmax", residual: bool = False) -> jax.Array:
    """Logits at every site i with site i masked alone (mask ``"all"``); (B, L, C).

    Factored layer: A_ii = 0, so masking i alone changes nothing at i and one unmasked pass gives
    every site.  Vanilla layer: one pass per masked site (vmap over i).
    """
    if layer == "factored":
        return factored_logits(params, s, jnp.zeros(s.shape, dtype=bool), attention)
    return vanilla_logits_all(params, s, residual)


def vanilla_logits_all(params: VanillaParams, s: jax.Array, residual: bool = False) -> jax.Array:
    """Vanilla-layer logits at every site i with site i masked alone, in one pass; (B, L, C).

    With only site i masked, every other site keeps its unmasked key and value, and the query,
    key and value of site i come from the mask embedding e'_i = E[:, C] + E^pos[:, i] (the same
    for every sequence).  So row i of the scores is q'_i·k_j (j ≠ i) and q'_i·k'_i on the diagonal.
    Equal to :func:`logits_all_by_site` (one forward pass per masked site).
    """
    L = s.shape[-1]
    C = params.W_O.shape[0]
    d = params.W_Q.shape[0]
    e = _embed(params, s, jnp.zeros(s.shape, dtype=bool))  # (..., L, d) unmasked
    k, v = e @ params.W_K.T, e @ params.W_V.T
    e_m = params.E[:, C][None, :] + params.E_pos.T  # (L, d): masked embedding of each site
    q_m, k_m, v_m = e_m @ params.W_Q.T, e_m @ params.W_K.T, e_m @ params.W_V.T
    eye = jnp.eye(L, dtype=bool)
    scores = jnp.einsum("id,...jd->...ij", q_m, k)
    scores = jnp.where(eye, jnp.sum(q_m * k_m, axis=-1)[:, None], scores) / jnp.sqrt(d)
    A = jax.nn.softmax(scores, axis=-1)
    diag = jnp.diagonal(A, axis1=-2, axis2=-1)  # (..., L)
    h = jnp.einsum("...ij,...jd->...id", jnp.where(eye, 0.0, A), v) + diag[..., None] * v_m
    if residual:
        h = h + e_m
    return h @ params.W_O.T + params.b_O


def logits_all_by_site(layer: Literal["factored", "vanilla"], params, s: jax.Array, *,
                       attention: Literal["softmax", "linear"] = "softmax", residual: bool = False) -> jax.Array:
    """Like :func:`logits_all`, by the definition: one forward pass per masked site (vmap over i)."""
    L = s.shape[-1]
    fn = ((lambda m: factored_logits(params, s, m, attention)) if layer == "factored"
          else (lambda m: vanilla_logits(params, s, m, residual)))

    def at_site(i):
        mask = jnp.broadcast_to(jnp.arange(L) == i, s.shape)
        return fn(mask)[..., i, :]

    return jnp.moveaxis(jax.vmap(at_site)(jnp.arange(L)), 0, -2)


def draw_mask(key: jax.Array, shape: tuple[int, int], mode: Literal["single", "fraction"],
              fraction: float = 0.15) -> jax.Array:
    """A random mask (B, L): ``"single"`` one uniform site per sequence; ``"fraction"`` each site with
    probability ``fraction``, at least one per sequence (a uniform site when none was drawn)."""
    B, L = shape
    k1, k2 = jax.random.split(key)
    single = jax.nn.one_hot(jax.random.randint(k1, (B,), 0, L), L, dtype=bool)
    if mode == "single":
        return single
    m = jax.random.bernoulli(k2, fraction, (B, L))
    return jnp.where(jnp.any(m, axis=-1, keepdims=True), m, single)


def penalty(params, lambda_attention: float, lambda_value: float) -> jax.Array:
    """The L2 terms of (6): (λ_W/2)‖W‖² + (λ_V/2)‖V‖² (factored); for the vanilla layer
    (λ_W/2)(‖W_Q‖² + ‖W_K‖²) + (λ_V/2)(‖W_V‖² + ‖W_O‖²)."""
    if isinstance(params, FactoredParams):
        return 0.5 * lambda_attention * jnp.sum(params.W ** 2) + 0.5 * lambda_value * jnp.sum(params.V ** 2)
    return (0.5 * lambda_attention * (jnp.sum(params.W_Q ** 2) + jnp.sum(params.W_K ** 2))
            + 0.5 * lambda_value * (jnp.sum(params.W_V ** 2) + jnp.sum(params.W_O ** 2)))
