"""Saddle-point solvers for the attention-path order parameters (§6).

The minimisation runs over {U_ℓ} in an unconstrained parametrisation that keeps every U_ℓ
positive definite: U_ℓ = L_ℓ L_ℓᵀ with L_ℓ lower triangular and its diagonal stored as a log.

- ``newton`` (default): Levenberg–Marquardt-damped Newton steps with a backtracking line search
  and Hessian reuse (chord steps) once the residual contracts fast.  The Hessian is exact: the
  energy block (:mod:`._hessian`) and the entropy block (:mod:`._entropy`) in closed form, chained
  through the parametrisation.  Quadratic convergence near the minimum.
- ``adam``: first-order baseline (optax Adam on the same parametrisation and the same gradient).
- ``fixed_point``: damped, Anderson-accelerated iteration of the derived map U = F(U)
  (``statmech_attn.paths._fixed_point``).

Derivatives are taken over the independent entries x of the U_ℓ (upper triangles; x_p sets
U_ab = U_ba); the energy Hessian's closed form is in :mod:`._hessian`.

The modules, each one job: :mod:`._param` (the parametrisation and its coordinates),
:mod:`._hessian` (derivatives), :mod:`._newton`, :mod:`._adam`, :mod:`._fixed_point` (the solvers),
:mod:`._outcome` (loop status codes → :class:`~statmech_attn.Solution`); this module dispatches.

Every solver returns a :class:`~statmech_attn.Solution` whose ``residual`` is max |∂S/∂U| (the
symmetric-matrix gradient of the N_max-normalised action) and whose ``stats`` carry the smallest
eigenvalue of the Hessian over the independent entries of the U_ℓ.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import jax
import jax.numpy as jnp

from .._solution import Solution, SolverError
from ..errors import InputError
from ._action import OrderParameters, PathsProblem
from ._fixed_point import solve_fixed_point
from ._newton import _newton_jit
from ._outcome import _CONVERGED, _MAX_STEPS, finish
from ._param import _initial_theta, layout_of

SolverName = Literal["newton", "adam", "fixed_point"]


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
        from ._adam import _adam_jit  # optax only for the first-order baseline

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
        steps = 5000 if max_steps is None else int(max_steps)
        sol = solve_fixed_point(problem, max_steps=steps, tol=tol, init=init, throw=False, **fixed_point_options)
    else:
        raise InputError("solver.method", solver, "must be one of 'newton', 'adam', 'fixed_point'")
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
