"""Closed-form limits of the replica-symmetric equations: α → 0 (15) and λ → ∞ (16)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._proximal import proximal_map
from ._replica_setting import ReplicaSetting, _check_alpha


def _teacher_prior_moments(setting: ReplicaSetting) -> tuple[np.ndarray, np.ndarray]:
    """π_y = E p*_y and g_y = E p*_y (e_y − p*) for u* ~ N(0, ρ I) (cubature over the ξ rule)."""
    rule = setting.rules()[0]
    B = setting.range_basis
    t = np.sqrt(setting.teacher_norm) * rule.nodes @ B.T
    t = t - t.max(axis=1, keepdims=True)
    p = np.exp(t)
    p /= p.sum(axis=1, keepdims=True)
    pi = rule.weights @ p
    g = np.diag(pi) - np.einsum("k,ky,kc->yc", rule.weights, p, p)
    return pi, g


def alpha_to_zero_limit(setting: ReplicaSetting) -> dict[str, float]:
    """Leading order as α → 0 at fixed λ, eq. (15): m/α, q/α and V̂/α.

    z̄_y = argmin_z [λ‖z‖²/2 + CE(y, Sz)], f̄_y = λ z̄_y = S(e_y − softmax(S z̄_y)),
    m/α → (ρ/λ) Σ_y f̄_y·S g_y, q/α → λ⁻² Σ_y π_y ‖f̄_y‖², V̂/α → λ Σ_y π_y (C − tr(I + S D(p̄_y) S/λ)⁻¹).
    """
    lam, rho = setting.ridge, setting.teacher_norm
    B = jnp.asarray(setting.range_basis)
    C, r = B.shape
    V = jnp.asarray(1.0 / lam)
    zero = jnp.zeros(r)
    xbar = jax.vmap(proximal_map, in_axes=(None, None, 0, None))(zero, V, jnp.eye(C), B)
    fbar = np.asarray(xbar) * lam  # (C, r) reduced coordinates of f̄_y
    pi, g = _teacher_prior_moments(setting)
    Bn = np.asarray(B)
    m_over = rho / lam * float(np.sum(np.einsum("yr,cr,yc->y", fbar, Bn, g)))
    q_over = float(np.sum(pi * np.sum(fbar ** 2, axis=1))) / lam ** 2
    pbar = np.asarray(jax.nn.softmax(xbar @ B.T, axis=-1))
    vh = 0.0
    for y in range(C):
        D = np.diag(pbar[y]) - np.outer(pbar[y], pbar[y])
        A = np.eye(r) + Bn.T @ D @ Bn / lam
        vh += pi[y] * (r - np.trace(np.linalg.solve(A, np.eye(r))))
    return {"m_over_alpha": float(m_over), "q_over_alpha": float(q_over), "V_hat_over_alpha": float(lam * vh)}


def large_ridge_limit(setting: ReplicaSetting, alpha: float, *, shifted: bool = False) -> dict[str, float]:
    """Leading order as λ → ∞ at fixed α, eq. (16) (Hebbian estimator).

    m̂_∞ = α E tr[Σ D(p*)], q̂_∞ = α Σ_y π_y (e_y − 1/C)ᵀ Σ (e_y − 1/C), V̂ = α E Σ_y p*_y tr[S D(1/C) S]
    (= α tr Σ / C for doubly centred U); m = ρ m̂_∞/λ, q = (ρ m̂_∞² + q̂_∞)/λ², cosine = √ρ m̂_∞/√(ρ m̂_∞² + q̂_∞).
    ``shifted=True`` replaces λ by λ + V̂ in the denominators.
    """
    _check_alpha(alpha)
    Sig = setting.colour_covariance
    C = setting.colours
    pi, g = _teacher_prior_moments(setting)
    m_hat = alpha * float(np.trace(Sig @ g))  # Σ_y g_yy... tr[Σ E D(p*)] with E D(p*) = g (rows y)
    e = np.eye(C) - 1.0 / C
    q_hat = alpha * float(sum(pi[y] * e[y] @ Sig @ e[y] for y in range(C)))
    Du = np.eye(C) / C - np.ones((C, C)) / C ** 2
    V_hat = alpha * float(np.trace(Sig @ Du))
    lam = setting.ridge + (V_hat if shifted else 0.0)
    rho = setting.teacher_norm
    m = rho * m_hat / lam
    q = (rho * m_hat ** 2 + q_hat) / lam ** 2
    return {"m": m, "q": q, "V_hat": V_hat, "m_hat": m_hat, "q_hat": q_hat,
            "cosine": math.sqrt(rho) * m_hat / math.sqrt(rho * m_hat ** 2 + q_hat)}
