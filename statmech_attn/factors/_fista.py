"""Non-negative sparse codes by FISTA (Beck & Teboulle), vmapped over tokens.

For a dictionary Φ (d × K, unit-norm columns) and a hidden state x ∈ R^d the code solves

    min_{α ⪰ 0}  ½ |x − Φα|² + λ Σ_c α_c,

by proximal gradient steps of size 1/L, L = λ_max(ΦᵀΦ), with the non-negative soft threshold
α ← max(y − (Φᵀ(Φy − x) + λ)/L, 0) and Nesterov momentum (restarted when it points uphill,
O'Donoghue & Candès).  Stopping uses the KKT residual of the problem,
r(α) = max_c |min(α_c, g_c + λ)|, g = Φᵀ(Φα − x): zero exactly at the minimiser.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from .._solution import Result, Solution, SolverError
from ..errors import InputError

__all__ = ["lipschitz", "kkt_residual", "lasso_objective", "sparse_codes", "check_states", "check_dictionary"]


def check_states(x: np.ndarray, param: str = "states", ndims: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """States as a finite float64 array of (tokens, d) or (layers, tokens, d), else ``InputError``."""
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(param, type(x).__name__, "must be a numeric array") from None
    if x.ndim not in ndims:
        shapes = " or ".join({2: "(tokens, d)", 3: "(layers, tokens, d)"}[k] for k in ndims)
        raise InputError(param, f"shape {x.shape}", f"must have shape {shapes}")
    if x.size == 0 or 0 in x.shape:
        raise InputError(param, f"shape {x.shape}", "must not be empty")
    if not np.all(np.isfinite(x)):
        raise InputError(param, "NaN/inf", "every entry must be finite")
    return x


def check_dictionary(phi: np.ndarray, d: int | None = None, param: str = "dictionary") -> np.ndarray:
    """Φ as a finite (d, K) float64 matrix with non-zero columns."""
    phi = np.asarray(phi, dtype=np.float64)
    if phi.ndim != 2 or 0 in phi.shape:
        raise InputError(param, f"shape {phi.shape}", "must be a (d, n_factors) matrix")
    if d is not None and phi.shape[0] != d:
        raise InputError(param, f"shape {phi.shape}", f"must have d = {d} rows (the states' d)")
    if not np.all(np.isfinite(phi)):
        raise InputError(param, "NaN/inf", "every entry must be finite")
    if np.any(np.linalg.norm(phi, axis=0) == 0):
        raise InputError(param, "zero column", "every column must be non-zero")
    return phi


def lipschitz(phi: jax.Array) -> jax.Array:
    """``L = λ_max(ΦᵀΦ) = ‖Φ‖₂²``, the Lipschitz constant of the gradient of ½|x − Φα|²."""
    return jnp.linalg.norm(phi, ord=2) ** 2


def kkt_residual(alpha: jax.Array, grad: jax.Array, lam: float) -> jax.Array:
    """``max_c |min(α_c, g_c + λ)|``: 0 iff α is optimal (α ⪰ 0, g + λ ⪰ 0, α_c (g_c + λ) = 0)."""
    return jnp.max(jnp.abs(jnp.minimum(alpha, grad + lam)), axis=-1)


def lasso_objective(x: jax.Array, phi: jax.Array, alpha: jax.Array, lam: float) -> jax.Array:
    """``½ |x − Φα|² + λ |α|₁`` per token (rows of x and alpha)."""
    r = x - alpha @ phi.T
    return 0.5 * jnp.sum(r * r, axis=-1) + lam * jnp.sum(jnp.abs(alpha), axis=-1)


def _fista_one(b: jax.Array, gram: jax.Array, lam: float, step: float, alpha0: jax.Array, max_steps: int,
               tol: float):
    """FISTA for one token given b = Φᵀx and G = ΦᵀΦ (the objective's gradient is Gα − b)."""

    def cond(s):
        return (s[0] < max_steps) & (s[-1] > tol)

    def body(s):
        k, alpha, g_alpha, y, g_y, t, _ = s
        new = jnp.maximum(y - step * (g_y - b + lam), 0.0)
        g_new = gram @ new                                  # the one matrix-vector product per step
        t_new = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t * t))
        uphill = jnp.dot(y - new, new - alpha) > 0          # adaptive restart
        mom = jnp.where(uphill, 0.0, (t - 1.0) / t_new)
        t_new = jnp.where(uphill, 1.0, t_new)
        y_new = new + mom * (new - alpha)
        g_y_new = g_new + mom * (g_new - g_alpha)           # G y_new by linearity
        res = kkt_residual(new, g_new - b, lam)
        return k + 1, new, g_new, y_new, g_y_new, t_new, res

    g0 = gram @ alpha0
    res0 = kkt_residual(alpha0, g0 - b, lam)
    k, alpha, _, _, _, _, res = jax.lax.while_loop(
        cond, body, (jnp.asarray(0), alpha0, g0, alpha0, g0, jnp.asarray(1.0), res0))
    return alpha, k, res


@functools.partial(jax.jit, static_argnames=("max_steps",))
def _codes(x: jax.Array, phi: jax.Array, lam: float, alpha0: jax.Array, max_steps: int, tol: float):
    gram = phi.T @ phi
    step = 1.0 / lipschitz(phi)
    b = x @ phi
    return jax.vmap(_fista_one, in_axes=(0, None, None, None, 0, None, None))(b, gram, lam, step, alpha0, max_steps,
                                                                                 tol)


@functools.partial(jax.jit, static_argnames=("max_steps", "chunk"))
def _codes_chunked(x: jax.Array, phi: jax.Array, lam: float, alpha0: jax.Array, max_steps: int, tol: float,
                   chunk: int):
    """:func:`_codes` over blocks of ``chunk`` tokens (``lax.map``): a vmapped while-loop runs until
    its slowest token converges, so blocks keep fast tokens from waiting on the slowest overall."""
    m, d = x.shape
    pad = (-m) % chunk
    xp = jnp.concatenate([x, jnp.zeros((pad, d))]).reshape(-1, chunk, d)
    ap = jnp.concatenate([alpha0, jnp.zeros((pad, alpha0.shape[1]))]).reshape(-1, chunk, alpha0.shape[1])
    a, k, r = jax.lax.map(lambda xa: _codes(xa[0], phi, lam, xa[1], max_steps, tol), (xp, ap))
    return a.reshape(-1, alpha0.shape[1])[:m], k.reshape(-1)[:m], r.reshape(-1)[:m]


def sparse_codes(states: np.ndarray, dictionary: np.ndarray, sparsity: float, *, max_steps: int = 2000,
                 tol: float = 1e-8, init: np.ndarray | None = None, chunk_size: int = 32,
                 throw: bool = True) -> Solution:
    """Non-negative lasso codes of every row of ``states`` (m, d) against Φ (d, K).

    Returns a :class:`~statmech_attn.Solution` whose ``value`` is the code matrix (m, K);
    ``residual`` is the largest KKT residual over tokens, ``iterations`` the largest FISTA
    iteration count, ``action`` the total objective Σ_tokens ½|x − Φα|² + λ|α|₁, and ``stats`` holds
    ``mean_iterations``, ``lipschitz`` and ``wall_time``.  Tokens are solved in vmapped blocks of
    ``chunk_size``.
    """
    x = check_states(states, ndims=(2,))
    phi = check_dictionary(dictionary, x.shape[1])
    if not (np.isfinite(sparsity) and sparsity >= 0):
        raise InputError("sparsity", sparsity, "must be a finite number >= 0 (the λ of the lasso)")
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise InputError("max_steps", max_steps, "must be an integer >= 1")
    if not (tol > 0):
        raise InputError("tol", tol, "must be > 0")
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        raise InputError("chunk_size", chunk_size, "must be an integer >= 1")
    k = phi.shape[1]
    a0 = np.zeros((x.shape[0], k)) if init is None else np.maximum(np.asarray(init, dtype=np.float64), 0.0)
    if a0.shape != (x.shape[0], k):
        raise InputError("init", f"shape {a0.shape}", f"must have shape ({x.shape[0]}, {k})")
    t0 = time.perf_counter()
    chunk = int(min(chunk_size, x.shape[0]))
    alpha, iters, res = _codes_chunked(jnp.asarray(x), jnp.asarray(phi), float(sparsity), jnp.asarray(a0),
                                       int(max_steps), float(tol), chunk)
    alpha = np.asarray(alpha)
    res_max = float(jnp.max(res))
    obj = float(jnp.sum(lasso_objective(jnp.asarray(x), jnp.asarray(phi), jnp.asarray(alpha), sparsity)))
    if not (np.isfinite(res_max) and np.isfinite(obj)):
        result = Result.nonfinite
    else:
        result = Result.converged if res_max <= tol else Result.max_steps
    sol = Solution(alpha, result, res_max, int(jnp.max(iters)), obj,
                   {"mean_iterations": float(jnp.mean(iters)), "lipschitz": float(lipschitz(jnp.asarray(phi))),
                    "wall_time": time.perf_counter() - t0})
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
