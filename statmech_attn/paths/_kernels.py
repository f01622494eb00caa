"""Attention paths, path-augmented inputs and path–path kernels (theory §3).

Array conventions at this boundary: tokens are rows, ``x`` is (P, S, N₀); ``attention[ℓ]`` is
(P, H_ℓ, S, S) with rows = queries and columns = keys, each row a probability vector (as
transformer libraries store it).  The theory writes A^{ℓ,h}_{st} with s the key and t the query,
i.e. A = attentionᵀ; the conversion happens here, once.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._model import PathsModel


def _xp(*arrays) -> Any:
    """NumPy for host inputs (data read from disk: no device dispatch, no compile of eager
    operations), ``jax.numpy`` as soon as one input is a JAX array or tracer."""
    return np if all(isinstance(a, (np.ndarray, np.generic, float, int, list, tuple)) for a in arrays) else jnp


def readout_vectors(attention_last: jnp.ndarray, readout: str) -> jnp.ndarray:
    """Readout vectors a^{L,h} ∈ R^S of the last layer, shape (P, H_L, S).

    last: a_s = A_{s,S} (the last query's row); first: a_s = A_{s,1}; mean: a_s = (1/S) Σ_t A_{st}.
    """
    if readout == "last":
        return attention_last[..., -1, :]
    if readout == "first":
        return attention_last[..., 0, :]
    return _xp(attention_last).mean(attention_last, axis=-2)


def path_attention(attention: Sequence[jnp.ndarray], readout: str) -> jnp.ndarray:
    """Path attention vectors a^π_s, shape (P, H_tot, S), h₁ the slowest path index.

        a^π_s = Σ_{t₁..t_{L−1}} A^{1,h₁}_{s t₁} ⋯ A^{L−1,h_{L−1}}_{t_{L−2} t_{L−1}} a^{L,h_L}_{t_{L−1}}
    """
    xp = _xp(*attention)
    cur = readout_vectors(xp.asarray(attention[-1]), readout)  # (P, H_L, S)
    for att in reversed(attention[:-1]):
        att = xp.asarray(att)  # (P, H, S_query, S_key) = A^T
        # new[μ, h, π', s] = Σ_t A_{s t} cur[μ, π', t] = Σ_t att[μ, h, t, s] cur[μ, π', t]
        new = xp.einsum("phts,pqt->phqs", att, cur)
        cur = new.reshape(new.shape[0], -1, new.shape[-1])
    return cur


def path_inputs(x: jnp.ndarray, attention: Sequence[jnp.ndarray], model: PathsModel) -> jnp.ndarray:
    """Path-augmented inputs X̃, shape (P, N₀, H_tot).

        X̃^μ_{iπ} = √(σ₀² / (N₀ H_tot)) Σ_s x^μ_{is} a^π_s
    """
    xp = _xp(x, *attention)
    x = xp.asarray(x)
    a = path_attention(attention, model.readout)
    n0 = x.shape[-1]
    scale = math.sqrt(model.sigma2_input / (n0 * model.n_paths))
    return scale * xp.einsum("psi,pqs->piq", x, a)


def path_kernels(xt: jnp.ndarray, xt_other: jnp.ndarray | None = None) -> jnp.ndarray:
    """Path–path kernels C^{ππ'}_{μν} = Σ_i X̃^μ_{iπ} X̃^ν_{iπ'}, shape (H_tot, H_tot, P, P')."""
    other = xt if xt_other is None else xt_other
    return jnp.einsum("mip,niq->pqmn", xt, other)


def renormalised_kernel(u1: jnp.ndarray, xt: jnp.ndarray, xt_other: jnp.ndarray | None = None) -> jnp.ndarray:
    """K_{μν}(U₁) = Σ_{ππ'} U₁[π,π'] C^{ππ'}_{μν} = Σ_i (X̃_i U₁ X̃_iᵀ)_{μν}."""
    other = xt if xt_other is None else xt_other
    return jnp.einsum("mip,pq,niq->mn", xt, u1, other)


def cholesky_kt(k: jnp.ndarray, temperature: jnp.ndarray | float) -> jnp.ndarray:
    """Lower Cholesky factor of K + T I (K a P×P kernel, T > 0 the temperature): the one factorisation
    behind the energy, the predictors and the finite network's collapsed likelihood.

    K is positive semi-definite and T > 0, so K + T I is positive definite; when it is not numerically
    (a non-PSD U₁, NaN in K), the factor has NaN on its diagonal.  Inside a trace (jit, grad, vmap,
    a sampler) that NaN propagates to the caller's result, which reports it; called eagerly, a
    failed factorisation raises ``numpy.linalg.LinAlgError`` naming K + T I.
    """
    c = jnp.linalg.cholesky(k + temperature * jnp.eye(k.shape[0], dtype=k.dtype))
    if not isinstance(c, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(jnp.diagonal(c, axis1=-2, axis2=-1)))):
        raise np.linalg.LinAlgError(
            f"K + T·I is not positive definite (Cholesky failed; P = {k.shape[0]}, T = {float(temperature):.3g}): "
            "the kernel K(U₁) must be positive semi-definite and finite")
    return c


def reduce_examples(xt: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Exact reduction of P examples to r = rank ≤ N₀·H_tot pseudo-examples.

    With Z the (P, N₀H) matrix of X̃ and Z = Q R (thin QR, Q with orthonormal columns),
    K(U₁) = Q K_r(U₁) Qᵀ with K_r built from X̃' = R.  Then, exactly,

        ln det(K + T I_P) = ln det(K_r + T I_r) + (P − r) ln T,
        Yᵀ (K + T I)⁻¹ Y  = ỹᵀ (K_r + T I_r)⁻¹ ỹ + |Y − Q ỹ|² / T,    ỹ = Qᵀ Y,

    and test-set predictor statistics are unchanged (k* lies in range(Q)).

    Returns:
        (xt_reduced (r, N₀, H), y_reduced (r,), |Y_⊥|², r).  Only worth calling when P > N₀·H_tot.
    """
    p, n0, h = xt.shape
    z = np.asarray(xt, dtype=np.float64).reshape(p, n0 * h)
    q, r = np.linalg.qr(z, mode="reduced")
    y = np.asarray(y, dtype=np.float64)
    y_red = q.T @ y
    y_perp2 = float(max(y @ y - y_red @ y_red, 0.0))
    return r.reshape(r.shape[0], n0, h), y_red, y_perp2, p
