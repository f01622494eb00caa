"""Status codes of the compiled solver loops, and the :class:`~statmech_attn.Solution` a final θ becomes."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._solution import Result, Solution
from ._action import OrderParameters, PathsProblem, order_parameters
from ._hessian import _diagnostics
from ._param import Layout, unpack_np

# status codes used inside compiled loops
_RUNNING, _CONVERGED, _MAX_STEPS, _NONFINITE, _DIVERGED = 0, 1, 2, 3, 4
_CODE_TO_RESULT = {
    _CONVERGED: Result.converged,
    _MAX_STEPS: Result.max_steps,
    _NONFINITE: Result.nonfinite,
    _DIVERGED: Result.diverged,
    _RUNNING: Result.max_steps,
}


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
