"""The entropy S_ent(U) of :mod:`._action` with its gradient and Hessian in closed form.

Over the independent entries x of the U_ℓ (row-major upper triangles, layer 1 first, :mod:`._param`)
the entropy of §5 with U_a at its closed form reads

    S_ent = φ(t) + Σ_ℓ κ_ℓ ln det U_ℓ + Σ_{ℓ<L} ν_ℓ Tr( U_{ℓ+1}⁻¹ tr_{h_ℓ} U_ℓ ),        t = Tr U_L,

    φ(t) = N_a ( U_a/σ_a² − ln U_a ) + N_L ( t / (U_a σ_L²) + H_L ln U_a ),   U_a = U_a(t)  (§6.1),
    κ_ℓ  = −N_ℓ + [ℓ > 1] N_{ℓ−1} H_{ℓ−1},     ν_ℓ = N_ℓ / σ_ℓ².

A direction dx moves U_ℓ by Σ_p dx_p E_p (E_ab + E_ba for a < b, E_aa on the diagonal): the
derivatives are taken over full entries of the U_ℓ (the bilinear forms below) and projected on
the E_p by static basis matrices, ∂S/∂x = Bᵀ vec D, ∂²S/∂x² = Bᵀ F B.  Every inverse and ln det
comes from one Cholesky factorisation per U_ℓ, so a non-positive-definite U gives NaN (the solvers
detect it and say so).  :func:`._action.entropy` stays the value by its own route; the autodiff of
it is the independent check of these formulas (tests/paths/test_entropy_derivatives.py).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._action import partial_trace, readout_order_parameter
from ._model import Hyper


class EntropyFactors(NamedTuple):
    """What every derivative of S_ent needs at one point, from one Cholesky per U_ℓ (layer 1 first).

    ``inv`` U_ℓ⁻¹, ``logdet`` ln det U_ℓ, ``ptrace`` tr_{h_ℓ} U_ℓ (ℓ < L), ``readout`` (φ, φ′, φ″) at
    t = Tr U_L, ``kappa`` κ_ℓ and ``nu`` ν_ℓ (ℓ < L): see the module docstring.
    """

    inv: tuple
    logdet: tuple
    ptrace: tuple
    readout: tuple
    kappa: tuple
    nu: tuple


def basis_matrix(d: int) -> np.ndarray:
    """B (d², d(d+1)/2): column p = (a ≤ b) is vec E_p, E_ab + E_ba (a < b) or E_aa (row-major vec)."""
    rows, cols = np.triu_indices(d)
    b = np.zeros((d * d, rows.size))
    b[rows * d + cols, np.arange(rows.size)] = 1.0
    b[cols * d + rows, np.arange(rows.size)] = 1.0
    return b


def inverse_logdet(u: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(U⁻¹, ln det U) from one Cholesky U = C Cᵀ: U⁻¹ = C⁻ᵀC⁻¹, ln det U = 2 Σ ln C_ii (NaN if U is not PD)."""
    c = jnp.linalg.cholesky(u)
    inv = jsl.cho_solve((c, True), jnp.eye(u.shape[0], dtype=u.dtype))
    return 0.5 * (inv + inv.T), 2.0 * jnp.sum(jnp.log(jnp.diagonal(c)))


def readout_terms(t: jnp.ndarray, heads_last: int, hyper: Hyper) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(φ, φ′, φ″) at t = Tr U_L, U_a the root of U_a² + β U_a − γ(t) = 0 (γ = c t, c = N_L σ_a² / (N_a σ_L²)).

    U_a is where ∂φ/∂U_a = 0, so (envelope) φ′ = N_L / (U_a σ_L²); differentiating the quadratic,
    U_a′ = c / (2 U_a + β) = c / √(β² + 4γ), hence φ″ = −N_L U_a′ / (U_a² σ_L²).
    """
    n_a, s2a = hyper.width_readout, hyper.sigma2_readout
    n_l, s2l = hyper.widths[-1], hyper.sigma2_layers[-1]
    u_a = readout_order_parameter(t, heads_last, hyper)
    phi = n_a * (u_a / s2a - jnp.log(u_a)) + n_l * (t / (u_a * s2l) + heads_last * jnp.log(u_a))
    c = n_l * s2a / (n_a * s2l)
    beta = s2a * (heads_last * n_l / n_a - 1.0)
    d_ua = c / jnp.sqrt(beta * beta + 4.0 * c * t)
    return phi, n_l / (u_a * s2l), -n_l * d_ua / (u_a * u_a * s2l)


def entropy_factors(U: tuple, heads: tuple[int, ...], hyper: Hyper) -> EntropyFactors:
    """:class:`EntropyFactors` at (U₁, …, U_L): one Cholesky per U_ℓ, the partial traces and φ, φ′, φ″."""
    L = len(heads)
    inv, logdet = zip(*(inverse_logdet(u) for u in U))
    ptrace = tuple(partial_trace(U[l], heads[l]) for l in range(L - 1))
    kappa = tuple(-hyper.widths[l] + (hyper.widths[l - 1] * heads[l - 1] if l > 0 else 0.0) for l in range(L))
    nu = tuple(hyper.widths[l] / hyper.sigma2_layers[l] for l in range(L - 1))
    return EntropyFactors(inv, logdet, ptrace, readout_terms(jnp.trace(U[-1]), heads[-1], hyper), kappa, nu)


def entropy_value_from(f: EntropyFactors) -> jnp.ndarray:
    """S_ent = φ(t) + Σ_ℓ κ_ℓ ln det U_ℓ + Σ_{ℓ<L} ν_ℓ ⟨U_{ℓ+1}⁻¹, tr_{h_ℓ} U_ℓ⟩_F."""
    s = f.readout[0]
    for l, k in enumerate(f.kappa):
        s = s + k * f.logdet[l]
    for l, nu in enumerate(f.nu):
        s = s + nu * jnp.sum(f.inv[l + 1] * f.ptrace[l])
    return s


def matrix_gradients(f: EntropyFactors, heads: tuple[int, ...]) -> list[jnp.ndarray]:
    """D_ℓ with dS_ent = Σ_ℓ Tr(D_ℓ dU_ℓ) (symmetric), from d ln det U = Tr(U⁻¹dU),
    d Tr(V⁻¹P(W)) = −Tr(V⁻¹dV V⁻¹P) + Tr((I_h ⊗ V⁻¹) dW) (the partial trace's adjoint):

        D_ℓ = κ_ℓ U_ℓ⁻¹ + [ℓ < L] ν_ℓ I_{H_ℓ} ⊗ U_{ℓ+1}⁻¹ − [ℓ > 1] ν_{ℓ−1} U_ℓ⁻¹ P_{ℓ−1} U_ℓ⁻¹ + [ℓ = L] φ′ I,

    P_ℓ = tr_{h_ℓ} U_ℓ.
    """
    L = len(heads)
    out = []
    for l in range(L):
        m = f.inv[l]
        d = f.kappa[l] * m
        if l < L - 1:
            d = d + f.nu[l] * jnp.kron(jnp.eye(heads[l], dtype=m.dtype), f.inv[l + 1])
        if l > 0:
            d = d - f.nu[l - 1] * (m @ f.ptrace[l - 1] @ m)
        if l == L - 1:
            d = d + f.readout[1] * jnp.eye(m.shape[0], dtype=m.dtype)
        out.append(d)
    return out


def logdet_form(m: jnp.ndarray) -> jnp.ndarray:
    """d² ln det U [E_ab, E_cd] = −Tr(U⁻¹E_ab U⁻¹E_cd) = −M_bc M_da, M = U⁻¹, as a (d², d²) matrix."""
    d = m.shape[0]
    return -jnp.einsum("bc,da->abcd", m, m).reshape(d * d, d * d)


def coupling_form_vv(m: jnp.ndarray, p: jnp.ndarray) -> jnp.ndarray:
    """∂²/∂V² of T = Tr(V⁻¹P): Tr(M A M B M P) + Tr(M B M A M P) at A = E_ab, B = E_cd,
    = M_bc R_da + M_da R_bc with M = V⁻¹, R = M P M; a (d², d²) matrix."""
    d = m.shape[0]
    r = m @ p @ m
    return (jnp.einsum("bc,da->abcd", m, r) + jnp.einsum("da,bc->abcd", m, r)).reshape(d * d, d * d)


def coupling_form_vw(m: jnp.ndarray, h: int) -> jnp.ndarray:
    """∂²/∂V∂W of T = Tr(V⁻¹ P(W)), P = tr_h: −Tr(M A M P(B)) = −Tr((I_h ⊗ MAM) B) at A = E_ab,
    B = E_{(g,c),(g′,e)}, = −δ_gg′ M_ea M_bc; a (d², (h d)²) matrix (head index outermost in W)."""
    d = m.shape[0]
    return -jnp.einsum("ea,bc,gk->abgcke", m, m, jnp.eye(h, dtype=m.dtype)).reshape(d * d, (h * d) ** 2)


def matrix_hessian_blocks(f: EntropyFactors, heads: tuple[int, ...]) -> tuple[list, list]:
    """The bilinear forms of d²S_ent over full entries: diagonal blocks F_ℓℓ and F_{ℓ+1,ℓ} (ℓ < L):

        F_ℓℓ     = κ_ℓ ∂² ln det U_ℓ + [ℓ > 1] ν_{ℓ−1} ∂²_V T_{ℓ−1} + [ℓ = L] φ″ vec I vec Iᵀ,
        F_{ℓ+1,ℓ} = ν_ℓ ∂²_{VW} T_ℓ          (T_ℓ = Tr(U_{ℓ+1}⁻¹ tr_{h_ℓ} U_ℓ) is linear in U_ℓ).
    """
    L = len(heads)
    diag, lower = [], []
    for l in range(L):
        m = f.inv[l]
        blk = f.kappa[l] * logdet_form(m)
        if l > 0:
            blk = blk + f.nu[l - 1] * coupling_form_vv(m, f.ptrace[l - 1])
        if l == L - 1:
            eye = jnp.eye(m.shape[0], dtype=m.dtype).reshape(-1)
            blk = blk + f.readout[2] * jnp.outer(eye, eye)
        diag.append(blk)
        if l < L - 1:
            lower.append(f.nu[l] * coupling_form_vw(f.inv[l + 1], heads[l]))
    return diag, lower


def entropy_value_gradient_x(U: tuple, heads: tuple[int, ...], hyper: Hyper) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S_ent, ∂S_ent/∂x), ∂S/∂x_p = ⟨D_ℓ, E_p⟩ = Bᵀ vec D_ℓ per layer (x order)."""
    f = entropy_factors(U, heads, hyper)
    grads = matrix_gradients(f, heads)
    g = jnp.concatenate([basis_matrix(d.shape[0]).T @ d.reshape(-1) for d in grads])
    return entropy_value_from(f), g


def entropy_value_gradient_hessian_x(U: tuple, heads: tuple[int, ...], hyper: Hyper
                                     ) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(S_ent, ∂S_ent/∂x, ∂²S_ent/∂x²): the Hessian's blocks B_ℓᵀ F_ℓℓ′ B_ℓ′ (zero for |ℓ − ℓ′| > 1)."""
    f = entropy_factors(U, heads, hyper)
    dims = [u.shape[0] for u in U]
    bases = [basis_matrix(d) for d in dims]
    grads = matrix_gradients(f, heads)
    g = jnp.concatenate([b.T @ d.reshape(-1) for b, d in zip(bases, grads)])
    diag, lower = matrix_hessian_blocks(f, heads)
    n = [b.shape[1] for b in bases]
    L = len(dims)
    rows = []
    for i in range(L):
        row = []
        for j in range(L):
            if i == j:
                row.append(bases[i].T @ diag[i] @ bases[i])
            elif i == j + 1:
                row.append(bases[i].T @ lower[j] @ bases[j])
            elif j == i + 1:
                row.append((bases[j].T @ lower[i] @ bases[i]).T)
            else:
                row.append(jnp.zeros((n[i], n[j]), dtype=g.dtype))
        rows.append(row)
    return entropy_value_from(f), g, jnp.block(rows)
