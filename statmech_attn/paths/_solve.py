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
from ._action import (OrderParameters, PathsProblem, ProblemArrays, action_from, energy_value_and_gradient, entropy,
                      order_parameters)
from ._kernels import renormalised_kernel
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


def energy_hessian(u1: jnp.ndarray, arrays: ProblemArrays, temperature: jnp.ndarray) -> jnp.ndarray:
    """∂²E/∂U₁∂U₁ as an (H_tot², H_tot²) matrix over row-major entries of U₁ (closed form above)."""
    xt = arrays.xt
    p, n0, h = xt.shape
    k = renormalised_kernel(u1, xt) + temperature * jnp.eye(p)
    c = jnp.linalg.cholesky(k)
    gx = jsl.cho_solve((c, True), xt.reshape(p, n0 * h)).reshape(p, n0, h)
    r = jsl.cho_solve((c, True), arrays.y)
    m = jnp.einsum("pib,pjc->bcij", xt, gx)  # M_{bc} = X_bᵀ G X_c
    w = jnp.einsum("pia,p->ia", xt, r)  # w_a = X_aᵀ r
    term1 = jnp.einsum("bcij,adij->abcd", m, m)
    mw = jnp.einsum("bcij,jd->bcid", m, w)  # (M_{bc} w_d)_i
    term2 = jnp.einsum("ic,daib->abcd", w, mw)  # w_cᵀ M_{da} w_b
    term3 = jnp.einsum("ia,bcid->abcd", w, mw)  # w_aᵀ M_{bc} w_d
    return (-term1 + term2 + term3).reshape(h * h, h * h)


def hessian_U(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    """Hessian of the normalised action over all entries of (U₁, …, U_L) (flattened)."""
    n_max = jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)
    h_ent = jax.hessian(_entropy_flat)(u, hyper, layout, True)
    d1 = layout.dims[0]
    u1 = 0.5 * (u[: d1 * d1].reshape(d1, d1) + u[: d1 * d1].reshape(d1, d1).T)
    h_e = energy_hessian(u1, arrays, hyper.temperature)
    h_ent = h_ent.at[: d1 * d1, : d1 * d1].add(h_e)
    return h_ent / n_max


def gradient_U(U: Sequence[jnp.ndarray], arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(S, ∂S/∂U flattened) with ∂S/∂U the symmetric-matrix gradient."""
    return value_and_gradient_U(flatten_U(U), arrays, hyper, layout)


# ------------------------------------------------------------------------------------------
# Newton (Levenberg–Marquardt damped, backtracking) in a compiled loop


class _NewtonState(NamedTuple):
    theta: jnp.ndarray
    value: jnp.ndarray
    lam: jnp.ndarray
    it: jnp.ndarray
    residual: jnp.ndarray
    status: jnp.ndarray


def _theta_value_grad_hess(theta, arrays, hyper, layout):
    U = unpack(theta, layout)
    u = flatten_U(U)
    value, g_u = value_and_gradient_U(u, arrays, hyper, layout)
    jac = jax.jacfwd(lambda t: flatten_U(unpack(t, layout)))(theta)
    g_theta = jac.T @ g_u
    h_u = hessian_U(u, arrays, hyper, layout)
    g_fixed = jax.lax.stop_gradient(g_u)
    h_curv = jax.hessian(lambda t: g_fixed @ flatten_U(unpack(t, layout)))(theta)
    h_theta = jac.T @ h_u @ jac + h_curv
    return value, g_u, g_theta, 0.5 * (h_theta + h_theta.T)


def _newton_loop(theta0, arrays, hyper, layout: Layout, tol, max_steps):
    def value_at(theta):
        return _action_flat(flatten_U(unpack(theta, layout)), arrays, hyper, layout)

    def body(state: _NewtonState) -> _NewtonState:
        value, g_u, g_theta, h_theta = _theta_value_grad_hess(state.theta, arrays, hyper, layout)
        residual = jnp.max(jnp.abs(g_u))
        n = g_theta.shape[0]
        eye = jnp.eye(n)
        scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(h_theta))), 1e-12)

        # smallest λ (from the current one upwards) that makes H + λ I positive definite
        def chol_cond(c):
            lam, chol, k = c
            return jnp.logical_and(~jnp.all(jnp.isfinite(chol)), k < 60)

        def chol_body(c):
            lam, _, k = c
            lam = jnp.where(lam == 0, 1e-10 * scale, lam * 10.0)
            return lam, jnp.linalg.cholesky(h_theta + lam * eye), k + 1

        lam0 = state.lam
        chol0 = jnp.linalg.cholesky(h_theta + lam0 * eye)
        lam, chol, _ = jax.lax.while_loop(chol_cond, chol_body, (lam0, chol0, 0))
        step = -jsl.cho_solve((chol, True), g_theta)
        slope = g_theta @ step

        def ls_cond(c):
            t, v, k = c
            bad = jnp.logical_or(~jnp.isfinite(v), v > value + 1e-4 * t * slope + 1e-13 * jnp.abs(value))  # slack: round-off near the minimum
            return jnp.logical_and(bad, k < 40)

        def ls_body(c):
            t, _, k = c
            t = 0.5 * t
            return t, value_at(state.theta + t * step), k + 1

        v1 = value_at(state.theta + step)
        t, v_new, k_ls = jax.lax.while_loop(ls_cond, ls_body, (jnp.asarray(1.0), v1, 0))
        accepted = jnp.logical_and(jnp.isfinite(v_new), k_ls < 40)
        theta = jnp.where(accepted, state.theta + t * step, state.theta)
        lam_next = jnp.where(accepted, jnp.where(k_ls == 0, lam / 4.0, lam), jnp.where(lam == 0, 1e-6 * scale, lam * 10.0))
        lam_next = jnp.where(lam_next < 1e-14 * scale, 0.0, lam_next)
        new_value = jnp.where(accepted, v_new, value)
        status = jnp.where(~jnp.isfinite(value) | ~jnp.all(jnp.isfinite(g_u)), _NONFINITE, _RUNNING)
        status = jnp.where(residual <= tol, _CONVERGED, status)
        status = jnp.where(lam_next > 1e20 * scale, _DIVERGED, status)
        # the converged iterate is the one the residual was measured at: keep it
        theta = jnp.where(status == _CONVERGED, state.theta, theta)
        new_value = jnp.where(status == _CONVERGED, value, new_value)
        return _NewtonState(theta, new_value, lam_next, state.it + 1, residual, status)

    def cond(state: _NewtonState):
        return jnp.logical_and(state.status == _RUNNING, state.it < max_steps)

    init = _NewtonState(theta0, jnp.asarray(jnp.inf), jnp.asarray(0.0), jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(_RUNNING))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


@functools.partial(jax.jit, static_argnames=("layout",))
def _newton_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps):
    return _newton_loop(theta0, arrays, hyper, layout, tol, max_steps)


# ------------------------------------------------------------------------------------------
# Adam baseline


class _AdamState(NamedTuple):
    theta: jnp.ndarray
    opt: Any
    it: jnp.ndarray
    residual: jnp.ndarray
    value: jnp.ndarray
    status: jnp.ndarray


@functools.partial(jax.jit, static_argnames=("layout", "learning_rate"))
def _adam_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps, learning_rate: float, target):
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
        status = jnp.where(~jnp.isfinite(value), _NONFINITE, _RUNNING)
        status = jnp.where(jnp.logical_or(residual <= tol, value <= target), _CONVERGED, status)
        theta = jnp.where(status == _RUNNING, theta, s.theta)
        return _AdamState(theta, opt_state, s.it + 1, residual, value, status)

    def cond(s: _AdamState):
        return jnp.logical_and(s.status == _RUNNING, s.it < max_steps)

    init = _AdamState(theta0, opt.init(theta0), jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(jnp.inf), jnp.asarray(_RUNNING))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


# ------------------------------------------------------------------------------------------
# diagnostics and the public entry point


@functools.partial(jax.jit, static_argnames=("layout",))
def _diagnostics(theta, arrays, hyper, layout: Layout, basis):
    U = unpack(theta, layout)
    u = flatten_U(U)
    value, g_u = value_and_gradient_U(u, arrays, hyper, layout)
    h_u = hessian_U(u, arrays, hyper, layout)
    h_sym = basis.T @ h_u @ basis
    eig = jnp.linalg.eigvalsh(0.5 * (h_sym + h_sym.T))
    return value, jnp.max(jnp.abs(g_u)), eig[0], eig[-1]


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
           solver: str, wall: float, extra: dict | None = None, tol: float) -> Solution[OrderParameters]:
    """Turn a final θ into a :class:`Solution` with the residual and Hessian diagnostics."""
    hyper = problem.model.hyper()
    basis = jnp.asarray(symmetric_basis(layout))
    value, residual, eig_min, eig_max = (float(v) for v in _diagnostics(theta, problem.arrays, hyper, layout, basis))
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
          target_action: float | None = None, **fixed_point_options: Any) -> Solution[OrderParameters]:
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
        target_action: Adam only: also stop once S ≤ this value (benchmarks).

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
        final = _newton_jit(theta0, problem.arrays, hyper, layout, tol, steps)
        jax.block_until_ready(final.theta)
        sol = finish(final.theta, problem, layout, status=int(final.status), iterations=int(final.it), solver="newton",
                     wall=time.perf_counter() - t0, extra={"lm_damping": float(final.lam)}, tol=tol)
    elif solver == "adam":
        steps = 200_000 if max_steps is None else int(max_steps)
        target = -jnp.inf if target_action is None else float(target_action)
        final = _adam_jit(theta0, problem.arrays, hyper, layout, tol, steps, float(learning_rate), target)
        jax.block_until_ready(final.theta)
        status = int(final.status)
        if status == _CONVERGED and float(final.residual) > tol:
            status = _CONVERGED if target_action is not None else _MAX_STEPS
        sol = finish(final.theta, problem, layout, status=status, iterations=int(final.it), solver="adam",
                     wall=time.perf_counter() - t0, extra={"learning_rate": learning_rate}, tol=tol if target_action is None else math.inf)
    elif solver == "fixed_point":
        from ._fixed_point import solve_fixed_point

        steps = 5000 if max_steps is None else int(max_steps)
        sol = solve_fixed_point(problem, max_steps=steps, tol=tol, init=init, throw=False, **fixed_point_options)
    else:
        raise InputError("solver.method", solver, "must be one of 'newton', 'adam', 'fixed_point'")
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
