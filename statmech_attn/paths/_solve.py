"""Saddle-point solvers for the attention-path order parameters (§6).

The minimisation runs over {U_ℓ} in an unconstrained parametrisation that keeps every U_ℓ
positive definite: U_ℓ = L_ℓ L_ℓᵀ with L_ℓ lower triangular and its diagonal stored as a log.

- ``newton`` (default): Levenberg–Marquardt-damped Newton steps with a backtracking line search
  and Hessian reuse (chord steps) once the residual contracts fast.  The Hessian is exact: the
  energy block in closed form (below), the entropy block by autodiff, chained through the
  parametrisation.  Quadratic convergence near the minimum.
- ``adam``: first-order baseline (optax Adam on the same parametrisation and the same gradient).
- ``fixed_point``: damped, Anderson-accelerated iteration of the derived map U = F(U)
  (``statmech_attn.paths._fixed_point``).

Derivatives are taken over the independent entries x of the U_ℓ (upper triangles; x_p sets
U_ab = U_ba).  Energy Hessian: with G = (K + T I)⁻¹ = C⁻ᵀC⁻¹, r = G Y, a perturbation dx moves
K by Σ_p dx_p S⁰_p (S⁰_ab = X_aX_bᵀ + X_bX_aᵀ, S⁰_aa = X_aX_aᵀ, X_a := X̃[:, :, a]), so from
d²E = −Tr(G dK G dK) + 2 rᵀ dK G dK r,

    ∂²E/∂x_p∂x_q = −⟨S_p, S_q⟩_F + 2 s_p·s_q,    S_p = C⁻¹ S⁰_p C⁻ᵀ,  s_p = S_p C⁻¹Y

(:func:`energy_gradient_hessian_x_from`; the full-entry form over all entries of U₁ is
:func:`energy_hessian_from`).

Every solver returns a :class:`~statmech_attn.Solution` whose ``residual`` is max |∂S/∂U| (the
symmetric-matrix gradient of the N_max-normalised action) and whose ``stats`` carry the smallest
eigenvalue of the Hessian over the independent entries of the U_ℓ.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any, Literal, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import optax

from .._solution import Result, Solution, SolverError
from ..errors import InputError
from ._action import (EnergyFactors, OrderParameters, PathsProblem, ProblemArrays, action_from, energy_factors,
                      energy_gradient_from, energy_gradient_x_from, entropy, gradient_costs, order_parameters, upper_gradient,
                      uses_prekernels, whiten)
from ._model import Hyper

SolverName = Literal["newton", "adam", "fixed_point"]

# status codes used inside compiled loops
_RUNNING, _CONVERGED, _MAX_STEPS, _NONFINITE, _DIVERGED = 0, 1, 2, 3, 4
_CODE_TO_RESULT = {
    _CONVERGED: Result.converged,
    _MAX_STEPS: Result.max_steps,
    _NONFINITE: Result.nonfinite,
    _DIVERGED: Result.diverged,
    _RUNNING: Result.max_steps,
}


# ------------------------------------------------------------------------------------------
# parametrisation U_ℓ = L_ℓ L_ℓᵀ, diag(L_ℓ) = exp(θ_diag)


class Layout(NamedTuple):
    """Static index bookkeeping for a given architecture (hashable: used as a jit static arg)."""

    heads: tuple[int, ...]
    dims: tuple[int, ...]

    @property
    def n_theta(self) -> int:
        return sum(d * (d + 1) // 2 for d in self.dims)

    @property
    def n_full(self) -> int:
        return sum(d * d for d in self.dims)


def layout_of(heads: Sequence[int]) -> Layout:
    heads = tuple(int(h) for h in heads)
    dims = tuple(math.prod(heads[l:]) for l in range(len(heads)))
    return Layout(heads, dims)


def unpack(theta: jnp.ndarray, layout: Layout) -> tuple[jnp.ndarray, ...]:
    """θ ↦ (U₁, …, U_L), U_ℓ = L_ℓ L_ℓᵀ (positive definite for every θ)."""
    out = []
    k = 0
    for d in layout.dims:
        n = d * (d + 1) // 2
        rows, cols = np.tril_indices(d)
        vals = theta[k:k + n]
        diag = rows == cols
        vals = jnp.where(jnp.asarray(diag), jnp.exp(vals), vals)
        lower = jnp.zeros((d, d), dtype=theta.dtype).at[rows, cols].set(vals)
        out.append(lower @ lower.T)
        k += n
    return tuple(out)


def pack_np(U: Sequence[np.ndarray], layout: Layout) -> np.ndarray:
    """(U₁, …, U_L) ↦ θ (inverse of :func:`unpack`; Cholesky of each U_ℓ), on the host (NumPy)."""
    parts = []
    for u, d in zip(U, layout.dims):
        u = np.asarray(u, dtype=np.float64)
        c = np.linalg.cholesky(0.5 * (u + u.T))
        rows, cols = np.tril_indices(d)
        vals = c[rows, cols]
        parts.append(np.where(rows == cols, np.log(np.where(rows == cols, vals, 1.0)), vals))
    return np.concatenate(parts)


def unpack_np(theta: np.ndarray, layout: Layout) -> tuple[np.ndarray, ...]:
    """:func:`unpack` on the host (NumPy)."""
    theta = np.asarray(theta, dtype=np.float64)
    out, k = [], 0
    for d in layout.dims:
        n = d * (d + 1) // 2
        rows, cols = np.tril_indices(d)
        vals = theta[k:k + n]
        lower = np.zeros((d, d))
        lower[rows, cols] = np.where(rows == cols, np.exp(np.where(rows == cols, vals, 0.0)), vals)
        out.append(lower @ lower.T)
        k += n
    return tuple(out)


def flatten_U(U: Sequence[jnp.ndarray]) -> jnp.ndarray:
    return jnp.concatenate([u.reshape(-1) for u in U])


def unflatten_U(u: jnp.ndarray, layout: Layout) -> tuple[jnp.ndarray, ...]:
    out, k = [], 0
    for d in layout.dims:
        out.append(u[k:k + d * d].reshape(d, d))
        k += d * d
    return tuple(out)


def symmetric_basis(layout: Layout) -> np.ndarray:
    """Matrix mapping the independent (upper-triangular) entries of every U_ℓ to all entries."""
    cols = []
    offset = 0
    for d in layout.dims:
        for a in range(d):
            for b in range(a, d):
                v = np.zeros(layout.n_full)
                v[offset + a * d + b] = 1.0
                v[offset + b * d + a] = 1.0
                cols.append(v)
        offset += d * d
    return np.stack(cols, axis=1)


# ------------------------------------------------------------------------------------------
# derivatives over the independent entries x = (upper triangles of U₁, …, U_L)


def x_multiplicity(layout: Layout) -> np.ndarray:
    """How many entries of U each independent entry sets: 1 on a diagonal, 2 off it (x order)."""
    return np.concatenate([np.where(r == c, 1.0, 2.0) for r, c in (np.triu_indices(d) for d in layout.dims)])


def x_to_U(x: jnp.ndarray, layout: Layout) -> tuple[jnp.ndarray, ...]:
    """Independent entries (row-major upper triangles, layer 1 first) ↦ symmetric (U₁, …, U_L)."""
    out, k = [], 0
    for d in layout.dims:
        rows, cols = np.triu_indices(d)
        n = rows.size
        out.append(jnp.zeros((d, d), dtype=x.dtype).at[rows, cols].set(x[k:k + n]).at[cols, rows].set(x[k:k + n]))
        k += n
    return tuple(out)


def U_to_x(U: Sequence[jnp.ndarray]) -> jnp.ndarray:
    """(U₁, …, U_L) ↦ their independent entries (row-major upper triangles)."""
    return jnp.concatenate([u[np.triu_indices(u.shape[0])] for u in U])


def theta_to_x(theta: jnp.ndarray, layout: Layout) -> jnp.ndarray:
    """θ ↦ x, the independent entries of U_ℓ = L_ℓ L_ℓᵀ."""
    return U_to_x(unpack(theta, layout))


def _action_flat(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    """S over all entries of (U₁, …, U_L) flattened, each U symmetrised first (the symmetric convention)."""
    U = unflatten_U(u, layout)
    U = tuple(0.5 * (m + m.T) for m in U)
    return action_from(U, arrays, layout.heads, hyper)


def _action_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    return action_from(x_to_U(x, layout), arrays, layout.heads, hyper)


def _entropy_x(x: jnp.ndarray, hyper: Hyper, layout: Layout, assume_pd: bool = False) -> jnp.ndarray:
    return entropy(x_to_U(x, layout), layout.heads, hyper, assume_pd=assume_pd)


def _n_max(hyper: Hyper) -> jnp.ndarray:
    return jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)


def _n_first(layout: Layout) -> int:
    """Number of independent entries of U₁ (they come first in x)."""
    return layout.dims[0] * (layout.dims[0] + 1) // 2


def _energy_factors_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> tuple[int, EnergyFactors]:
    """(number of independent entries of U₁, the energy factors at the U₁ those entries set)."""
    n1 = _n_first(layout)
    u1 = x_to_U(x[:n1], layout._replace(dims=layout.dims[:1]))[0]
    return n1, energy_factors(u1, arrays, hyper.temperature)


def value_and_gradient_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout,
                         factors: EnergyFactors | None = None) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S, ∂S/∂x) over the independent entries: energy part in closed form (Ω), entropy by autodiff.

    ``factors``: the energy factors at x when already computed (:func:`_energy_factors_x`)."""
    s_ent, g_ent = jax.value_and_grad(_entropy_x)(x, hyper, layout)
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


def chord_steps_pay(arrays: ProblemArrays) -> bool:
    """Whether reusing a Hessian pays: when the energy Hessian's Gram costs at least
    ``CHORD_MIN_COST_RATIO`` energy gradients (otherwise every Newton step takes a fresh Hessian)."""
    p, n0, h = arrays.xt.shape
    pre = uses_prekernels(arrays)
    hess = min(_hessian_costs(p, n0, h, pre, not pre).values())
    return hess >= CHORD_MIN_COST_RATIO * gradient_costs(p, n0, h)["pre" if pre else "plain"]


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
    solve (``factors``, when already computed at x); the entropy (small matrices) is differentiated
    by autodiff.
    """
    n_max = _n_max(hyper)
    s_ent, g_ent = jax.value_and_grad(_entropy_x)(x, hyper, layout)
    h_ent = jax.hessian(_entropy_x)(x, hyper, layout, True)
    n1, f = _energy_factors_x(x, arrays, hyper, layout) if factors is None else (_n_first(layout), factors)
    g_e, h_e = energy_gradient_hessian_x_from(f, arrays)
    g = g_ent.at[:n1].add(g_e)
    h = h_ent.at[:n1, :n1].add(h_e)
    return (f.value + s_ent) / n_max, g / n_max, h / n_max


# ------------------------------------------------------------------------------------------
# Newton (Levenberg–Marquardt damped, backtracking) in a compiled loop


class _Derivs(NamedTuple):
    """Everything Newton needs at one point θ (the Hessians possibly from an earlier point, see below)."""

    value: jnp.ndarray
    residual: jnp.ndarray  # max |∂S/∂U|
    g_theta: jnp.ndarray
    h_theta: jnp.ndarray
    h_x: jnp.ndarray  # ∂²S/∂x² over the independent entries (for the reported eigenvalues)
    h_residual: jnp.ndarray  # the residual where the Hessians were evaluated


class _NewtonState(NamedTuple):
    theta: jnp.ndarray
    d: _Derivs  # derivatives at theta (meaningless until the first evaluation)
    lam: jnp.ndarray
    it: jnp.ndarray  # Newton steps tried (accepted or not)
    n_rejected: jnp.ndarray  # full Newton steps that were not accepted
    backtrack: jnp.ndarray  # the last full step failed: halve it on the action next
    status: jnp.ndarray
    chord: jnp.ndarray  # the last step contracted the residual by ≤ CHORD_CONTRACTION: keep the Hessian
    n_hessians: jnp.ndarray  # Hessian evaluations
    refresh: jnp.ndarray  # converged after chord steps: evaluate the Hessian at this point (no step)

    @property
    def value(self) -> jnp.ndarray:
        return self.d.value

    @property
    def residual(self) -> jnp.ndarray:
        return self.d.residual


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


CHORD_CONTRACTION = 0.1  # reuse the Hessian after a step that shrank the residual at least this much
CHORD_MIN_COST_RATIO = 4  # ... and only where a Hessian costs at least this many gradients


def _newton_loop(theta0, arrays, hyper, layout: Layout, tol, max_steps) -> _NewtonState:
    """Levenberg–Marquardt-damped Newton on θ, one derivative evaluation per step.

    Each step solves (∂²S/∂θ² + λ I) δ = −∂S/∂θ (λ the smallest value, from the current one
    upwards, that makes the matrix positive definite) and evaluates S at θ + δ, then its derivatives
    from the same Cholesky factor only if S decreased sufficiently (a rejected trial costs a value).
    If S decreased sufficiently (Armijo, with a round-off slack) the step is taken and λ divided by
    10 (set to 0 once negligible). Otherwise the next step halves δ on S alone (cheap: no
    derivatives) until it is sufficient and takes derivatives there, λ kept; if no fraction works θ
    stays and λ is multiplied by 10. Near the minimum every full Newton step is accepted, so
    convergence is quadratic and no line-search evaluation is spent. The derivatives appear once in
    the compiled loop (the first pass evaluates them at θ₀), which keeps compilation short.

    Hessian reuse (Shamanskii / chord steps), where a Hessian costs at least
    ``CHORD_MIN_COST_RATIO`` gradients: after an accepted step that shrank the residual by at
    least ``CHORD_CONTRACTION``, the next trial point gets its gradient only, and the step from it
    reuses the last Hessian; each such step costs one gradient instead of one Hessian and, in the
    quadratic regime, contracts the residual about as much as the step before it.  A chord step
    that contracts less is followed by a fresh Hessian.  When the residual reaches ``tol`` after
    chord steps, one more pass evaluates the Hessian at that point (no step), so that the reported
    eigenvalues are those of the Hessian at the returned solution.
    """
    derivs = functools.partial(_theta_value_grad_hess, arrays=arrays, hyper=hyper, layout=layout)
    value_grad = functools.partial(_theta_value_grad, arrays=arrays, hyper=hyper, layout=layout)
    use_chord = chord_steps_pay(arrays)  # static: from the shapes

    def value_at(theta):
        return _action_x(theta_to_x(theta, layout), arrays, hyper, layout)

    def finite(e: _Derivs):
        return jnp.isfinite(e.value) & jnp.isfinite(e.residual) & jnp.all(jnp.isfinite(e.h_theta))

    def body(state: _NewtonState) -> _NewtonState:
        # a pass that takes no step: θ₀'s first evaluation, or the Hessian at the converged point
        first = (state.it < 0) | state.refresh
        d = state.d
        n = d.g_theta.shape[0]
        eye = jnp.eye(n)
        scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(d.h_theta))), 1e-12)

        # smallest λ (from the current one upwards) that makes H + λ I positive definite
        def chol_cond(c):
            lam, chol, k = c
            return jnp.logical_and(~jnp.all(jnp.isfinite(chol)), k < 60)

        def chol_body(c):
            lam, _, k = c
            lam = jnp.where(lam == 0, 1e-10 * scale, lam * 10.0)
            return lam, jnp.linalg.cholesky(d.h_theta + lam * eye), k + 1

        chol0 = jnp.linalg.cholesky(d.h_theta + state.lam * eye)
        lam, chol, _ = jax.lax.while_loop(chol_cond, chol_body, (state.lam, chol0, 0))
        step = jnp.where(first, 0.0, -jsl.cho_solve((chol, True), d.g_theta))
        slope = d.g_theta @ step

        def sufficient(v, t):  # Armijo, with a slack for round-off near the minimum
            return jnp.isfinite(v) & (v <= d.value + 1e-4 * t * slope + 1e-13 * jnp.abs(d.value))

        def backtrack(_):
            def ls_cond(c):
                t, v, k = c
                return (~sufficient(v, t)) & (k < 30)

            def ls_body(c):
                t, _, k = c
                t = 0.5 * t
                return t, value_at(state.theta + t * step), k + 1

            t, v, k = jax.lax.while_loop(ls_cond, ls_body, (jnp.asarray(1.0), jnp.asarray(jnp.inf), 0))
            return jnp.where(sufficient(v, t) & (k < 30), t, 0.0)

        t = jax.lax.cond(state.backtrack & ~first, backtrack, lambda _: jnp.asarray(1.0), None)

        # the trial point's value first (one Cholesky, kept for its derivatives): a point that fails
        # the Armijo test is rejected without its gradient and Hessian
        point = state.theta + t * step
        x_point = theta_to_x(point, layout)
        _, f_point = _energy_factors_x(x_point, arrays, hyper, layout)
        value_point = (f_point.value + _entropy_x(x_point, hyper, layout)) / _n_max(hyper)
        worth = first | ((t > 0) & sufficient(value_point, t))

        def full(point, f):
            return derivs(point, factors=f)

        def chord(point, f):  # gradient only: the next step reuses this Hessian
            value, residual, g_theta = value_grad(point, factors=f)
            return d._replace(value=value, residual=residual, g_theta=g_theta)

        def rejected(point, f):
            return d._replace(value=value_point, residual=jnp.asarray(jnp.inf, d.residual.dtype))

        if use_chord:
            reuse = state.chord & ~first
            branch = jnp.where(worth, jnp.where(reuse, 1, 2), 0)
            trial = jax.lax.switch(branch, (rejected, chord, full), point, f_point)
        else:
            reuse = jnp.asarray(False)
            trial = jax.lax.cond(worth, full, rejected, point, f_point)
        accepted = first | ((t > 0) & finite(trial) & sufficient(trial.value, t))
        full_failed = ~accepted & ~state.backtrack  # a full step failed: backtrack next time, same λ
        theta = jnp.where(accepted, state.theta + t * step, state.theta)
        d_next = jax.tree_util.tree_map(lambda new, old: jnp.where(accepted, new, old), trial, d)
        lam_next = jnp.where(first, state.lam,
                             jnp.where(accepted, jnp.where(state.backtrack, lam, lam / 10.0),
                                       jnp.where(full_failed, lam, jnp.where(lam == 0, 1e-6 * scale, lam * 10.0))))
        lam_next = jnp.where(lam_next < 1e-14 * scale, 0.0, lam_next)
        residual = d_next.residual
        stale = d_next.h_residual != residual  # the Hessian was evaluated elsewhere (chord steps)
        status = jnp.where((residual <= tol) & ~stale, _CONVERGED, _RUNNING)
        status = jnp.where(first & ~finite(trial), _NONFINITE, status)
        status = jnp.where(lam_next > 1e20 * scale, _DIVERGED, status)
        chord_next = accepted & ~first & (d_next.residual <= CHORD_CONTRACTION * d.residual)
        refresh = (status == _RUNNING) & (residual <= tol) & stale
        return _NewtonState(theta, d_next, lam_next, state.it + (~state.refresh),
                            state.n_rejected + (~first & ~accepted & ~state.backtrack), full_failed, status, chord_next,
                            state.n_hessians + (worth & ~reuse), refresh)

    def cond(state: _NewtonState):
        return (state.status == _RUNNING) & ((state.it < max_steps) | state.refresh)

    n = layout.n_theta
    zero = jnp.zeros((), theta0.dtype)
    d0 = _Derivs(zero, zero, jnp.zeros(n, theta0.dtype), jnp.eye(n, dtype=theta0.dtype), jnp.zeros((n, n), theta0.dtype), zero)
    init = _NewtonState(theta0, d0, zero, jnp.asarray(-1), jnp.asarray(0), jnp.asarray(False), jnp.asarray(_RUNNING),
                        jnp.asarray(False), jnp.asarray(0), jnp.asarray(False))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


@functools.partial(jax.jit, static_argnames=("layout",))
def _newton_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps):
    final = _newton_loop(theta0, arrays, hyper, layout, tol, max_steps)
    return final, newton_summary(final)


# ------------------------------------------------------------------------------------------
# Adam baseline


class _AdamState(NamedTuple):
    theta: jnp.ndarray
    opt: Any
    it: jnp.ndarray
    residual: jnp.ndarray
    value: jnp.ndarray
    status: jnp.ndarray
    it_target: jnp.ndarray  # first iteration whose action was ≤ target (−1: not yet)


@functools.partial(jax.jit, static_argnames=("layout", "learning_rate", "stop_at_target"))
def _adam_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps, learning_rate: float, target, stop_at_target: bool = True):
    opt = optax.adam(learning_rate)

    grads = functools.partial(_theta_value_grad, arrays=arrays, hyper=hyper, layout=layout)

    def body(s: _AdamState) -> _AdamState:
        value, residual, g_theta = grads(s.theta)
        updates, opt_state = opt.update(g_theta, s.opt)
        theta = optax.apply_updates(s.theta, updates)
        hit = value <= target
        it_target = jnp.where((s.it_target < 0) & hit, s.it, s.it_target)
        status = jnp.where(~jnp.isfinite(value), _NONFINITE, _RUNNING)
        status = jnp.where(jnp.logical_or(residual <= tol, hit & stop_at_target), _CONVERGED, status)
        theta = jnp.where(status == _RUNNING, theta, s.theta)
        return _AdamState(theta, opt_state, s.it + 1, residual, value, status, it_target)

    def cond(s: _AdamState):
        return jnp.logical_and(s.status == _RUNNING, s.it < max_steps)

    init = _AdamState(theta0, opt.init(theta0), jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(jnp.inf), jnp.asarray(_RUNNING),
                      jnp.asarray(-1))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


# ------------------------------------------------------------------------------------------
# diagnostics and the public entry point


def _hessian_extremes(h_x: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Smallest and largest eigenvalue of the Hessian over the independent entries of the U_ℓ."""
    eig = jnp.linalg.eigvalsh(0.5 * (h_x + h_x.T))
    return eig[0], eig[-1]


@functools.partial(jax.jit, static_argnames=("layout",))
def _diagnostics(theta, arrays, hyper, layout: Layout):
    value, g_x, h_x = value_gradient_hessian_x(theta_to_x(theta, layout), arrays, hyper, layout)
    return jnp.stack((value, residual_of(g_x, layout)) + _hessian_extremes(h_x))


def newton_summary(final: _NewtonState) -> jnp.ndarray:
    """(S, residual, λ_min, λ_max) at a converged Newton iterate, from the loop's last derivatives."""
    eig_min, eig_max = _hessian_extremes(final.d.h_x)
    return jnp.stack([final.value, final.residual, eig_min, eig_max])


def _initial_theta(problem: PathsProblem, init: Any, layout: Layout) -> np.ndarray:
    """θ of the warm start (default the GP point), checked and packed on the host."""
    if init is None:  # U_ℓ = c_ℓ I: L_ℓ = √c_ℓ I, so θ is ½ ln c_ℓ on the diagonal and 0 off it
        m = problem.model
        parts = []
        for l, d in enumerate(layout.dims):
            rows, cols = np.tril_indices(d)
            c = m.sigma2_readout * float(np.prod(m.sigma2_layers[l:]))
            parts.append(np.where(rows == cols, 0.5 * math.log(c), 0.0))
        return np.concatenate(parts)
    U = init.U if isinstance(init, OrderParameters) else tuple(init)
    if len(U) != len(layout.dims):
        raise InputError("init", f"{len(U)} matrices", f"must give one U per layer (L = {len(layout.dims)})")
    for l, (u, d) in enumerate(zip(U, layout.dims)):
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (d, d):
            raise InputError(f"init.U[{l}]", f"shape {u.shape}", f"must be ({d}, {d})")
        if not np.all(np.isfinite(u)):
            raise InputError(f"init.U[{l}]", "NaN/inf", "must be finite")
        try:
            np.linalg.cholesky(0.5 * (u + u.T))
        except np.linalg.LinAlgError:
            raise InputError(f"init.U[{l}]", "matrix", "must be symmetric positive definite") from None
    return pack_np(U, layout)


def finish(theta: jnp.ndarray, problem: PathsProblem, layout: Layout, *, status: int, iterations: int,
           solver: str, wall: float, extra: dict | None = None, tol: float,
           known: Any = None) -> Solution[OrderParameters]:
    """Turn a final θ into a :class:`Solution` with the residual and Hessian diagnostics.

    ``known`` = (S, residual, λ_min, λ_max) already evaluated at θ by the solver (Newton's last
    iteration, :func:`newton_summary`); otherwise they are evaluated here.
    """
    hyper = problem.model.hyper()
    if known is None:
        known = _diagnostics(theta, problem.arrays, hyper, layout)
    value, residual, eig_min, eig_max = (float(v) for v in np.asarray(known))
    theta = np.asarray(theta)
    U = unpack_np(theta, layout)
    result = _CODE_TO_RESULT[int(status)]
    finite = all(math.isfinite(v) for v in (value, residual)) and bool(np.all(np.isfinite(theta)))
    if not finite:
        result = Result.nonfinite
    elif result is Result.converged and residual > tol:
        result = Result.max_steps
    if result is Result.converged and math.isfinite(eig_min) and eig_min < -1e-8 * max(abs(eig_max), 1.0):
        result = Result.not_a_minimum
    stats = {"solver": solver, "wall_time_s": wall, "min_hessian_eigenvalue": eig_min,
             "max_hessian_eigenvalue": eig_max, "n_parameters": layout.n_theta, "alpha": problem.alpha}
    stats.update(extra or {})
    return Solution(value=order_parameters(U, problem.model), result=result, residual=residual,
                    iterations=int(iterations), action=value, stats=stats)


def solve(problem: PathsProblem, *, solver: SolverName = "newton", max_steps: int | None = None,
          tol: float = 1e-10, throw: bool = True, init: Any = None, learning_rate: float = 1e-2,
          target_action: float | None = None, stop_at_target: bool = True,
          **fixed_point_options: Any) -> Solution[OrderParameters]:
    """Solve the saddle-point equations ∂S/∂U_ℓ = 0 (§6) for the minimiser of S.

    Args:
        problem: from :func:`make_problem`.
        solver: ``newton`` (second order, default), ``adam`` (first-order baseline) or
            ``fixed_point`` (damped/Anderson iteration of the derived map).
        max_steps: iteration cap (default 200 Newton, 200 000 Adam, 5000 fixed point).
        tol: convergence when max |∂S/∂U| ≤ tol (S normalised by N_max).
        throw: raise :class:`SolverError` (carrying the Solution) unless converged.
        init: warm start: an :class:`OrderParameters` or a tuple of U (layer 1 first); default the
            GP point.
        learning_rate: Adam's step size.
        target_action: Adam only: also stop once S ≤ this value (benchmarks); ``stats`` record
            ``iterations_to_target_action``, the first iteration at which S ≤ target_action (−1: never).
        stop_at_target: Adam only: ``False`` records that iteration but runs on to ``tol``.

    Returns:
        ``Solution[OrderParameters]``; ``stats`` holds ``min_hessian_eigenvalue`` (over the
        independent entries of the U_ℓ), wall time, solver name.
    """
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise InputError("solver.tol", tol, "must be > 0")
    layout = layout_of(problem.model.heads)
    theta0 = _initial_theta(problem, init, layout)
    hyper = problem.model.hyper()
    t0 = time.perf_counter()
    if solver == "newton":
        steps = 200 if max_steps is None else int(max_steps)
        final, summary = _newton_jit(theta0, problem.arrays, hyper, layout, tol, steps)
        theta, status, its, lam, rejected, n_hess, summary = jax.device_get(
            (final.theta, final.status, final.it, final.lam, final.n_rejected, final.n_hessians, summary))  # one transfer
        status = int(status)
        known = summary if status == _CONVERGED else None
        sol = finish(theta, problem, layout, status=status, iterations=int(its), solver="newton",
                     wall=time.perf_counter() - t0, tol=tol, known=known,
                     extra={"lm_damping": float(lam), "rejected_steps": int(rejected), "hessian_evaluations": int(n_hess)})
    elif solver == "adam":
        steps = 200_000 if max_steps is None else int(max_steps)
        target = -jnp.inf if target_action is None else float(target_action)
        stop = bool(stop_at_target) and target_action is not None
        final = _adam_jit(theta0, problem.arrays, hyper, layout, tol, steps, float(learning_rate), target, stop)
        jax.block_until_ready(final.theta)
        status = int(final.status)
        if status == _CONVERGED and float(final.residual) > tol:
            status = _CONVERGED if stop else _MAX_STEPS
        sol = finish(final.theta, problem, layout, status=status, iterations=int(final.it), solver="adam",
                     wall=time.perf_counter() - t0, tol=tol if not stop else math.inf,
                     extra={"learning_rate": learning_rate, "iterations_to_target_action": int(final.it_target)})
    elif solver == "fixed_point":
        from ._fixed_point import solve_fixed_point

        steps = 5000 if max_steps is None else int(max_steps)
        sol = solve_fixed_point(problem, max_steps=steps, tol=tol, init=init, throw=False, **fixed_point_options)
    else:
        raise InputError("solver.method", solver, "must be one of 'newton', 'adam', 'fixed_point'")
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
