"""Fixed-point solver: damped, Anderson-accelerated iteration of the *derived* map U = F(U).

The map comes from the SymPy derivation (``statmech_attn.derivations.paths``, matrix form, lambdified to JAX):

    U₁ ← [ (I_{H₁} ⊗ U₂⁻¹)/σ₁² + Ω(U₁)/N₁ ]⁻¹             (L = 1:  [ I/(U_a σ₁²) + Ω/N₁ ]⁻¹)
    U_ℓ ← the positive-definite root of U_ℓ A_ℓ U_ℓ + c_ℓ U_ℓ + Q_ℓ = 0,   ℓ ≥ 2,
          A_ℓ = N_ℓ (I ⊗ U_{ℓ+1}⁻¹)/σ_ℓ²  (ℓ = L: N_L I/(U_a σ_L²)),  c_ℓ = N_{ℓ−1}H_{ℓ−1} − N_ℓ,
          Q_ℓ = −N_{ℓ−1} tr_{h_{ℓ−1}} U_{ℓ−1}/σ_{ℓ−1}²

with U_a = U_a(Tr U_L) its closed form and Ω(U₁) = Σ_i X̃_iᵀ (G − G Y Yᵀ G) X̃_i,
G = (K(U₁) + T I)⁻¹; all layers are updated at once from the current iterate.  A fixed point of F
is exactly a stationary point of the action S (each F_ℓ solves ∂S/∂U_ℓ = 0 for U_ℓ).

Coordinates.  Where the form is U_ℓ = M_ℓ(U)⁻¹ (layer 1) the iteration runs on W_ℓ = U_ℓ⁻¹ with
the update W_ℓ ← M_ℓ(U): far from the saddle point M_ℓ need not be positive definite (Ω has a
negative part −Σ_i X̃_iᵀ G Y Yᵀ G X̃_i), but it is always finite, and the damped step below keeps
the iterate positive definite.  Other layers run on U_ℓ itself.  With z the flattened state and
R(z) = G(z) − z its fixed-point residual (G the map in these coordinates):

    damped:    z ← z + β R(z),  β = ``damping`` ∈ (0, 1], halved until the iterate is positive
               definite (always possible: z is, and positive definiteness is an open condition)
    Anderson:  with the last m differences ΔZ, ΔR of iterates and residuals,
               γ = argmin |R − ΔR γ|² (Tikhonov-regularised normal equations),
               z ← z + β R − (ΔZ + β ΔR) γ                                (type II, m = ``anderson``)

An accelerated iterate that is not positive definite, or whose map is not finite, is replaced by
the damped step and the Anderson history is cleared (counted in ``stats["anderson_fallbacks"]``).
The stopping rule and the reported ``residual`` are the max-norm of ∂S/∂U of the numeric action
(JAX autodiff of :func:`statmech_attn.paths.action`, symmetric convention), never a step size.
"""

from __future__ import annotations

import functools
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from .._solution import Solution, SolverError
from ..errors import InputError
from ._action import OrderParameters, PathsProblem
from ._outcome import _CONVERGED, _DIVERGED, _MAX_STEPS, _NONFINITE, _RUNNING, finish
from ._param import Layout, _action_flat, _initial_theta, flatten_U, layout_of, pack_np, unflatten_U, unpack


class _State(NamedTuple):
    z: jnp.ndarray          # current iterate (flattened U)
    r: jnp.ndarray          # F(z) − z at the current iterate
    dz: jnp.ndarray         # (m, n) history of iterate differences
    dr: jnp.ndarray         # (m, n) history of residual differences
    valid: jnp.ndarray      # (m,) which history rows hold a difference
    pos: jnp.ndarray        # next row to overwrite
    it: jnp.ndarray
    residual: jnp.ndarray   # max |∂S/∂U| at z
    best_residual: jnp.ndarray
    status: jnp.ndarray
    n_fallback: jnp.ndarray


def _is_pd(z: jnp.ndarray, layout: Layout) -> jnp.ndarray:
    ok = jnp.all(jnp.isfinite(z))
    for u in unflatten_U(z, layout):
        c = jnp.linalg.cholesky(0.5 * (u + u.T))
        ok = jnp.logical_and(ok, jnp.all(jnp.isfinite(c)))
    return ok


def _pd_inv(m: jnp.ndarray) -> jnp.ndarray:
    m = 0.5 * (m + m.T)
    return jsl.cho_solve((jnp.linalg.cholesky(m), True), jnp.eye(m.shape[0], dtype=m.dtype))


class _Map(NamedTuple):
    """The derived map in the iteration's coordinates (hashable: a jit static argument).

    ``inverse[ℓ]``: the state holds U_ℓ⁻¹ for layers whose fixed-point form is U_ℓ = M_ℓ(U)⁻¹
    (the update W_ℓ ← M_ℓ(U) is defined even where M_ℓ is not yet positive definite).
    """

    heads: tuple
    readout: str
    inverse: tuple

    def to_U(self, z, layout):
        return tuple(_pd_inv(m) if inv else 0.5 * (m + m.T) for m, inv in zip(unflatten_U(z, layout), self.inverse))

    def from_U(self, U):
        return flatten_U(tuple(_pd_inv(u) if inv else u for u, inv in zip(U, self.inverse)))

    def target(self, z, arrays, hyper, layout):
        from statmech_attn.derivations.paths import numeric

        num = numeric(self.heads, self.readout, "matrix")
        new = num.fixed_point_targets(self.to_U(z, layout), arrays.xt, arrays.y, hyper)
        return flatten_U(tuple(0.5 * (u + u.T) for u in new))


@functools.lru_cache(maxsize=32)
def _map_for(heads: tuple[int, ...], readout: str) -> _Map:
    from statmech_attn.derivations.paths import numeric

    return _Map(heads, readout, numeric(heads, readout, "matrix").inverse_layers)


@functools.partial(jax.jit, static_argnames=("fmap", "layout", "memory"))
def _iterate(z0, arrays, hyper, fmap: _Map, layout: Layout, memory: int, damping, tol, max_steps):
    n = z0.shape[0]
    m = max(memory, 1)

    def grad_res(z):
        g = jax.grad(_action_flat)(flatten_U(fmap.to_U(z, layout)), arrays, hyper, layout)
        return jnp.max(jnp.abs(g))

    def residual_map(z):
        return fmap.target(z, arrays, hyper, layout) - z

    def damped_pd(z, r):
        """z + β r with β halved from ``damping`` until the iterate is positive definite."""
        def cond(c):
            beta, k = c
            return (~_is_pd(z + beta * r, layout)) & (k < 60)

        beta, k = jax.lax.while_loop(cond, lambda c: (0.5 * c[0], c[1] + 1), (jnp.asarray(damping), 0))
        return z + beta * r, beta

    def body(s: _State) -> _State:
        z_damped, beta = damped_pd(s.z, s.r)
        if memory > 0:  # Anderson type II over the stored differences
            mask = s.valid.astype(z0.dtype)
            dr = s.dr * mask[:, None]
            dz = s.dz * mask[:, None]
            gram = dr @ dr.T
            reg = 1e-10 * jnp.maximum(jnp.trace(gram), 1e-300) + 1e-300
            gram = gram + reg * jnp.eye(m) + jnp.diag(1.0 - mask)
            gamma = jnp.linalg.solve(gram, dr @ s.r) * mask
            z_acc = s.z + damping * s.r - (dz + damping * dr).T @ gamma
            use_acc = _is_pd(z_acc, layout)
        else:
            z_acc, use_acc = z_damped, jnp.asarray(False)
        z_new = jnp.where(use_acc, z_acc, z_damped)
        r_new = residual_map(z_new)
        bad = ~jnp.all(jnp.isfinite(r_new))
        # an accelerated point whose map is not finite: take the (positive-definite) damped step
        z_new = jnp.where(bad & use_acc, z_damped, z_new)
        r_new = jnp.where(bad & use_acc, residual_map(z_damped), r_new)
        accepted = use_acc & ~bad
        fallback = s.n_fallback + jnp.where(accepted | (memory == 0), 0, 1)
        # history: a circular buffer with a validity mask (order is irrelevant to the least
        # squares); after a fallback the stale directions are dropped
        if memory > 0:
            valid = jnp.where(accepted, s.valid, jnp.zeros_like(s.valid))
            dz_hist = s.dz.at[s.pos].set(z_new - s.z)
            dr_hist = s.dr.at[s.pos].set(r_new - s.r)
            valid = valid.at[s.pos].set(True)
            pos = (s.pos + 1) % m
        else:
            dz_hist, dr_hist, valid, pos = s.dz, s.dr, s.valid, s.pos
        residual = grad_res(z_new)
        finite = jnp.isfinite(residual) & jnp.all(jnp.isfinite(r_new))
        status = jnp.where(finite, _RUNNING, _NONFINITE)
        status = jnp.where(finite & (residual <= tol), _CONVERGED, status)
        status = jnp.where(finite & (residual > 1e12 * jnp.maximum(s.best_residual, 1e-300)), _DIVERGED, status)
        return _State(z_new, r_new, dz_hist, dr_hist, valid, pos, s.it + 1, residual,
                      jnp.minimum(s.best_residual, residual), status, fallback)

    def cond(s: _State):
        return (s.status == _RUNNING) & (s.it < max_steps)

    r0 = residual_map(z0)
    res0 = grad_res(z0)
    status0 = jnp.where(jnp.isfinite(res0) & jnp.all(jnp.isfinite(r0)), _RUNNING, _NONFINITE)
    status0 = jnp.where(res0 <= tol, _CONVERGED, status0)
    init = _State(z0, r0, jnp.zeros((m, n)), jnp.zeros((m, n)), jnp.zeros((m,), dtype=bool), jnp.asarray(0),
                  jnp.asarray(0), res0, res0, status0, jnp.asarray(0))
    final = jax.lax.while_loop(cond, body, init)
    return final._replace(status=jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status))


def solve_fixed_point(problem: PathsProblem, *, max_steps: int = 5000, tol: float = 1e-10, damping: float = 0.5,
                      anderson: int = 5, init: Any = None, throw: bool = True) -> Solution[OrderParameters]:
    """Solve ∂S/∂U = 0 by iterating the derived fixed-point map U = F(U) (module docstring).

    Args:
        problem: from :func:`statmech_attn.paths.make_problem`.
        max_steps: iteration cap.
        tol: stop when max |∂S/∂U| ≤ tol (S normalised by N_max, symmetric-matrix gradient).
        damping: β ∈ (0, 1], the fraction of the step F(U) − U taken (1: plain iteration).
        anderson: Anderson memory m ≥ 0 (0: damped iteration only).
        init: warm start (OrderParameters or a tuple of U, layer 1 first); default the GP point.
        throw: raise :class:`SolverError` (carrying the Solution) unless converged.

    Returns:
        ``Solution[OrderParameters]`` with ``result`` converged | max_steps | nonfinite | diverged
        | not_a_minimum, ``residual`` = max |∂S/∂U| at the returned U, and ``stats`` (solver,
        damping, anderson memory, fixed-point residual max |F(U) − U|, Anderson fallbacks,
        smallest Hessian eigenvalue, wall time).
    """
    if not (isinstance(damping, (int, float)) and 0 < damping <= 1):
        raise InputError("solver.damping", damping, "must be in (0, 1]")
    if not (isinstance(anderson, int) and not isinstance(anderson, bool) and anderson >= 0):
        raise InputError("solver.anderson", anderson, "must be an integer >= 0")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise InputError("solver.max_steps", max_steps, "must be an integer >= 1")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise InputError("solver.tol", tol, "must be > 0")
    layout = layout_of(problem.model.heads)
    theta0 = _initial_theta(problem, init, layout)
    fmap = _map_for(problem.model.heads, problem.model.readout)
    z0 = fmap.from_U(unpack(theta0, layout))
    hyper = problem.model.hyper()
    t0 = time.perf_counter()
    final = _iterate(z0, problem.arrays, hyper, fmap, layout, int(anderson), float(damping), float(tol), int(max_steps))
    jax.block_until_ready(final.z)
    wall = time.perf_counter() - t0
    status = int(final.status)
    U = fmap.to_U(final.z, layout)
    if bool(_is_pd(final.z, layout)):
        theta = pack_np([np.asarray(u) for u in U], layout)
    else:
        status = _NONFINITE
        theta = jnp.full_like(theta0, jnp.nan)
    extra = {"damping": float(damping), "anderson": int(anderson),
             "fixed_point_residual": float(jnp.max(jnp.abs(final.r))), "anderson_fallbacks": int(final.n_fallback)}
    sol = finish(theta, problem, layout, status=status, iterations=int(final.it), solver="fixed_point", wall=wall,
                 extra=extra, tol=tol)
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
