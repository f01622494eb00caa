"""Pseudo-arclength continuation: follow a branch of solutions through folds.

With y = (x, s) (s the swept control parameter) and the tangent t (‖t‖ = 1, the null vector of
[∂G/∂x  ∂G/∂s], oriented along the previous tangent), a step of length Δs predicts y_p = y + Δs t
and corrects by Newton on the bordered system  G(x, s) = 0,  t·(y − y_p) = 0.  A failed corrector
halves Δs; an easy one (≤ 4 iterations) lengthens it by 1.3 up to its initial value.  The branch
may turn back in s (a fold), which a natural-parameter sweep cannot follow.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._solution import Solution
from ..errors import InputError
from ._compiled import compiled
from ._newton import admissible
from .spec import Theory

__all__ = ["continuation"]


@functools.lru_cache(maxsize=16)
def _pieces(theory: Theory, along: int) -> tuple:
    comp = compiled(theory)
    lo, hi = jnp.asarray(comp.lower), jnp.asarray(comp.upper)

    def Gy(y: jax.Array, c: jax.Array) -> jax.Array:
        return comp.G(y[:-1], c.at[along].set(y[-1]))

    @jax.jit
    def tangent(y: jax.Array, c: jax.Array, t_prev: jax.Array) -> jax.Array:
        A = jax.jacfwd(Gy)(y, c)
        _, _, vt = jnp.linalg.svd(A, full_matrices=True)
        t = vt[-1]
        return jnp.where(t @ t_prev < 0, -t, t)

    @jax.jit
    def correct(y_p: jax.Array, t: jax.Array, c: jax.Array, tol: jax.Array) -> tuple:
        def H(y: jax.Array) -> jax.Array:
            return jnp.concatenate([Gy(y, c), (t @ (y - y_p))[None]])

        def cond(st: tuple) -> jax.Array:
            k, y, r = st
            return (k == 0) | ((k < 25) & (r > tol) & jnp.isfinite(r))

        def body(st: tuple) -> tuple:
            k, y, _ = st
            y = y - jnp.linalg.solve(jax.jacfwd(H)(y), H(y))
            r = jnp.max(jnp.abs(Gy(y, c)))
            ok = admissible(y[:-1], lo, hi)
            return k + 1, y, jnp.where(ok & jnp.isfinite(r), r, jnp.inf)

        k, y, r = jax.lax.while_loop(cond, body, (0, y_p, jnp.asarray(jnp.inf)))
        return y, r, k

    certify = jax.jit(lambda x, c: comp._certificate(x, c, True))
    return tangent, correct, certify


def continuation(theory: Theory, over: str, start: float, stop: float, controls: Mapping[str, Any] | None = None, *,
                 init: Any = None, step: float | None = None, max_points: int = 500, tol: float = 1e-10,
                 max_steps: int = 100) -> list[Solution]:
    """The branch through the solution at ``over = start``, followed by pseudo-arclength steps until
    ``over`` passes ``stop`` (or leaves its allowed range, or ``max_points``).  Solutions in branch
    order; ``stats["arclength"]`` is the arclength from the start.

    Args:
        step: initial arclength step (default |stop − start|/50).
    """
    from .solve import _controls_vector, _solution, solve

    cp = theory.control(over)
    start, stop = cp.check(start), cp.check(stop)
    if start == stop:
        raise InputError(over, stop, "continuation needs stop != start")
    ctrl = theory.controls(dict(controls or {}, **{over: start}))
    first = solve(theory, ctrl, init=init, tol=tol, max_steps=max_steps, cubature_check=False)
    along = theory.control_names.index(over)
    tangent, correct, certify = _pieces(theory, along)
    c = jnp.asarray(_controls_vector(theory, ctrl))
    n = len(theory.order_names)
    y = jnp.asarray(np.append([first.value[k] for k in theory.order_names], start))
    t = tangent(y, c, jnp.zeros(n + 1).at[-1].set(np.sign(stop - start)))
    ds0 = float(step) if step is not None else abs(stop - start) / 50
    ds, arc = ds0, 0.0
    out = [first.replace(stats=dict(first.stats, arclength=0.0))]
    direction = np.sign(stop - start)
    while len(out) < max_points and ds > ds0 * 2.0 ** -12:
        t0 = time.perf_counter()
        y_new, r, k = correct(y + ds * t, t, c, jnp.asarray(tol))
        r = float(r)
        s_new = float(y_new[-1])
        in_range = cp.lower < s_new < cp.upper or (cp.inclusive and cp.lower <= s_new <= cp.upper)
        if not (np.isfinite(r) and r <= tol and in_range):
            ds *= 0.5
            continue
        arc += ds
        y_prev, y = y, y_new
        t = tangent(y, c, t)
        cv = dict(ctrl, **{over: s_new})
        x = np.asarray(y[:-1])
        cert = certify(y[:-1], c.at[along].set(s_new))
        sol = _solution(theory, cv, x, r, k, 0, cert, tol=tol, method="arclength", damping=0.0,
                        wall=time.perf_counter() - t0)
        out.append(sol.replace(stats=dict(sol.stats, arclength=arc)))
        if int(k) <= 4:
            ds = min(ds * 1.3, ds0)
        if (s_new - stop) * direction >= 0:
            break
        del y_prev
    return out
