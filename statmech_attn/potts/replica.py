"""Replica-symmetric theory of one row of factored attention (theory/potts.md §7).

Teacher–student setting (§7.1): M = αN labelled contexts X^μ ∈ R^{C×N} with columns N(0, Σ), labels
y^μ ~ softmax(X^μ w*/√N), ‖w*‖²/N = ρ, estimator ŵ = argmin Σ_μ CE(y^μ, X^μ w/√N) + (λ/2)‖w‖².
Order parameters (§7.2): m = ŵ·w*/N, q = ‖ŵ‖²/N, V, and conjugates m̂, q̂, V̂.

Numerics (§7.4–7.5).  Everything is computed on range(Σ): with Σ = Q Λ Qᵀ and rank r, the logits are
t = B x with B = Q_r Λ_r^{1/2} (C×r) and x ∈ R^r; the null space of Σ drops out.  Expectations over
ξ (student field) and ζ (teacher noise) use fixed product Gauss–Hermite rules (:mod:`._cubature`);
the proximal map (11) is a damped Newton solve vectorised over nodes and labels (r×r systems by an
unrolled Cholesky factorisation, warm-started from the previous evaluation's proximal points), with an
implicit-function JVP so that the fixed-point map can be differentiated; the saddle point is found by
damped fixed-point iteration, by Newton's method on the fixed-point residual or by Broyden's method
(with a damped fixed-point fallback step).  An α-curve runs as one ``lax.scan`` with continuation
(secant predictor in ln α; compiled once per rule size and chunk length).

Public API: :class:`ReplicaSetting`, :class:`ReplicaState`, :func:`colour_covariance`,
:func:`solve`, :func:`observables`, :func:`replica_curve`, :func:`fixed_point_map`,
:func:`alpha_to_zero_limit`, :func:`large_ridge_limit`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_factor, cho_solve

from .._solution import Result, Solution, SolverError
from ..errors import InputError
from ._cubature import GaussRule, gaussian_rule, largest_product_order

__all__ = [
    "ReplicaSetting",
    "ReplicaState",
    "colour_covariance",
    "solve",
    "observables",
    "replica_curve",
    "fixed_point_map",
    "proximal_map",
    "alpha_to_zero_limit",
    "large_ridge_limit",
    "OBSERVABLES",
    "POINT_KEYS",
]

OBSERVABLES = ("test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss")
POINT_KEYS = ("alpha", "m", "q", "V", "m_hat", "q_hat", "V_hat", "residual", "iterations", "converged",
              "test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss", "free_energy")
_PROX_TOL = 1e-14
_PROX_MAX_STEPS = 100
_LINE_SEARCH_MIN = 2.0 ** -30


# ------------------------------------------------------------------------------------------------
# setting


def colour_covariance(colour_matrix: Any) -> np.ndarray:
    """Σ of (9): Σ = (1/C) Σ_c (U e_c)(U e_c)ᵀ − (U1/C)(U1/C)ᵀ for context colours uniform on {0..C−1}."""
    U = np.asarray(colour_matrix, dtype=np.float64)
    C = U.shape[0]
    mean = U @ np.ones(C) / C
    return U @ U.T / C - np.outer(mean, mean)


@dataclasses.dataclass(frozen=True, eq=False)
class ReplicaSetting:
    """The teacher–student problem of §7.1 plus the cubature of §7.5.

    Attributes:
        colour_covariance: Σ (C×C), symmetric positive semi-definite, C ≥ 2.
        teacher_norm: ρ = ‖w*‖²/N > 0.
        ridge: λ > 0.
        cubature_order: n, Gauss–Hermite nodes per dimension of range(Σ) for ξ.
        cubature_order_teacher: nodes per dimension for the teacher noise ζ; default: the largest
            order ≤ n whose product rule has at most ``max_teacher_nodes`` nodes (= n for rank ≤ 2
            and n ≤ 40; 10 for rank 3).  The teacher expectation costs K_ξ·K_ζ softmax evaluations,
            and its integrand (noise variance ρ − m²/q ≤ ρ) does not sharpen as q grows.
        max_nodes: a product Gauss–Hermite rule with more nodes (after pruning) than this is replaced
            by a fixed scrambled Sobol set of this size (quasi-Monte Carlo, the large-C fallback: rank 3
            keeps the product rule up to n = 33, rank 4 up to n = 11).
        max_teacher_nodes: node budget of the default teacher rule (see ``cubature_order_teacher``).
    """

    colour_covariance: np.ndarray
    teacher_norm: float = 1.0
    ridge: float = 0.1
    cubature_order: int = 24
    cubature_order_teacher: int | None = None
    max_nodes: int = 16_384
    max_teacher_nodes: int = 1_024

    def __post_init__(self) -> None:
        S = np.asarray(self.colour_covariance, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != S.shape[1]:
            raise InputError("colour_covariance", f"shape {S.shape}", "must be a square (C×C) matrix")
        if S.shape[0] < 2:
            raise InputError("colours", S.shape[0], "must be >= 2")
        if not np.all(np.isfinite(S)):
            raise InputError("colour_covariance", "NaN/inf", "every entry must be finite")
        if not np.allclose(S, S.T, rtol=1e-12, atol=1e-12):
            raise InputError("colour_covariance", "non-symmetric matrix", "must be symmetric")
        ev = np.linalg.eigvalsh(S)
        if ev.max() <= 0 or ev.min() < -1e-10 * max(1.0, float(np.abs(ev).max())):
            raise InputError("colour_covariance", f"eigenvalues in [{ev.min():.3g}, {ev.max():.3g}]",
                             "must be positive semi-definite and non-zero")
        object.__setattr__(self, "colour_covariance", 0.5 * (S + S.T))
        if not (math.isfinite(self.teacher_norm) and self.teacher_norm > 0):
            raise InputError("teacher_norm", self.teacher_norm, "must be a finite number > 0")
        if not (math.isfinite(self.ridge) and self.ridge > 0):
            raise InputError("ridge", self.ridge, "must be a finite number > 0 (the saddle point needs λ > 0)")
        if self.cubature_order < 2:
            raise InputError("cubature_order", self.cubature_order, "must be >= 2")
        if self.cubature_order_teacher is not None and self.cubature_order_teacher < 1:
            raise InputError("cubature_order_teacher", self.cubature_order_teacher, "must be >= 1")

    @classmethod
    def from_colour_matrix(cls, colour_matrix: Any, **kwargs: Any) -> "ReplicaSetting":
        """The setting whose Σ follows from the colour matrix U by (9)."""
        U = np.asarray(colour_matrix, dtype=np.float64)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise InputError("colour_matrix", f"shape {U.shape}", "must be a square (C×C) matrix")
        if U.shape[0] < 2:
            raise InputError("colours", U.shape[0], "must be >= 2")
        return cls(colour_covariance(U), **kwargs)

    @property
    def colours(self) -> int:
        """C."""
        return int(self.colour_covariance.shape[0])

    @functools.cached_property
    def teacher_order(self) -> int:
        """Nodes per dimension for ζ (``cubature_order_teacher``, or the default of the class docstring)."""
        if self.cubature_order_teacher is not None:
            return self.cubature_order_teacher
        return largest_product_order(self.rank, self.max_teacher_nodes, self.cubature_order)

    @functools.cached_property
    def range_basis(self) -> np.ndarray:
        """B = Q_r Λ_r^{1/2} (C×r): S z = B Q_rᵀ z with S = Σ^{1/2}; r = rank Σ."""
        ev, Q = np.linalg.eigh(self.colour_covariance)
        keep = ev > 1e-12 * ev.max()
        return Q[:, keep] * np.sqrt(ev[keep])

    @property
    def rank(self) -> int:
        """r = rank Σ, the dimension of the cubature."""
        return int(self.range_basis.shape[1])

    def replace(self, **changes: Any) -> "ReplicaSetting":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def rules(self, order: int | None = None, teacher_order: int | None = None) -> tuple[GaussRule, GaussRule]:
        """The (ξ, ζ) cubature rules on range(Σ)."""
        n = self.cubature_order if order is None else order
        nt = self.teacher_order if teacher_order is None else teacher_order
        return (gaussian_rule(n, self.rank, max_nodes=self.max_nodes),
                gaussian_rule(nt, self.rank, max_nodes=self.max_nodes, seed=1))


class ReplicaState(NamedTuple):
    """Replica-symmetric order parameters (§7.2): m = ŵ·w*/N, q = ‖ŵ‖²/N, V and their conjugates."""

    m: Any
    q: Any
    V: Any
    m_hat: Any
    q_hat: Any
    V_hat: Any


# ------------------------------------------------------------------------------------------------
# proximal map (11)


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


# ------------------------------------------------------------------------------------------------
# the fixed-point map (13)-(14)


class _Nodes(NamedTuple):
    xi: jax.Array  # (K, r)
    w_xi: jax.Array  # (K,)
    zeta: jax.Array  # (Kt, r)
    w_zeta: jax.Array  # (Kt,)


class _Geometry(NamedTuple):
    B: jax.Array  # (C, r)
    rho: jax.Array
    lam: jax.Array


def _nodes(rule_xi: GaussRule, rule_zeta: GaussRule) -> _Nodes:
    return _Nodes(jnp.asarray(rule_xi.nodes), jnp.asarray(rule_xi.weights),
                  jnp.asarray(rule_zeta.nodes), jnp.asarray(rule_zeta.weights))


def _geometry(setting: ReplicaSetting) -> _Geometry:
    return _Geometry(jnp.asarray(setting.range_basis), jnp.asarray(float(setting.teacher_norm)),
                     jnp.asarray(float(setting.ridge)))


def _teacher_moments(m: jax.Array, q: jax.Array, geo: _Geometry, nodes: _Nodes) -> tuple[jax.Array, jax.Array]:
    """Per ξ node: Z_y(ξ) = E_ζ p*_y and G_y(ξ) = E_ζ p*_y (e_y − p*), p* = softmax(S u*),
    u* = (m/√q) ξ + √(ρ − m²/q) ζ (reduced coordinates).

    The logits split as t* = t_ξ + t_ζ, so with E_ξ = e^{t_ξ}, E_ζ = e^{t_ζ} (each shifted by its row
    maximum) and s = E_ξ E_ζᵀ (K×K_t): Z = E_ξ ⊙ ((w/s) E_ζ) and
    E_ζ[p*_y p*_c] = E_ξ,y E_ξ,c ((w/s²)(E_ζ,y E_ζ,c)) — matrix products instead of K·K_t softmaxes.
    """
    a = m / jnp.sqrt(q)
    b = jnp.sqrt(jnp.maximum(geo.rho - m * m / q, 0.0))
    return _teacher_ab(a, b, geo.B, nodes)


@jax.custom_jvp
def _teacher_ab(a: jax.Array, b: jax.Array, B: jax.Array, nodes: _Nodes) -> tuple[jax.Array, jax.Array]:
    """(Z, G) of :func:`_teacher_moments` as functions of a = m/√q and b = √(ρ − m²/q)."""
    return _teacher_ab_impl(a, b, B, nodes)


@_teacher_ab.defjvp
def _teacher_ab_jvp(primals: tuple, tangents: tuple) -> tuple:
    # (Z, G) depend on (m, q, V) only through (a, b): two forward-mode directions (computed once)
    # contracted with the incoming tangents, instead of one direction per tangent of (m, q, V)
    a, b, B, nodes = primals
    da, db = tangents[0], tangents[1]
    out, jac = jax.vmap(lambda v: jax.jvp(lambda a_, b_: _teacher_ab_impl(a_, b_, B, nodes), (a, b), (v[0], v[1])),
                        out_axes=(None, 0))(jnp.eye(2, dtype=a.dtype))
    return out, jax.tree_util.tree_map(lambda j: j[0] * da + j[1] * db, jac)


def _teacher_ab_impl(a: jax.Array, b: jax.Array, B: jax.Array, nodes: _Nodes) -> tuple[jax.Array, jax.Array]:
    K, Kt, C = nodes.xi.shape[0], nodes.zeta.shape[0], B.shape[0]
    t_xi = a * (nodes.xi @ B.T)  # (K, C)
    t_zeta = b * (nodes.zeta @ B.T)  # (Kt, C)
    E_zeta = jnp.exp(t_zeta - jnp.max(t_zeta, axis=1, keepdims=True))
    EE_zeta = (E_zeta[:, :, None] * E_zeta[:, None, :]).reshape(Kt, C * C)

    def block(tx: jax.Array) -> tuple[jax.Array, jax.Array]:
        E_xi = jnp.exp(tx - jnp.max(tx, axis=1, keepdims=True))  # (k, C)
        inv = 1.0 / (E_xi @ E_zeta.T)  # (k, Kt)
        Z = E_xi * ((inv * nodes.w_zeta) @ E_zeta)
        PP = ((inv * inv * nodes.w_zeta) @ EE_zeta).reshape(-1, C, C) * E_xi[:, :, None] * E_xi[:, None, :]
        return Z, jax.vmap(jnp.diag)(Z) - PP

    chunk = max(1, 2_000_000 // max(1, Kt * C))
    if K <= chunk:
        return block(t_xi)
    n_blocks = -(-K // chunk)
    pad = n_blocks * chunk - K
    tx = jnp.concatenate([t_xi, jnp.zeros((pad, C))]).reshape(n_blocks, chunk, C)
    Z, G = jax.lax.map(block, tx)  # bounded memory for large rules
    return Z.reshape(-1, C)[:K], G.reshape(-1, C, C)[:K]


def _student_side(q: jax.Array, V: jax.Array, geo: _Geometry, nodes: _Nodes,
                  xs0: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """x_ω = √q ξ per node (K, r) and the proximal points x*_y(x_ω) (K, C, r), Newton started from
    ``xs0`` (K, C, r) (the proximal points of a neighbouring state: a warm start) or from x_ω."""
    C = geo.B.shape[0]
    xw = jnp.sqrt(q) * nodes.xi
    eye = jnp.eye(C)
    start = jnp.broadcast_to(xw[:, None, :], xw.shape[:1] + (C,) + xw.shape[1:]) if xs0 is None else xs0
    prox_y = jax.vmap(_prox_from, in_axes=(None, None, 0, None, 0))
    xs = jax.vmap(prox_y, in_axes=(0, None, None, None, 0))(xw, V, eye, geo.B, start)
    return xw, xs


def _hats(x: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes,
          xs0: jax.Array | None = None) -> tuple[jax.Array, tuple]:
    """Energetic update (14): (m̂, q̂, V̂) at (m, q, V); also returns the per-node quantities
    ``(Z, x_ω, x*)``.  ``xs0``: warm start of the proximal points (see :func:`_student_side`)."""
    m, q, V = x[0], x[1], x[2]
    q = jnp.maximum(q, 1e-300)
    Z, G = _teacher_moments(m, q, geo, nodes)
    xw, xs = _student_side(q, V, geo, nodes, xs0)
    B = geo.B
    f = (xs - xw[:, None, :]) / V  # f_y in reduced coordinates (K, C, r)
    m_hat = alpha * nodes.w_xi @ jnp.einsum("kyr,cr,kyc->k", f, B, G)
    q_hat = alpha * nodes.w_xi @ jnp.einsum("ky,kyr->k", Z, f * f)
    p = jax.nn.softmax(xs @ B.T, axis=-1)  # (K, C, C) softmax(S z*_y)
    r = B.shape[1]

    def tr_inv_A(py: jax.Array) -> jax.Array:
        A = jnp.eye(r) + V * (B.T @ (jnp.diag(py) - jnp.outer(py, py)) @ B)
        return _spd_trace_inv(A)

    trA = jax.vmap(jax.vmap(tr_inv_A))(p)  # (K, C); tr A_y^{-1} on range(Σ)
    V_hat = alpha * nodes.w_xi @ jnp.einsum("ky,ky->k", Z, (r - trA) / V)
    return jnp.stack([m_hat, q_hat, V_hat]), (Z, xw, xs)


def _entropic(hats: jax.Array, geo: _Geometry) -> jax.Array:
    """Entropic update (13): m = ρm̂/(λ+V̂), q = (ρm̂² + q̂)/(λ+V̂)², V = 1/(λ+V̂)."""
    m_hat, q_hat, V_hat = hats[0], hats[1], hats[2]
    den = geo.lam + V_hat
    return jnp.stack([geo.rho * m_hat / den, (geo.rho * m_hat ** 2 + q_hat) / den ** 2, 1.0 / den])


def _map(x: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes) -> jax.Array:
    return _entropic(_hats(x, alpha, geo, nodes)[0], geo)


def _map_warm(x: jax.Array, xs0: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes) -> tuple[jax.Array, jax.Array]:
    """F(x) = (13)∘(14) with the proximal Newton solves started from ``xs0``; also returns the new
    proximal points (the warm start of the next evaluation).  F does not depend on ``xs0``."""
    hats, (_, _, xs) = _hats(x, alpha, geo, nodes, xs0)
    return _entropic(hats, geo), xs


def fixed_point_map(setting: ReplicaSetting, alpha: float, m: float, q: float, V: float) -> ReplicaState:
    """One application of (14) then (13): returns the new (m, q, V) and the hats (m̂, q̂, V̂) at the input."""
    geo = _geometry(setting)
    nodes = _nodes(*setting.rules())
    x = jnp.asarray([m, q, V], dtype=jnp.float64)
    hats = _hats_jit(x, jnp.asarray(float(alpha)), geo, nodes)
    new = _entropic(hats, geo)
    return ReplicaState(*(float(v) for v in new), *(float(v) for v in hats))


@jax.jit
def _hats_jit(x: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes) -> jax.Array:
    return _hats(x, alpha, geo, nodes)[0]


# ------------------------------------------------------------------------------------------------
# observables (§7.6) and free energy (12)


def _observables(x: jax.Array, hats: jax.Array, aux: tuple, alpha: jax.Array, geo: _Geometry,
                 nodes: _Nodes) -> dict:
    """Observables and Φ from the state and the per-node quantities ``aux = (Z, x_ω, x*)`` of :func:`_hats`."""
    m, q, V = x[0], x[1], x[2]
    Z, xw, xs = aux
    B = geo.B
    C = B.shape[0]
    eye = jnp.eye(C)
    logp_student = jax.nn.log_softmax(xw @ B.T, axis=-1)  # (K, C) at t̂ = √q S ξ
    test_ce = -nodes.w_xi @ jnp.sum(Z * logp_student, axis=-1)
    ce_prox = jax.vmap(jax.vmap(_ce))(xs @ B.T, jnp.broadcast_to(eye, xs.shape[:1] + eye.shape))  # (K, C)
    train_loss = nodes.w_xi @ jnp.sum(Z * ce_prox, axis=-1)
    pt = jax.nn.softmax(jnp.sqrt(geo.rho) * nodes.xi @ B.T, axis=-1)  # u* ~ N(0, ρ I)
    cond_entropy = -nodes.w_xi @ jnp.sum(pt * jnp.log(pt), axis=-1)
    envelope = jnp.sum((xs - xw[:, None, :]) ** 2, axis=-1) / (2 * V) + ce_prox  # M_V(y, ω) (K, C)
    m_hat, q_hat, V_hat = hats[0], hats[1], hats[2]
    phi = (-m * m_hat + 0.5 * V_hat * q - 0.5 * q_hat * V
           + (geo.rho * m_hat ** 2 + q_hat) / (2 * (geo.lam + V_hat))
           - alpha * nodes.w_xi @ jnp.sum(Z * envelope, axis=-1))
    return {
        "test_ce": test_ce,
        "kl": test_ce - cond_entropy,
        "cond_entropy": cond_entropy,
        "eps_w": (geo.rho - 2 * m + q) / geo.rho,
        "cosine": m / jnp.sqrt(geo.rho * q),
        "train_loss": train_loss,
        "free_energy": phi,
    }


@jax.jit
def _observables_jit(x: jax.Array, hats: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes) -> dict:
    return _observables(x, hats, _hats(x, alpha, geo, nodes)[1], alpha, geo, nodes)


def observables(setting: ReplicaSetting, alpha: float, state: ReplicaState) -> dict[str, float]:
    """Observables of §7.6 and the free energy Φ of (12) at a state.

    test_ce = E Σ_y p*_y (−ln softmax(t̂)_y), t̂ = √q S ξ; cond_entropy = E[−Σ_y p*_y ln p*_y],
    u* ~ N(0, ρI); kl = test_ce − cond_entropy; eps_w = (ρ − 2m + q)/ρ; cosine = m/√(ρq);
    train_loss = E_ξ Σ_y Z_y CE(y, S z*_y(√q ξ)); free_energy = Φ.
    """
    geo = _geometry(setting)
    nodes = _nodes(*setting.rules())
    x = jnp.asarray([state.m, state.q, state.V], dtype=jnp.float64)
    hats = jnp.asarray([state.m_hat, state.q_hat, state.V_hat], dtype=jnp.float64)
    out = _observables_jit(x, hats, jnp.asarray(float(alpha)), geo, nodes)
    return {k: float(v) for k, v in out.items()}


# ------------------------------------------------------------------------------------------------
# the saddle-point solver


def _valid(x: jax.Array, rho: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(x)) & (x[1] > 0) & (x[2] > 0) & (x[0] ** 2 < rho * x[1])


_SOLVERS = ("newton", "broyden", "fixed_point")


def _solve_loop(x0: jax.Array, J0: jax.Array, have_jac: jax.Array, xs0: jax.Array, alpha: jax.Array, geo: _Geometry,
                nodes: _Nodes, tol: jax.Array, max_steps: jax.Array, damping: jax.Array, solver: str) -> tuple:
    """Iterate to the fixed point of F = (13)∘(14); F is evaluated once per iteration.

    - ``fixed_point``: x ← (1 − d) x + d F(x).
    - ``newton``: F(x), then (unless x is converged) its Jacobian J by forward mode (batched
      ``jax.jvp``, the proximal map differentiated implicitly); next point x − (J − I)⁻¹ (F(x) − x).
    - ``broyden``: as ``newton`` but J is computed by forward mode only at the start (unless
      ``have_jac``, then ``J0`` is used: continuation along α) and after a rejected step; otherwise
      it gets Broyden's rank-one update J += ((ΔF − J Δx) Δxᵀ)/‖Δx‖².
    A (quasi-)Newton point whose residual max|F(x) − x| is not below that of the point it came from
    is rejected and the damped fixed-point step from that earlier point is taken (and accepted), as
    when the Newton point leaves the admissible set (q > 0, V > 0, m² < ρq).
    Every evaluation of F starts its proximal Newton solves from the proximal points of the
    previous evaluation (``xs0`` for the first: those of a neighbouring α, or x_ω), which changes
    the number of proximal Newton steps, not F.
    Returns (x, F(x), residual, iterations, J, proximal points at the last evaluated point).
    """
    eye = jnp.eye(3)

    def F(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
        return _map_warm(x, xs, alpha, geo, nodes)

    def F_and_J(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        # forward mode, the three tangent directions batched (the primal is computed once)
        Fx, J, xs_new = jax.vmap(lambda v: jax.jvp(lambda y: F(y, xs), (x,), (v,), has_aux=True),
                                 out_axes=(0, 1, 0))(eye)
        return Fx[0], J, xs_new[0]

    def cond(state: tuple) -> jax.Array:
        k, x, Fx, res, *_ = state
        return (k < max_steps) & ((k == 0) | ((res > tol) & jnp.isfinite(res)))

    def body(state: tuple) -> tuple:
        k, x, _, _, x_prev, F_prev, res_prev, must_accept, _, J, fresh, xs = state
        if solver == "fixed_point":
            Fx, xs = F(x, xs)
        elif solver == "newton":  # the Jacobian only where another step will be taken
            Fx, xs = F(x, xs)
            r = jnp.max(jnp.abs(Fx - x))
            J = jax.lax.cond((r > tol) & jnp.isfinite(r) & (k + 1 < max_steps),
                             lambda: F_and_J(x, xs)[1], lambda: J)
        else:  # broyden: a true Jacobian when asked for, else the rank-one update from the previous point
            def broyden(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
                Fx, xs = F(x, xs)
                dx = x - x_prev
                upd = jnp.outer(Fx - F_prev - J @ dx, dx) / jnp.maximum(dx @ dx, 1e-300)
                return Fx, J + jnp.where(dx @ dx > 0, upd, 0.0), xs

            Fx, J, xs = jax.lax.cond(fresh, F_and_J, broyden, x, xs)
        res = jnp.max(jnp.abs(Fx - x))
        better = must_accept | (res < res_prev) | (solver == "fixed_point")
        base, F_base, res_base = (jnp.where(better, x, x_prev), jnp.where(better, Fx, F_prev),
                                  jnp.where(better, res, res_prev))
        x_fp = (1 - damping) * base + damping * F_base
        if solver == "fixed_point":
            x_next, accept_next = x_fp, jnp.asarray(True)
        else:
            x_nt = x - jnp.linalg.solve(J - eye, Fx - x)
            use_nt = better & _valid(x_nt, geo.rho) & jnp.all(jnp.isfinite(J))
            x_next = jnp.where(use_nt, x_nt, x_fp)
            accept_next = ~use_nt
        fresh_next = accept_next if solver == "broyden" else jnp.asarray(False)
        return k + 1, x_next, Fx, res, base, F_base, res_base, accept_next, x, J, fresh_next, xs

    inf = jnp.asarray(jnp.inf, x0.dtype)
    init = (0, x0, x0, inf, x0, x0, inf, jnp.asarray(True), x0, J0, ~have_jac, xs0)
    # state: (k, next point, F(last evaluated), its residual, best point, F(best), residual of best,
    #         accept the next point unconditionally, last evaluated point, Jacobian, refresh Jacobian,
    #         proximal points of the last evaluation)
    k, _, Fx, res, x_best, F_best, res_best, _, x_eval, J, _, xs = jax.lax.while_loop(cond, body, init)
    keep = (res <= res_best) | ~jnp.isfinite(res_best)
    return (jnp.where(keep, x_eval, x_best), jnp.where(keep, Fx, F_best), jnp.where(keep, res, res_best), k, J, xs)


@functools.partial(jax.jit, static_argnames=("solver",))
def _solve_point(x0: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes, tol: jax.Array,
                 max_steps: jax.Array, damping: jax.Array, solver: str) -> tuple:
    x, Fx, res, k, _, xs = _solve_loop(x0, jnp.eye(3), jnp.asarray(False), _cold_start(x0, geo, nodes), alpha, geo,
                                       nodes, tol, max_steps, damping, solver)
    hats, aux = _hats(x, alpha, geo, nodes, xs)
    obs = _observables(x, hats, aux, alpha, geo, nodes)
    return x, hats, res, k, obs


@functools.partial(jax.jit, static_argnames=("solver",))
def _solve_curve(x0: jax.Array, alphas: jax.Array, geo: _Geometry, nodes: _Nodes, tol: jax.Array,
                 max_steps: jax.Array, damping: jax.Array, solver: str) -> tuple:
    """All α in one scan (α increasing).  Each point starts from the secant prediction through the
    two previous solutions (linear in ln α), or from the previous solution when only that one is
    valid or the prediction leaves the admissible set, else from ``x0``; ``broyden`` also keeps the
    last Jacobian and the proximal Newton solves start from the previous proximal points."""
    xs_cold = _cold_start(x0, geo, nodes)

    def step(carry: tuple, alpha: jax.Array) -> tuple:
        x_prev, J_prev, have, xs_prev, x_pp, la_prev, la_pp, have_pp = carry
        la = jnp.log(alpha)
        slope = (x_prev - x_pp) / jnp.where(la_prev > la_pp, la_prev - la_pp, 1.0)
        x_pred = x_prev + slope * (la - la_prev)
        use_pred = have & have_pp & (la_prev > la_pp) & _valid(x_pred, geo.rho)
        start = jnp.where(use_pred, x_pred, x_prev)
        x, Fx, res, k, J, xs = _solve_loop(start, J_prev, have, xs_prev, alpha, geo, nodes, tol, max_steps, damping,
                                           solver)
        hats, aux = _hats(x, alpha, geo, nodes, xs)
        obs = _observables(x, hats, aux, alpha, geo, nodes)
        good = _valid(x, geo.rho) & jnp.isfinite(res) & jnp.all(jnp.isfinite(J)) & jnp.all(jnp.isfinite(aux[2]))
        carry = (jnp.where(good, x, x0), jnp.where(good, J, jnp.eye(3)), good, jnp.where(good, aux[2], xs_cold),
                 x_prev, la, la_prev, have)
        return carry, (x, hats, res, k, obs)

    init = (x0, jnp.eye(3), jnp.asarray(False), xs_cold, x0, jnp.asarray(-jnp.inf), jnp.asarray(-jnp.inf),
            jnp.asarray(False))
    _, out = jax.lax.scan(step, init, alphas)
    return out


def _cold_start(x0: jax.Array, geo: _Geometry, nodes: _Nodes) -> jax.Array:
    """Start of the proximal Newton solves at (m, q, V) = x0: x_ω = √q ξ for every label, (K, C, r)."""
    xw = jnp.sqrt(jnp.maximum(x0[1], 1e-300)) * nodes.xi
    return jnp.broadcast_to(xw[:, None, :], (xw.shape[0], geo.B.shape[0], xw.shape[1]))


def _default_init(setting: ReplicaSetting) -> jax.Array:
    """The start (m, q, V) = (0.01, 0.02, 1/λ) of §7.4."""
    return jnp.asarray([0.01, 0.02, 1.0 / setting.ridge], dtype=jnp.float64)


def _init_array(setting: ReplicaSetting, init: Any) -> jax.Array:
    if init is None:
        return _default_init(setting)
    if isinstance(init, (ReplicaState, Solution)):
        st = init.value if isinstance(init, Solution) else init
        return jnp.asarray([float(st.m), float(st.q), float(st.V)], dtype=jnp.float64)
    arr = jnp.asarray(init, dtype=jnp.float64).reshape(-1)[:3]
    return arr


def _check_alpha(alpha: Any) -> None:
    a = np.asarray(alpha, dtype=np.float64)
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InputError("alpha", alpha if a.size < 8 else f"{a.size} values", "every α must be a finite number > 0")


def _result_of(x: np.ndarray, res: float, k: int, max_steps: int, tol: float, rho: float) -> Result:
    if not (np.all(np.isfinite(x)) and math.isfinite(res)):
        return Result.nonfinite
    if res <= tol:
        return Result.converged
    if x[1] <= 0 or x[2] <= 0 or x[0] ** 2 > rho * x[1]:
        return Result.diverged
    return Result.max_steps


def _solver_flag(solver: str) -> str:
    if solver not in _SOLVERS:
        raise InputError("solver", solver, "must be one of " + ", ".join(_SOLVERS))
    return solver


def solve(setting: ReplicaSetting, alpha: float, *, solver: str = "newton", init: Any = None,
          max_steps: int = 3000, tol: float = 1e-10, damping: float = 0.5, throw: bool = True,
          cubature_check: bool = True) -> Solution[ReplicaState]:
    """Solve the saddle-point equations (13)–(14) at one α.

    Args:
        setting: the problem and its cubature.
        alpha: α = M/N > 0.
        solver: ``"newton"`` (Newton on F(x) − x with the Jacobian by forward-mode autodiff through
            the implicit proximal map; a damped fixed-point step whenever Newton does not reduce the
            residual), ``"broyden"`` (the same with Broyden updates of the Jacobian) or
            ``"fixed_point"`` (x ← (1 − d) x + d F(x)); see :func:`_solve_loop`.
        init: start (m, q, V) as a sequence, a ReplicaState or a Solution; default (0.01, 0.02, 1/λ).
        max_steps, tol, damping: stop when max|F(x) − x| ≤ tol; d = damping.
        throw: raise :class:`SolverError` when not converged.
        cubature_check: also solve with ⌈1.5n⌉ nodes (warm start) and report the largest relative
            change of (m, q, V) in ``stats["cubature_change"]``.

    Returns:
        Solution whose value is a :class:`ReplicaState`; ``action`` is Φ of (12); ``stats`` holds the
        observables, wall time, map evaluations and cubature details.
    """
    _check_alpha(alpha)
    solver = _solver_flag(solver)
    geo = _geometry(setting)
    rx, rz = setting.rules()
    t0 = time.perf_counter()
    x, hats, res, k, obs = _solve_point(_init_array(setting, init), jnp.asarray(float(alpha)), geo,
                                            _nodes(rx, rz), jnp.asarray(tol), jnp.asarray(max_steps),
                                            jnp.asarray(damping), solver)
    x = np.asarray(x)
    wall = time.perf_counter() - t0
    res_f, k_i = float(res), int(k)
    result = _result_of(x, res_f, k_i, max_steps, tol, setting.teacher_norm)
    stats: dict[str, Any] = {
        "solver": solver, "damping": damping, "wall_time_s": wall,
        "cubature": rx.kind, "cubature_order": rx.order, "cubature_nodes": rx.size,
        "teacher_nodes": rz.size, "rank": setting.rank,
        **{name: float(v) for name, v in obs.items()},
    }
    if cubature_check and result is Result.converged:
        n2 = int(math.ceil(1.5 * setting.cubature_order))
        nt2 = int(math.ceil(1.5 * setting.teacher_order))
        rx2, rz2 = setting.rules(n2, nt2)
        x2 = _solve_point(jnp.asarray(x), jnp.asarray(float(alpha)), geo, _nodes(rx2, rz2), jnp.asarray(tol),
                          jnp.asarray(max_steps), jnp.asarray(damping), solver)[0]
        stats["cubature_order_check"] = n2
        stats["cubature_check_rule"] = rx2.kind
        stats["cubature_change"] = float(np.max(np.abs(np.asarray(x2) - x) / np.abs(x)))
    value = ReplicaState(*(float(v) for v in x), *(float(v) for v in np.asarray(hats)))
    sol = Solution(value, result, res_f, k_i, float(obs["free_energy"]), stats)
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol


def replica_curve(setting: ReplicaSetting, alphas: Sequence[float], init: Any = None, *,
                  solver: str = "newton", max_steps: int = 3000, tol: float = 1e-10, damping: float = 0.5,
                  cubature_check: bool = True) -> list[dict[str, Any]]:
    """The α-curve: one record per α (in the order given) with the keys :data:`POINT_KEYS`.

    The α are solved in increasing order with continuation (each point starts from the solution at
    the previous α; the first from ``init`` or (0.01, 0.02, 1/λ)), all inside one jitted
    ``lax.scan``, so the curve compiles once per rule size and α-chunk length.  A pure function of
    (setting, α-chunk, init): usable as a task of a parallel map.  With ``cubature_check`` each
    record also carries ``cubature_change`` (largest relative change of (m, q, V) with ⌈1.5n⌉ nodes).
    Points that did not converge are recorded with ``converged = False`` (never raised).
    """
    _check_alpha(alphas)
    solver = _solver_flag(solver)
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    order = np.argsort(a, kind="stable")
    geo = _geometry(setting)
    x0 = _init_array(setting, init)
    args = (jnp.asarray(tol), jnp.asarray(max_steps), jnp.asarray(damping))
    xs, hats, res, ks, obs = _solve_curve(x0, jnp.asarray(a[order]), geo, _nodes(*setting.rules()),
                                               *args, solver)
    xs, hats, res, ks = (np.asarray(v) for v in (xs, hats, res, ks))
    obs = {k: np.asarray(v) for k, v in obs.items()}
    change = None
    if cubature_check:
        n2 = int(math.ceil(1.5 * setting.cubature_order))
        nt2 = int(math.ceil(1.5 * setting.teacher_order))
        xs2 = np.asarray(_solve_curve(x0, jnp.asarray(a[order]), geo, _nodes(*setting.rules(n2, nt2)),
                                      *args, solver)[0])
        change = np.max(np.abs(xs2 - xs) / np.abs(xs), axis=1)
    records: list[dict[str, Any]] = [{} for _ in a]
    for j, i in enumerate(order):
        result = _result_of(xs[j], float(res[j]), int(ks[j]), max_steps, tol, setting.teacher_norm)
        rec: dict[str, Any] = {
            "alpha": float(a[i]), "m": float(xs[j, 0]), "q": float(xs[j, 1]), "V": float(xs[j, 2]),
            "m_hat": float(hats[j, 0]), "q_hat": float(hats[j, 1]), "V_hat": float(hats[j, 2]),
            "residual": float(res[j]), "iterations": int(ks[j]), "converged": result is Result.converged,
        }
        rec.update({k: float(obs[k][j]) for k in OBSERVABLES + ("free_energy",)})
        if change is not None:
            rec["cubature_change"] = float(change[j])
        records[i] = rec
    return records


# ------------------------------------------------------------------------------------------------
# closed-form limits (15)-(16)


def _teacher_prior_moments(setting: ReplicaSetting) -> tuple[np.ndarray, np.ndarray]:
    """π_y = E p*_y and g_y = E p*_y (e_y − p*) for u* ~ N(0, ρ I) (cubature over the ξ rule)."""
    rule = setting.rules()[0]
    B = setting.range_basis
    t = np.sqrt(setting.teacher_norm) * rule.nodes @ B.T
    t = t - t.max(axis=1, keepdims=True)
    p = np.exp(t)
    p /= p.sum(axis=1, keepdims=True)
    pi = rule.weights @ p
    g = np.diag(pi) - np.einsum("k,ky,kc->yc", rule.weights, p, p)
    return pi, g


def alpha_to_zero_limit(setting: ReplicaSetting) -> dict[str, float]:
    """Leading order as α → 0 at fixed λ, eq. (15): m/α, q/α and V̂/α.

    z̄_y = argmin_z [λ‖z‖²/2 + CE(y, Sz)], f̄_y = λ z̄_y = S(e_y − softmax(S z̄_y)),
    m/α → (ρ/λ) Σ_y f̄_y·S g_y, q/α → λ⁻² Σ_y π_y ‖f̄_y‖², V̂/α → λ Σ_y π_y (C − tr(I + S D(p̄_y) S/λ)⁻¹).
    """
    lam, rho = setting.ridge, setting.teacher_norm
    B = jnp.asarray(setting.range_basis)
    C, r = B.shape
    V = jnp.asarray(1.0 / lam)
    zero = jnp.zeros(r)
    xbar = jax.vmap(proximal_map, in_axes=(None, None, 0, None))(zero, V, jnp.eye(C), B)
    fbar = np.asarray(xbar) * lam  # (C, r) reduced coordinates of f̄_y
    pi, g = _teacher_prior_moments(setting)
    Bn = np.asarray(B)
    m_over = rho / lam * float(np.sum(np.einsum("yr,cr,yc->y", fbar, Bn, g)))
    q_over = float(np.sum(pi * np.sum(fbar ** 2, axis=1))) / lam ** 2
    pbar = np.asarray(jax.nn.softmax(xbar @ B.T, axis=-1))
    vh = 0.0
    for y in range(C):
        D = np.diag(pbar[y]) - np.outer(pbar[y], pbar[y])
        A = np.eye(r) + Bn.T @ D @ Bn / lam
        vh += pi[y] * (r - np.trace(np.linalg.solve(A, np.eye(r))))
    return {"m_over_alpha": float(m_over), "q_over_alpha": float(q_over), "V_hat_over_alpha": float(lam * vh)}


def large_ridge_limit(setting: ReplicaSetting, alpha: float, *, shifted: bool = False) -> dict[str, float]:
    """Leading order as λ → ∞ at fixed α, eq. (16) (Hebbian estimator).

    m̂_∞ = α E tr[Σ D(p*)], q̂_∞ = α Σ_y π_y (e_y − 1/C)ᵀ Σ (e_y − 1/C), V̂ = α E Σ_y p*_y tr[S D(1/C) S]
    (= α tr Σ / C for doubly centred U); m = ρ m̂_∞/λ, q = (ρ m̂_∞² + q̂_∞)/λ², cosine = √ρ m̂_∞/√(ρ m̂_∞² + q̂_∞).
    ``shifted=True`` replaces λ by λ + V̂ in the denominators.
    """
    _check_alpha(alpha)
    Sig = setting.colour_covariance
    C = setting.colours
    pi, g = _teacher_prior_moments(setting)
    m_hat = alpha * float(np.trace(Sig @ g))  # Σ_y g_yy... tr[Σ E D(p*)] with E D(p*) = g (rows y)
    e = np.eye(C) - 1.0 / C
    q_hat = alpha * float(sum(pi[y] * e[y] @ Sig @ e[y] for y in range(C)))
    Du = np.eye(C) / C - np.ones((C, C)) / C ** 2
    V_hat = alpha * float(np.trace(Sig @ Du))
    lam = setting.ridge + (V_hat if shifted else 0.0)
    rho = setting.teacher_norm
    m = rho * m_hat / lam
    q = (rho * m_hat ** 2 + q_hat) / lam ** 2
    return {"m": m, "q": q, "V_hat": V_hat, "m_hat": m_hat, "q_hat": q_hat,
            "cosine": math.sqrt(rho) * m_hat / math.sqrt(rho * m_hat ** 2 + q_hat)}
