"""Sign-constrained reparameterisation of H that forces a regime.

``H = V Λ Vᵀ`` with ``V`` orthogonal (the Q factor of a QR decomposition of a free matrix, signs
fixed so that diag(R) > 0) and ``Λ = diag(∓ψ²)``:

- ``"sharpen"``: Λ = −ψ² (optionally clipped to [−1, 0)).  Then for a row-stochastic A
  (|λ(A)| ≤ 1) the all-ones mode has the *smallest* growth factor 1 + λ_H, so the stack cannot
  oversmooth;
- ``"smooth"``: Λ = +ψ².  Then |1 + λ_A λ_H| ≤ 1 + |λ_A| λ_H ≤ 1 + λ_H: the all-ones mode
  dominates and the stack smooths.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

__all__ = ["orthogonal_from_free", "sign_constrained_h"]

_EPS = 1e-6


def orthogonal_from_free(free: jax.Array) -> jax.Array:
    """Orthogonal ``V = Q diag(sign(diag R))`` from ``free = Q R`` (differentiable, unique)."""
    q, r = jnp.linalg.qr(free)
    s = jnp.where(jnp.diag(r) >= 0, 1.0, -1.0)
    return q * s[None, :]


def sign_constrained_h(free: jax.Array, psi: jax.Array, mode: Literal["sharpen", "smooth"],
                       clip: bool = False) -> jax.Array:
    """``H = V diag(λ) Vᵀ`` with ``λ = −ψ²`` (sharpen) or ``+ψ²`` (smooth).

    With ``clip`` the sharpening eigenvalues are ``−clip(ψ², ε, 1)`` ∈ [−1, 0): the sufficient
    condition spec(H) ⊂ [−1, 0) against oversmoothing.
    """
    v = orthogonal_from_free(free)
    mag = psi * psi
    if mode == "sharpen":
        lam = -(jnp.clip(mag, _EPS, 1.0) if clip else mag)
    elif mode == "smooth":
        lam = mag
    else:
        raise ValueError(f"mode must be 'sharpen' or 'smooth', got {mode!r}")
    return (v * lam[None, :]) @ v.T
