"""The proximal map (11) of the cross-entropy loss on range(Σ), with its implicit-function derivative.

x* = argmin_x [‖x − x_ω‖²/(2V) + CE(y, Bx)] in reduced coordinates (B = Q_r Λ_r^{1/2}, C×r): damped
Newton with an Armijo line search, the r×r systems solved by an unrolled Cholesky factorisation
(r ≤ 6), vectorised over nodes and labels by the caller; its JVP is −H⁻¹ ∂g (:func:`proximal_map`).
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

_PROX_TOL = 1e-14
_PROX_MAX_STEPS = 100
_LINE_SEARCH_MIN = 2.0 ** -30


def _ce(t: jax.Array, ey: jax.Array) -> jax.Array:
    """CE(y, t) = ln Σ_c e^{t_c} − t_y (ey the one-hot of y).

    Computed as M + log1p(Σ_{c≠c_max} e^{d_c − M}) with d = t − t_y, M = max d, so that a tiny
    loss (confident correct logits) keeps its relative precision.
    """
    d = t - t @ ey
    top = jnp.argmax(d)
    big = d[top]
    rest = jnp.sum(jnp.where(jnp.arange(d.shape[0]) == top, 0.0, jnp.exp(d - big)))
    return big + jnp.log1p(rest)


def _prox_grad(x: jax.Array, xw: jax.Array, V: jax.Array, ey: jax.Array, B: jax.Array) -> jax.Array:
    """Gradient of ‖x − x_ω‖²/(2V) + CE(y, Bx): (x − x_ω)/V + Bᵀ(softmax(Bx) − e_y)."""
    return (x - xw) / V + B.T @ (jax.nn.softmax(B @ x) - ey)


def _prox_hess(x: jax.Array, V: jax.Array, B: jax.Array) -> jax.Array:
    """Hessian I/V + Bᵀ D(p) B with D(p) = diag p − p pᵀ, p = softmax(Bx)."""
    p = jax.nn.softmax(B @ x)
    D = jnp.diag(p) - jnp.outer(p, p)
    return jnp.eye(x.shape[0]) / V + B.T @ D @ B


_SMALL = 6  # up to this rank the r×r solves are written out (elementwise over nodes, no LAPACK calls)


def _cholesky_small(A: jax.Array) -> list[list[Any]]:
    """Lower Cholesky factor of a small SPD matrix as nested lists of scalars (r static, unrolled)."""
    r = A.shape[-1]
    L: list[list[Any]] = [[None] * r for _ in range(r)]
    for j in range(r):
        L[j][j] = jnp.sqrt(A[j, j] - sum((L[j][k] ** 2 for k in range(j)), jnp.zeros((), A.dtype)))
        for i in range(j + 1, r):
            L[i][j] = (A[i, j] - sum((L[i][k] * L[j][k] for k in range(j)), jnp.zeros((), A.dtype))) / L[j][j]
    return L


def _forward(L: list[list[Any]], b: Sequence[Any]) -> list[Any]:
    """y with L y = b (L lower triangular)."""
    y: list[Any] = []
    for i in range(len(b)):
        y.append((b[i] - sum((L[i][k] * y[k] for k in range(i)), jnp.zeros_like(b[i]))) / L[i][i])
    return y


def _spd_solve(A: jax.Array, b: jax.Array) -> jax.Array:
    """A⁻¹ b for a symmetric positive-definite A (r×r) by Cholesky; unrolled for r ≤ 6, LAPACK above."""
    r = A.shape[-1]
    if r > _SMALL:
        return cho_solve(cho_factor(A), b)
    L = _cholesky_small(A)
    y = _forward(L, [b[i] for i in range(r)])
    x: list[Any] = [None] * r
    for i in reversed(range(r)):
        x[i] = (y[i] - sum((L[k][i] * x[k] for k in range(i + 1, r)), jnp.zeros_like(y[i]))) / L[i][i]
    return jnp.stack(x)


def _spd_trace_inv(A: jax.Array) -> jax.Array:
    """tr A⁻¹ = ‖L⁻¹‖²_F (A = L Lᵀ, SPD r×r); unrolled for r ≤ 6."""
    r = A.shape[-1]
    if r > _SMALL:
        return jnp.trace(cho_solve(cho_factor(A), jnp.eye(r, dtype=A.dtype)))
    L = _cholesky_small(A)
    total = jnp.zeros((), A.dtype)
    for j in range(r):  # column j of L⁻¹: forward substitution on e_j (zero above row j)
        e = [jnp.asarray(1.0 if i == j else 0.0, A.dtype) for i in range(r)]
        col = _forward(L, e)
        total = total + sum(c * c for c in col[j:])
    return total


def _prox_newton(xw: jax.Array, V: jax.Array, ey: jax.Array, B: jax.Array, x0: jax.Array) -> jax.Array:
    """Damped Newton for (11) in reduced coordinates from ``x0`` (see :func:`proximal_map`)."""

    def objective(x: jax.Array) -> jax.Array:
        return jnp.sum((x - xw) ** 2) / (2 * V) + _ce(B @ x, ey)

    def body(state: tuple) -> tuple:
        k, x, _ = state
        g = _prox_grad(x, xw, V, ey, B)
        d = -_spd_solve(_prox_hess(x, V, B), g)
        f0 = objective(x)
        decrement = -(g @ d)  # Newton decrement²: tiny near the minimum, where the full step is exact
        slack = 8 * jnp.finfo(x.dtype).eps * jnp.abs(f0)

        def rejected(ls: tuple) -> jax.Array:
            t, f = ls
            return (f > f0 - 1e-4 * t * decrement + slack) & (t > _LINE_SEARCH_MIN)

        def halve(ls: tuple) -> tuple:
            t = 0.5 * ls[0]
            return t, objective(x + t * d)

        t, _ = jax.lax.while_loop(rejected, halve, (jnp.ones((), x.dtype), objective(x + d)))
        t = jnp.where(decrement < 1e-20 * (1 + jnp.abs(f0)), 1.0, t)
        step = t * d
        return k + 1, x + step, jnp.max(jnp.abs(step))

    def cond(state: tuple) -> jax.Array:
        k, x, step = state
        return (k < _PROX_MAX_STEPS) & (step > _PROX_TOL * (1 + jnp.max(jnp.abs(x))))

    _, x, _ = jax.lax.while_loop(cond, body, (0, x0, jnp.asarray(jnp.inf, xw.dtype)))
    return x


@jax.custom_jvp
def _prox_from(xw: jax.Array, V: jax.Array, ey: jax.Array, B: jax.Array, x0: jax.Array) -> jax.Array:
    """The proximal point (11) computed from the start ``x0`` (a warm start: the point does not depend on it)."""
    return _prox_newton(xw, V, ey, B, x0)


@_prox_from.defjvp
def _prox_from_jvp(primals: tuple, tangents: tuple) -> tuple:
    xw, V, ey, B, x0 = primals
    x = _prox_newton(xw, V, ey, B, x0)
    _, gdot = jax.jvp(lambda a, b, c, d: _prox_grad(x, a, b, c, d), primals[:4], tangents[:4])
    return x, -_spd_solve(_prox_hess(x, V, B), gdot)


def proximal_map(xw: jax.Array, V: jax.Array, ey: jax.Array, B: jax.Array, x0: jax.Array | None = None) -> jax.Array:
    """x* = argmin_x [‖x − x_ω‖²/(2V) + CE(y, Bx)] on range(Σ) (eq. (11) in reduced coordinates).

    Damped Newton from ``x0`` (default x_ω) with a backtracking (Armijo) line search: step sizes
    1, 1/2, ... down to 2^-30, tried in turn (the full step once the Newton decrement is below 1e-20);
    stops when the step is below 1e-14 (1 + ‖x‖_∞).  The r×r Newton systems are solved by an
    unrolled Cholesky factorisation (r ≤ 6).  Its JVP is the implicit-function derivative −H⁻¹ ∂g
    (g the gradient, H the Hessian), so the map is differentiable; the start ``x0`` has no tangent.
    """
    return _prox_from(xw, V, ey, B, xw if x0 is None else x0)
