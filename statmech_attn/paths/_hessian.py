"""Derivatives of the action over the independent entries x of the U_ℓ, and over θ by the chain rule.

Energy Hessian: with G = (K + T I)⁻¹ = C⁻ᵀC⁻¹, r = G Y, a perturbation dx moves K by Σ_p dx_p S⁰_p
(S⁰_ab = X_aX_bᵀ + X_bX_aᵀ, S⁰_aa = X_aX_aᵀ, X_a := X̃[:, :, a]), so from
d²E = −Tr(G dK G dK) + 2 rᵀ dK G dK r,

    ∂²E/∂x_p∂x_q = −⟨S_p, S_q⟩_F + 2 s_p·s_q,    S_p = C⁻¹ S⁰_p C⁻ᵀ,  s_p = S_p C⁻¹Y

(:func:`energy_gradient_hessian_x_from`; the full-entry form over all entries of U₁ is
:func:`energy_hessian_from`).  The entropy's gradient and Hessian (small matrices) are in closed
form too (:mod:`._entropy`), so no autodiff of a matrix function enters the compiled solvers.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._action import (EnergyFactors, ProblemArrays, energy_factors, energy_gradient_from, energy_gradient_x_from,
                      upper_gradient, uses_prekernels, whiten)
from ._entropy import entropy_value_gradient_hessian_x, entropy_value_gradient_x
from ._model import Hyper
from ._param import Layout, _energy_factors_x, _n_first, _n_max, theta_to_x, x_multiplicity, x_to_U


def value_and_gradient_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout,
                         factors: EnergyFactors | None = None) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S, ∂S/∂x) over the independent entries, both parts in closed form (Ω; :mod:`._entropy`).

    ``factors``: the energy factors at x when already computed (:func:`_energy_factors_x`)."""
    s_ent, g_ent = entropy_value_gradient_x(x_to_U(x, layout), layout.heads, hyper)
    n1, f = _energy_factors_x(x, arrays, hyper, layout) if factors is None else (_n_first(layout), factors)
    g = g_ent.at[:n1].add(energy_gradient_x_from(f, arrays))
    return (f.value + s_ent) / _n_max(hyper), g / _n_max(hyper)


def residual_of(g_x: jnp.ndarray, layout: Layout) -> jnp.ndarray:
    """max |∂S/∂U| (symmetric-matrix gradient) from the gradient over the independent entries."""
    return jnp.max(jnp.abs(g_x / x_multiplicity(layout)))


def _pair_gram(upper: jnp.ndarray, h: int) -> jnp.ndarray:
    """gram[x, y, u, v] = ⟨B_{xy}, B_{uv}⟩_F for blocks with B_{yx} = B_{xy}ᵀ, given B_p for p = (x ≤ y).

    Only the pairs are formed: ⟨B_p, B_q⟩ serves when both or neither of (x, y), (u, v) is flipped,
    ⟨B_p, B_qᵀ⟩ otherwise.
    """
    xi, yi = np.triu_indices(h)
    pair = np.zeros((h, h), dtype=np.int32)
    pair[xi, yi] = pair[yi, xi] = np.arange(xi.size)
    flip = np.arange(h)[:, None] > np.arange(h)[None, :]
    n = upper.shape[1] * upper.shape[2]
    v = upper.reshape(xi.size, n)
    gram_same = v @ v.T  # ⟨B_p, B_q⟩
    gram_flip = v @ jnp.swapaxes(upper, 1, 2).reshape(xi.size, n).T  # ⟨B_p, B_qᵀ⟩
    same = flip[:, :, None, None] == flip[None, None, :, :]
    pp, qq = pair[:, :, None, None], pair[None, None, :, :]
    return jnp.where(same, gram_same[pp, qq], gram_flip[pp, qq])


def _blocks_m(z: jnp.ndarray) -> jnp.ndarray:
    """M_{xy} = z_xᵀ z_y (N₀ × N₀) for x ≤ y, from one (H N₀)² product."""
    p, n0, h = z.shape
    xi, yi = np.triu_indices(h)
    zc = jnp.transpose(z, (0, 2, 1)).reshape(p, h * n0)
    return (zc.T @ zc).reshape(h, n0, h, n0)[xi, :, yi, :]


def _blocks_w(z: jnp.ndarray) -> jnp.ndarray:
    """W_{xy} = z_x z_yᵀ (P' × P') for x ≤ y, from one (H P')² product."""
    p, n0, h = z.shape
    xi, yi = np.triu_indices(h)
    zr = jnp.transpose(z, (2, 0, 1)).reshape(h * p, n0)
    return (zr @ zr.T).reshape(h, p, h, p)[xi, :, yi, :]


def _data_terms(f: EnergyFactors) -> jnp.ndarray:
    """v_{ab} = z_a w_b (H, H, P'), w_a = z_aᵀ C⁻¹Y = X_aᵀ r."""
    w = jnp.einsum("pia,p->ia", f.z, f.y_white)
    return jnp.einsum("pia,ib->abp", f.z, w)


def energy_hessian_from(f: EnergyFactors) -> jnp.ndarray:
    """∂²E/∂U₁∂U₁ over all (row-major) entries of U₁, from whitened inputs z_a = C⁻¹X_a, w_a = z_aᵀ C⁻¹Y.

    With M_{bc} = z_bᵀ z_c (N₀ × N₀), W_{ab} = z_a z_bᵀ (P' × P') and v_{ab} = z_a w_b (P'):

        ⟨M_{bc}, M_{ad}⟩ = Tr(z_cᵀ z_b z_aᵀ z_d) = ⟨W_{ba}, W_{cd}⟩,
        w_cᵀ M_{da} w_b = v_{dc}·v_{ab},   w_aᵀ M_{bc} w_d = v_{ba}·v_{cd}.

    The Gram term is taken over N₀ × N₀ blocks when N₀ ≤ P' and over P' × P' blocks otherwise;
    symmetry (M_{cb} = M_{bc}ᵀ, W_{ba} = W_{ab}ᵀ) halves the blocks that are formed.
    """
    z = f.z
    p, n0, h = z.shape
    if n0 <= p:
        term1 = jnp.transpose(_pair_gram(_blocks_m(z), h), (2, 0, 1, 3))  # [a,b,c,d] = ⟨M_{bc}, M_{ad}⟩
    else:
        term1 = jnp.transpose(_pair_gram(_blocks_w(z), h), (1, 0, 2, 3))  # [a,b,c,d] = ⟨W_{ba}, W_{cd}⟩
    v = _data_terms(f)
    vv = jnp.einsum("abp,cdp->abcd", v, v)  # v_{ab}·v_{cd}
    term2 = jnp.transpose(vv, (2, 3, 1, 0))  # [a,b,c,d] = v_{dc}·v_{ab}
    term3 = jnp.transpose(vv, (1, 0, 2, 3))  # [a,b,c,d] = v_{ba}·v_{cd}
    return (-term1 + term2 + term3).reshape(h * h, h * h)


def energy_hessian(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> jnp.ndarray:
    """∂²E/∂U₁∂U₁ as an (H_tot², H_tot²) matrix over row-major entries of U₁ (closed form above)."""
    f = energy_factors(u1, arrays, temperature)
    return energy_hessian_from(f if f.z is not None else f._replace(z=whiten(f.chol, arrays.xt)))


def _hessian_costs(p: int, n0: int, h: int, prekernels: bool, whitened: bool) -> dict[str, int]:
    """Multiply-adds of the energy Hessian's Gram by route: 'pre' (stored pair kernels: A_p = S⁰_p G
    for every p, then Tr(A_p A_q)), 'w' (P' × P' blocks, symmetric pairs) or 'm' (N₀ × N₀ blocks),
    the latter two with the whitening C⁻¹X̃ when it is not at hand."""
    pairs = h * (h + 1) // 2
    z_cost = 0 if whitened else p * p * n0 * h // 2
    costs = {"w": (h * p) ** 2 * n0 + pairs**2 * p * (p + 1) // 2 + z_cost,
             "m": (h * n0) ** 2 * p + 2 * pairs**2 * n0**2 + z_cost}
    if prekernels:
        costs["pre"] = pairs * p**3 + pairs**2 * p**2 + p**3
    return costs


def _hessian_route(p: int, n0: int, h: int, prekernels: bool, whitened: bool) -> str:
    """The Gram route with the fewest multiply-adds (:func:`_hessian_costs`)."""
    costs = _hessian_costs(p, n0, h, prekernels, whitened)
    return min(costs, key=costs.get)


def energy_gradient_hessian_x_from(f: EnergyFactors, arrays: ProblemArrays,
                                   route: str | None = None) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(∂E/∂x, ∂²E/∂x∂x) over the independent entries x_p, p = (a ≤ b), of U₁ (x_p sets U_ab = U_ba).

    A perturbation dx moves the whitened kernel C⁻¹ K C⁻ᵀ by Σ_p dx_p S_p with S_p = C⁻¹ S⁰_p C⁻ᵀ
    = W_ab + W_ba (a < b), S_aa = W_aa, W_ab = z_a z_bᵀ; so, from dE = Tr(G dK) − rᵀ dK r and
    d²E = −Tr(G dK G dK) + 2 rᵀ dK G dK r,

        ∂E/∂x_p = Tr S_p − s_p·C⁻¹Y,   ∂²E/∂x_p∂x_q = −⟨S_p, S_q⟩_F + 2 s_p·s_q,   s_p = S_p C⁻¹Y
                                                                          (= v_ab + v_ba, v_aa).

    Routes: 'pre' whitens the stored pair kernels S⁰_p (two P'³ products each); 'w' forms S_p from
    the W blocks and takes the Gram over upper triangles only; 'm' projects the full-entry form
    over N₀ × N₀ blocks (for N₀ ≪ P'; the gradient then from Ω).  ``route=None`` takes the one
    with the fewest multiply-adds.
    """
    p, n0, h = arrays.xt.shape
    pre = uses_prekernels(arrays)
    route = route or _hessian_route(p, n0, h, pre, f.z is not None)
    if route == "pre":
        if not pre:
            raise ValueError("route 'pre' needs the problem's pair kernels (make_problem(prekernels=True))")
        # with A_p = S⁰_p G (one product for all p), r = G Y, u_p = S⁰_p r:
        #   Tr S_p = Tr A_p,  ⟨S_p, S_q⟩ = Tr(A_p A_q),  s_p·C⁻¹Y = u_p·r,  s_p·s_q = u_p·G u_q
        c_inv = jsl.solve_triangular(f.chol, jnp.eye(p, dtype=f.chol.dtype), lower=True)
        g_inv = c_inv.T @ c_inv
        r = c_inv.T @ f.y_white
        pre_k = arrays.prekernels
        pairs = pre_k.shape[0]
        a_all = (pre_k.reshape(pairs * p, p) @ g_inv).reshape(pairs, p, p)  # A_p
        gram = a_all.reshape(pairs, p * p) @ jnp.swapaxes(a_all, 1, 2).reshape(pairs, p * p).T
        u = (pre_k.reshape(pairs * p, p) @ r).reshape(pairs, p)
        grad = pre_k.reshape(pairs, p * p) @ g_inv.reshape(p * p) - u @ r  # Tr A_q = ⟨S⁰_q, G⟩
        return grad, -gram + 2.0 * (u @ (u @ g_inv).T)  # A_qᵀ r = G u_q
    z = f.z if f.z is not None else whiten(f.chol, arrays.xt)
    xi, yi = np.triu_indices(h)
    half = jnp.asarray(np.where(xi == yi, 0.5, 1.0))
    v = _data_terms(f._replace(z=z))
    s = (v[xi, yi] + v[yi, xi]) * half[:, None]  # s_p (pairs, P')
    if route == "w":
        w = _blocks_w(z)
        sym = (w + jnp.swapaxes(w, 1, 2)) * half[:, None, None]  # S_p
        iu, ju = np.triu_indices(p)
        weights = jnp.asarray(np.where(iu == ju, 1.0, math.sqrt(2.0)))
        flat = sym[:, iu, ju] * weights  # ⟨S_p, S_q⟩ = flat_p · flat_q
        gram = flat @ flat.T
        grad = jnp.trace(sym, axis1=1, axis2=2) - s @ f.y_white
    elif route == "m":
        full = jnp.transpose(_pair_gram(_blocks_m(z), h), (2, 0, 1, 3))  # [a,b,c,d] = ⟨M_bc, M_ad⟩
        gram = (full[xi, yi] + full[yi, xi]) * half[:, None, None]
        gram = (gram[:, xi, yi] + gram[:, yi, xi]) * half[None, :]
        grad = upper_gradient(energy_gradient_from(f._replace(z=z)))
    else:
        raise ValueError(f"route must be 'pre', 'w' or 'm', not {route!r}")
    return grad, -gram + 2.0 * (s @ s.T)


def value_gradient_hessian_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout,
                             factors: EnergyFactors | None = None):
    """(S, ∂S/∂x, ∂²S/∂x²) of the normalised action over the independent entries of (U₁, …, U_L).

    The energy's value, gradient and Hessian share one Cholesky factorisation and one triangular
    solve (``factors``, when already computed at x); the entropy's (small matrices, one Cholesky
    each) are in closed form (:func:`._entropy.entropy_value_gradient_hessian_x`).
    """
    n_max = _n_max(hyper)
    s_ent, g_ent, h_ent = entropy_value_gradient_hessian_x(x_to_U(x, layout), layout.heads, hyper)
    n1, f = _energy_factors_x(x, arrays, hyper, layout) if factors is None else (_n_first(layout), factors)
    g_e, h_e = energy_gradient_hessian_x_from(f, arrays)
    g = g_ent.at[:n1].add(g_e)
    h = h_ent.at[:n1, :n1].add(h_e)
    return (f.value + s_ent) / n_max, g / n_max, h / n_max

# ------------------------------------------------------------------------------------------
# derivatives over θ (chain rule through x = theta_to_x(θ)) and the Hessian diagnostics


class _Derivs(NamedTuple):
    """Everything Newton needs at one point θ (the Hessians possibly from an earlier point: chord steps, :mod:`._newton`)."""

    value: jnp.ndarray
    residual: jnp.ndarray  # max |∂S/∂U|
    g_theta: jnp.ndarray
    h_theta: jnp.ndarray
    h_x: jnp.ndarray  # ∂²S/∂x² over the independent entries (for the reported eigenvalues)
    h_residual: jnp.ndarray  # the residual where the Hessians were evaluated


def _theta_value_grad_hess(theta, arrays, hyper, layout, factors: EnergyFactors | None = None) -> _Derivs:
    """S, max |∂S/∂U|, ∂S/∂θ, ∂²S/∂θ² and ∂²S/∂x² at θ (chain rule through x = theta_to_x(θ))."""
    x_of = functools.partial(theta_to_x, layout=layout)
    value, g_x, h_x = value_gradient_hessian_x(x_of(theta), arrays, hyper, layout, factors)
    jac = jax.jacfwd(x_of)(theta)  # square: θ ↦ x is a bijection onto positive-definite U
    g_theta = jac.T @ g_x
    g_fixed = jax.lax.stop_gradient(g_x)
    h_curv = jax.hessian(lambda t: g_fixed @ x_of(t))(theta)
    h_theta = jac.T @ h_x @ jac + h_curv
    residual = residual_of(g_x, layout)
    return _Derivs(value, residual, g_theta, 0.5 * (h_theta + h_theta.T), h_x, residual)


def _theta_value_grad(theta, arrays, hyper, layout, factors: EnergyFactors | None = None
                      ) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """S, max |∂S/∂U| and ∂S/∂θ at θ (no Hessian)."""
    x, vjp = jax.vjp(lambda t: theta_to_x(t, layout), theta)
    value, g_x = value_and_gradient_x(x, arrays, hyper, layout, factors)
    return value, residual_of(g_x, layout), vjp(g_x)[0]

def _hessian_extremes(h_x: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Smallest and largest eigenvalue of the Hessian over the independent entries of the U_ℓ."""
    eig = jnp.linalg.eigvalsh(0.5 * (h_x + h_x.T))
    return eig[0], eig[-1]


@functools.partial(jax.jit, static_argnames=("layout",))
def _diagnostics(theta, arrays, hyper, layout: Layout):
    value, g_x, h_x = value_gradient_hessian_x(theta_to_x(theta, layout), arrays, hyper, layout)
    return jnp.stack((value, residual_of(g_x, layout)) + _hessian_extremes(h_x))

