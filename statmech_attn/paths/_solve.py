"""Saddle-point solvers for the attention-path order parameters (§6).

The minimisation runs over {U_ℓ} in an unconstrained parametrisation that keeps every U_ℓ
positive definite: U_ℓ = L_ℓ L_ℓᵀ with L_ℓ lower triangular and its diagonal stored as a log.

- ``newton`` (default): Levenberg–Marquardt-damped Newton steps with a backtracking line search.
  The Hessian is exact: the energy block ∂²E/∂U₁∂U₁ in closed form (below), the entropy block by
  autodiff, chained through the parametrisation.  Quadratic convergence near the minimum.
- ``adam``: first-order baseline (optax Adam on the same parametrisation).
- ``fixed_point``: damped, Anderson-accelerated iteration of the derived map U = F(U)
  (``statmech_attn.paths._fixed_point``).

Energy Hessian.  With G = (K + T I)⁻¹, r = G Y, X_a := X̃[:, :, a] (P × N₀),
M_{bc} := X_bᵀ G X_c (N₀ × N₀), w_a := X_aᵀ r:

    ∂²E/∂U_{ab}∂U_{cd} = −Σ_{ij} (M_{bc})_{ij} (M_{ad})_{ij} + w_cᵀ M_{da} w_b + w_aᵀ M_{bc} w_d,

from d²E = −Tr(G dK₂ G dK₁) + rᵀ dK₁ G dK₂ r + rᵀ dK₂ G dK₁ r, dK = Σ_i X̃_i dU X̃_iᵀ.

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
                      energy_gradient_from, energy_value_and_gradient, entropy, order_parameters)
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


def pack(U: Sequence[jnp.ndarray], layout: Layout) -> jnp.ndarray:
    """(U₁, …, U_L) ↦ θ (inverse of :func:`unpack`; Cholesky of each U_ℓ)."""
    parts = []
    for u, d in zip(U, layout.dims):
        c = jnp.linalg.cholesky(0.5 * (u + u.T))
        rows, cols = np.tril_indices(d)
        vals = c[rows, cols]
        vals = jnp.where(jnp.asarray(rows == cols), jnp.log(vals), vals)
        parts.append(vals)
    return jnp.concatenate(parts)


def flatten_U(U: Sequence[jnp.ndarray]) -> jnp.ndarray:
    return jnp.concatenate([u.reshape(-1) for u in U])


def unflatten_U(u: jnp.ndarray, layout: Layout) -> tuple[jnp.ndarray, ...]:
    out, k = [], 0
    for d in layout.dims:
        out.append(u[k:k + d * d].reshape(d, d))
        k += d * d
    return tuple(out)


@functools.lru_cache(maxsize=32)
def symmetric_basis_jnp(layout: Layout) -> jnp.ndarray:
    """:func:`symmetric_basis` as a (cached) device array."""
    return jnp.asarray(symmetric_basis(layout))


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
# derivatives


def _action_flat(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    U = unflatten_U(u, layout)
    U = tuple(0.5 * (m + m.T) for m in U)
    return action_from(U, arrays, layout.heads, hyper)


def _entropy_flat(u: jnp.ndarray, hyper: Hyper, layout: Layout, assume_pd: bool = False) -> jnp.ndarray:
    U = unflatten_U(u, layout)
    U = tuple(0.5 * (m + m.T) for m in U)
    return entropy(U, layout.heads, hyper, assume_pd=assume_pd)


def value_and_gradient_U(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S, ∂S/∂U) over the flattened entries: energy part in closed form (Ω), entropy by autodiff."""
    n_max = jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)
    s_ent, g_ent = jax.value_and_grad(_entropy_flat)(u, hyper, layout)
    d1 = layout.dims[0]
    u1 = u[: d1 * d1].reshape(d1, d1)
    e, omega = energy_value_and_gradient(0.5 * (u1 + u1.T), arrays, hyper.temperature)
    g = g_ent.at[: d1 * d1].add(omega.reshape(-1))
    return (e + s_ent) / n_max, g / n_max


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


def energy_hessian_from(f: EnergyFactors) -> jnp.ndarray:
    """∂²E/∂U₁∂U₁ (closed form above) from whitened inputs z_a = C⁻¹X_a (P' × N₀), w_a = z_aᵀ C⁻¹Y.

    With M_{bc} = z_bᵀ z_c (N₀ × N₀), W_{ab} = z_a z_bᵀ (P' × P') and v_{ab} = z_a w_b (P'):

        ⟨M_{bc}, M_{ad}⟩ = Tr(z_cᵀ z_b z_aᵀ z_d) = ⟨W_{ba}, W_{cd}⟩,
        w_cᵀ M_{da} w_b = v_{dc}·v_{ab},   w_aᵀ M_{bc} w_d = v_{ba}·v_{cd}.

    The Gram term is taken over N₀ × N₀ blocks when N₀ ≤ P' and over P' × P' blocks otherwise;
    symmetry (M_{cb} = M_{bc}ᵀ, W_{ba} = W_{ab}ᵀ) halves the blocks that are formed.
    """
    z = f.z
    p, n0, h = z.shape
    xi, yi = np.triu_indices(h)
    if n0 <= p:
        m_upper = jnp.einsum("pin,pjn->nij", z[:, :, xi], z[:, :, yi])  # M_{xy}, x ≤ y
        term1 = jnp.transpose(_pair_gram(m_upper, h), (2, 0, 1, 3))  # [a,b,c,d] = ⟨M_{bc}, M_{ad}⟩
    else:
        w_upper = jnp.einsum("pin,qin->npq", z[:, :, xi], z[:, :, yi])  # W_{xy}, x ≤ y
        term1 = jnp.transpose(_pair_gram(w_upper, h), (1, 0, 2, 3))  # [a,b,c,d] = ⟨W_{ba}, W_{cd}⟩
    w = jnp.einsum("pia,p->ia", z, f.y_white)  # w_a = X_aᵀ r
    v = jnp.einsum("pia,ib->abp", z, w)  # v_{ab} = z_a w_b
    vv = jnp.einsum("abp,cdp->abcd", v, v)  # v_{ab}·v_{cd}
    term2 = jnp.transpose(vv, (2, 3, 1, 0))  # [a,b,c,d] = v_{dc}·v_{ab}
    term3 = jnp.transpose(vv, (1, 0, 2, 3))  # [a,b,c,d] = v_{ba}·v_{cd}
    return (-term1 + term2 + term3).reshape(h * h, h * h)


def energy_hessian(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> jnp.ndarray:
    """∂²E/∂U₁∂U₁ as an (H_tot², H_tot²) matrix over row-major entries of U₁ (closed form above)."""
    return energy_hessian_from(energy_factors(u1, arrays, temperature))


def _entropy_derivatives(u: jnp.ndarray, hyper: Hyper, layout: Layout) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(S_ent, ∂S_ent/∂U, ∂²S_ent/∂U²) over the flattened entries, by autodiff (small matrices only)."""
    s, g = jax.value_and_grad(_entropy_flat)(u, hyper, layout)
    h = jax.hessian(_entropy_flat)(u, hyper, layout, True)
    return s, g, h


def value_gradient_hessian_U(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout):
    """(S, ∂S/∂U, ∂²S/∂U²) of the normalised action over the flattened entries of (U₁, …, U_L).

    The energy's value, gradient and Hessian share one Cholesky factorisation and one triangular solve.
    """
    n_max = jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)
    s_ent, g_ent, h_ent = _entropy_derivatives(u, hyper, layout)
    d1 = layout.dims[0]
    u1 = u[: d1 * d1].reshape(d1, d1)
    f = energy_factors(0.5 * (u1 + u1.T), arrays, hyper.temperature)
    g = g_ent.at[: d1 * d1].add(energy_gradient_from(f).reshape(-1))
    h = h_ent.at[: d1 * d1, : d1 * d1].add(energy_hessian_from(f))
    return (f.value + s_ent) / n_max, g / n_max, h / n_max


def hessian_U(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    """Hessian of the normalised action over all entries of (U₁, …, U_L) (flattened)."""
    return value_gradient_hessian_U(u, arrays, hyper, layout)[2]


def gradient_U(U: Sequence[jnp.ndarray], arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S, ∂S/∂U flattened) with ∂S/∂U the symmetric-matrix gradient."""
    return value_and_gradient_U(flatten_U(U), arrays, hyper, layout)


# ------------------------------------------------------------------------------------------
# Newton (Levenberg–Marquardt damped, backtracking) in a compiled loop


class _Derivs(NamedTuple):
    """Everything Newton needs at one point θ."""

    value: jnp.ndarray
    g_u: jnp.ndarray
    g_theta: jnp.ndarray
    h_theta: jnp.ndarray
    h_u: jnp.ndarray


class _NewtonState(NamedTuple):
    theta: jnp.ndarray
    d: _Derivs  # derivatives at theta (meaningless until the first evaluation)
    lam: jnp.ndarray
    it: jnp.ndarray  # Newton steps tried (accepted or not)
    n_rejected: jnp.ndarray  # full Newton steps that were not accepted
    backtrack: jnp.ndarray  # the last full step failed: halve it on the action next
    status: jnp.ndarray

    @property
    def value(self) -> jnp.ndarray:
        return self.d.value

    @property
    def residual(self) -> jnp.ndarray:
        return jnp.max(jnp.abs(self.d.g_u))

    @property
    def h_u(self) -> jnp.ndarray:
        return self.d.h_u


def _theta_value_grad_hess(theta, arrays, hyper, layout) -> _Derivs:
    """S, ∂S/∂U, ∂S/∂θ, ∂²S/∂θ² and ∂²S/∂U² at θ (chain rule through U = unpack(θ))."""
    U = unpack(theta, layout)
    u = flatten_U(U)
    value, g_u, h_u = value_gradient_hessian_U(u, arrays, hyper, layout)
    jac = jax.jacfwd(lambda t: flatten_U(unpack(t, layout)))(theta)
    g_theta = jac.T @ g_u
    g_fixed = jax.lax.stop_gradient(g_u)
    h_curv = jax.hessian(lambda t: g_fixed @ flatten_U(unpack(t, layout)))(theta)
    h_theta = jac.T @ h_u @ jac + h_curv
    return _Derivs(value, g_u, g_theta, 0.5 * (h_theta + h_theta.T), h_u)


def _newton_loop(theta0, arrays, hyper, layout: Layout, tol, max_steps) -> _NewtonState:
    """Levenberg–Marquardt-damped Newton on θ, one derivative evaluation per step.

    Each step solves (∂²S/∂θ² + λ I) δ = −∂S/∂θ (λ the smallest value, from the current one
    upwards, that makes the matrix positive definite) and evaluates S and its derivatives at θ + δ.
    If S decreased sufficiently (Armijo, with a round-off slack) the step is taken and λ divided by
    10 (set to 0 once negligible). Otherwise the next step halves δ on S alone (cheap: no
    derivatives) until it is sufficient and takes derivatives there, λ kept; if no fraction works θ
    stays and λ is multiplied by 10. Near the minimum every full Newton step is accepted, so
    convergence is quadratic and no line-search evaluation is spent. The derivatives appear once in
    the compiled loop (the first pass evaluates them at θ₀), which keeps compilation short.
    """
    derivs = functools.partial(_theta_value_grad_hess, arrays=arrays, hyper=hyper, layout=layout)

    def value_at(theta):
        return _action_flat(flatten_U(unpack(theta, layout)), arrays, hyper, layout)

    def finite(e: _Derivs):
        return jnp.isfinite(e.value) & jnp.all(jnp.isfinite(e.g_u)) & jnp.all(jnp.isfinite(e.h_theta))

    def body(state: _NewtonState) -> _NewtonState:
        first = state.it < 0  # the pass that evaluates θ₀
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
        trial = derivs(state.theta + t * step)
        accepted = first | ((t > 0) & finite(trial) & sufficient(trial.value, t))
        full_failed = ~accepted & ~state.backtrack  # a full step failed: backtrack next time, same λ
        theta = jnp.where(accepted, state.theta + t * step, state.theta)
        d_next = jax.tree_util.tree_map(lambda new, old: jnp.where(accepted, new, old), trial, d)
        lam_next = jnp.where(first, state.lam,
                             jnp.where(accepted, jnp.where(state.backtrack, lam, lam / 10.0),
                                       jnp.where(full_failed, lam, jnp.where(lam == 0, 1e-6 * scale, lam * 10.0))))
        lam_next = jnp.where(lam_next < 1e-14 * scale, 0.0, lam_next)
        residual = jnp.max(jnp.abs(d_next.g_u))
        status = jnp.where(residual <= tol, _CONVERGED, _RUNNING)
        status = jnp.where(first & ~finite(trial), _NONFINITE, status)
        status = jnp.where(lam_next > 1e20 * scale, _DIVERGED, status)
        return _NewtonState(theta, d_next, lam_next, state.it + 1, state.n_rejected + (~first & ~accepted & ~state.backtrack),
                            full_failed, status)

    def cond(state: _NewtonState):
        return jnp.logical_and(state.status == _RUNNING, state.it < max_steps)

    n, n_full = layout.n_theta, layout.n_full
    zero = jnp.zeros((), theta0.dtype)
    d0 = _Derivs(zero, jnp.zeros(n_full, theta0.dtype), jnp.zeros(n, theta0.dtype), jnp.eye(n, dtype=theta0.dtype),
                 jnp.zeros((n_full, n_full), theta0.dtype))
    init = _NewtonState(theta0, d0, zero, jnp.asarray(-1), jnp.asarray(0), jnp.asarray(False), jnp.asarray(_RUNNING))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


@functools.partial(jax.jit, static_argnames=("layout",))
def _newton_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps, basis):
    final = _newton_loop(theta0, arrays, hyper, layout, tol, max_steps)
    return final, newton_summary(final, basis)


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

    def grads(theta):
        U = unpack(theta, layout)
        u = flatten_U(U)
        value, g_u = value_and_gradient_U(u, arrays, hyper, layout)
        _, vjp = jax.vjp(lambda t: flatten_U(unpack(t, layout)), theta)
        return value, g_u, vjp(g_u)[0]

    def body(s: _AdamState) -> _AdamState:
        value, g_u, g_theta = grads(s.theta)
        residual = jnp.max(jnp.abs(g_u))
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


def _hessian_extremes(h_u: jnp.ndarray, basis: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Smallest and largest eigenvalue of the Hessian over the independent entries of the U_ℓ."""
    h_sym = basis.T @ h_u @ basis
    eig = jnp.linalg.eigvalsh(0.5 * (h_sym + h_sym.T))
    return eig[0], eig[-1]


@functools.partial(jax.jit, static_argnames=("layout",))
def _diagnostics(theta, arrays, hyper, layout: Layout, basis):
    u = flatten_U(unpack(theta, layout))
    value, g_u, h_u = value_gradient_hessian_U(u, arrays, hyper, layout)
    return (value, jnp.max(jnp.abs(g_u))) + _hessian_extremes(h_u, basis)


def newton_summary(final: _NewtonState, basis: jnp.ndarray) -> jnp.ndarray:
    """(S, residual, λ_min, λ_max) at a converged Newton iterate, from the loop's last derivatives."""
    eig_min, eig_max = _hessian_extremes(final.h_u, basis)
    return jnp.stack([final.value, final.residual, eig_min, eig_max])


def _initial_theta(problem: PathsProblem, init: Any, layout: Layout) -> jnp.ndarray:
    from ._action import gp_order_parameters

    if init is None:
        U = gp_order_parameters(problem.model).U
    elif isinstance(init, OrderParameters):
        U = init.U
    else:
        U = tuple(init)
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
    return pack(tuple(jnp.asarray(u) for u in U), layout)


def finish(theta: jnp.ndarray, problem: PathsProblem, layout: Layout, *, status: int, iterations: int,
           solver: str, wall: float, extra: dict | None = None, tol: float,
           known: Any = None) -> Solution[OrderParameters]:
    """Turn a final θ into a :class:`Solution` with the residual and Hessian diagnostics.

    ``known`` = (S, residual, λ_min, λ_max) already evaluated at θ by the solver (Newton's last
    iteration, :func:`newton_summary`); otherwise they are evaluated here.
    """
    hyper = problem.model.hyper()
    if known is None:
        known = _diagnostics(theta, problem.arrays, hyper, layout, symmetric_basis_jnp(layout))
    value, residual, eig_min, eig_max = (float(v) for v in np.asarray(known))
    U = unpack(theta, layout)
    result = _CODE_TO_RESULT[int(status)]
    finite = all(math.isfinite(v) for v in (value, residual)) and bool(jnp.all(jnp.isfinite(theta)))
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
        final, summary = _newton_jit(theta0, problem.arrays, hyper, layout, tol, steps, symmetric_basis_jnp(layout))
        jax.block_until_ready(final.theta)
        status = int(final.status)
        known = summary if status == _CONVERGED else None
        sol = finish(final.theta, problem, layout, status=status, iterations=int(final.it), solver="newton",
                     wall=time.perf_counter() - t0, tol=tol, known=known,
                     extra={"lm_damping": float(final.lam), "rejected_steps": int(final.n_rejected)})
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
