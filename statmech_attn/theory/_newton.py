"""The solver loops, written once for any residual G(x; c) (traced inside ``jax.jit``).

- Newton: J = ∂G/∂x by forward mode, step d = −J⁻¹G (LU solve), backtracking on the merit
  ‖G‖²: t = 1, 1/2, ..., 1/16 until the trial point is admissible (inside the order parameters'
  bounds, G finite) and ‖G(x + t d)‖² ≤ (1 − 2·10⁻⁴ t)‖G(x)‖²; where none passes, one damped
  fixed-point step x ← (1 − δ)x + δF(x) (when a fixed-point form exists and its point is
  admissible), else t = 1/32, ..., 2⁻¹⁰, else the shortest step.
- fixed point: x ← (1 − δ)x + δF(x) with the residual G evaluated at every iterate.
Both stop when max|G| ≤ tol, at ``max_steps``, or on a non-finite residual.  G appears once in the
trial loop, so the compiled program holds few copies of the (possibly large) residual.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

__all__ = ["solve_loop", "admissible"]

_HALVINGS = 10
_FP_AFTER = 5  # trial index of the fixed-point point (after t = 1, ..., 1/16)


def admissible(x: jax.Array, lower: jax.Array, upper: jax.Array) -> jax.Array:
    """All entries finite and strictly inside (lower, upper)."""
    return jnp.all(jnp.isfinite(x)) & jnp.all(x > lower) & jnp.all(x < upper)


def _maxabs(g: jax.Array) -> jax.Array:
    r = jnp.max(jnp.abs(g))
    return jnp.where(jnp.isfinite(r), r, jnp.inf)


def _merit(g: jax.Array) -> jax.Array:
    m = jnp.sum(g * g)
    return jnp.where(jnp.isfinite(m), m, jnp.inf)


def solve_loop(G: Callable, FP: Callable | None, x0: jax.Array, c: jax.Array, lower: jax.Array, upper: jax.Array,
               tol: jax.Array, max_steps: jax.Array, damping: jax.Array, method: str) -> tuple:
    """Iterate from ``x0``; returns (x, G(x), max|G(x)|, iterations, fixed-point steps taken)."""
    # trial schedule of one Newton iteration: t = 1, 1/2, ..., 1/16, then (with a fixed-point form)
    # the damped fixed-point point, accepted when admissible (as the replica iteration is), then
    # t = 1/32, ..., 2^-10 (shorter Newton steps are a last resort: they can creep into a local
    # minimum of ‖G‖² where J is singular)
    fp_at = _FP_AFTER if FP is not None else -1
    last = _HALVINGS + (1 if FP is not None else 0)

    def fp_point(x: jax.Array) -> jax.Array:
        return (1 - damping) * x + damping * FP(x, c)

    def newton_step(x: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        J = jax.jacfwd(G)(x, c)
        d = -jnp.linalg.solve(J, g)
        d = jnp.where(jnp.isfinite(d), d, 0.0)
        m0 = _merit(g)

        def step_size(i: jax.Array) -> jax.Array:
            j = jnp.where((fp_at >= 0) & (i > fp_at), i - 1, i)
            return 2.0 ** (-jnp.minimum(j, _HALVINGS).astype(x.dtype))

        def trial(i: jax.Array) -> jax.Array:
            if FP is None:
                return x + step_size(i) * d
            return jax.lax.cond(i == fp_at, lambda: fp_point(x), lambda: x + step_size(i) * d)

        def accepted(i: jax.Array, xt: jax.Array, gt: jax.Array) -> jax.Array:
            ok = admissible(xt, lower, upper) & jnp.isfinite(_merit(gt))
            return ok & ((i == fp_at) | (i == last) | (_merit(gt) <= (1 - 2e-4 * step_size(i)) * m0))

        def cond(ls: tuple) -> jax.Array:
            i, xt, gt, done = ls
            return ~done & (i <= last)

        def body(ls: tuple) -> tuple:
            i, _, _, _ = ls
            xt = trial(i)
            gt = G(xt, c)
            return i + 1, xt, gt, accepted(i, xt, gt)

        i, xt, gt, done = jax.lax.while_loop(cond, body, (0, x, g, jnp.asarray(False)))
        return xt, gt, (i - 1 == fp_at)

    def cond(state: tuple) -> jax.Array:
        k, x, g, r, nfp = state
        return (k < max_steps) & (r > tol) & jnp.isfinite(r)

    def body(state: tuple) -> tuple:
        k, x, g, r, nfp = state
        if method == "fixed_point":
            x_new = fp_point(x)
            g_new = G(x_new, c)
            used = jnp.asarray(True)
        else:
            x_new, g_new, used = newton_step(x, g)
        return k + 1, x_new, g_new, _maxabs(g_new), nfp + jnp.asarray(used).astype(jnp.int32)

    g0 = G(x0, c)
    r0 = jnp.where(admissible(x0, lower, upper), _maxabs(g0), jnp.inf)
    k, x, g, r, nfp = jax.lax.while_loop(cond, body, (0, x0, g0, r0, jnp.zeros((), jnp.int32)))
    return x, g, r, k, nfp
