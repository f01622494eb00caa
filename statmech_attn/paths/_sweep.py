"""α-sweeps: solutions over a grid of α = P / N_max at fixed P, warm-started along the grid.

The whole sweep is one compiled program: ``lax.scan`` over α carries the parametrised order
parameters from one point to the next (continuation), and runs the Newton loop at each point with
the widths rescaled in-graph, so the sweep compiles once whatever the grid.
"""

from __future__ import annotations

import functools
import time
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._solution import Solution
from ..errors import InputError
from ._action import OrderParameters, PathsProblem
from ._model import check_alphas
from ._newton import _newton_loop, newton_summary
from ._outcome import _CONVERGED, finish
from ._param import Layout, _initial_theta, layout_of


@functools.partial(jax.jit, static_argnames=("layout",))
def _sweep_jit(theta0, arrays, hyper0, layout: Layout, alphas, n_train, tol, max_steps):
    n_max0 = jnp.maximum(jnp.max(hyper0.widths), hyper0.width_readout)

    def step(theta, alpha):
        factor = (n_train / alpha) / n_max0
        hyper = hyper0._replace(widths=hyper0.widths * factor, width_readout=hyper0.width_readout * factor)
        final = _newton_loop(theta, arrays, hyper, layout, tol, max_steps)
        carry = jnp.where(final.status == _CONVERGED, final.theta, theta)
        return carry, (final.theta, final.status, final.it, newton_summary(final))

    _, outs = jax.lax.scan(step, theta0, alphas)
    return outs


def sweep(problem: PathsProblem, alphas: Sequence[float], *, tol: float = 1e-10, max_steps: int = 200,
          init: OrderParameters | None = None) -> list[Solution[OrderParameters]]:
    """Solve at every α of the grid (widths rescaled by one factor, P fixed), Newton solver.

    The grid is traversed in increasing α starting from the GP point (or ``init``) — the
    continuation from the α → 0 limit — and the solutions are returned in the order given.
    Points that fail are returned with their ``result``; the next point restarts from the last
    converged one.
    """
    a = np.asarray(alphas, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise InputError("sweep.alphas", list(np.atleast_1d(a)), "must be a non-empty list of numbers > 0")
    check_alphas(a, "sweep.alphas")
    layout: Layout = layout_of(problem.model.heads)
    order = np.argsort(a, kind="stable")
    theta0 = _initial_theta(problem, init, layout)
    t0 = time.perf_counter()
    thetas, status, its, summaries = _sweep_jit(theta0, problem.arrays, problem.model.hyper(), layout, jnp.asarray(a[order]),
                                                float(problem.n_train), float(tol), int(max_steps))
    jax.block_until_ready(thetas)
    thetas, status, its, summaries = (np.asarray(v) for v in (thetas, status, its, summaries))
    wall = time.perf_counter() - t0
    out: list[Solution | None] = [None] * a.size
    for k, idx in enumerate(order):
        pr = problem.with_alpha(float(a[idx]))
        known = summaries[k] if int(status[k]) == _CONVERGED else None
        out[idx] = finish(thetas[k], pr, layout, status=int(status[k]), iterations=int(its[k]), solver="newton",
                          wall=wall / a.size, tol=tol, extra={"sweep_wall_time_s": wall}, known=known)
    return out  # type: ignore[return-value]
