"""The parametrisation of the order parameters: U_ℓ = L_ℓ L_ℓᵀ, L_ℓ lower triangular, diag(L_ℓ) = exp(θ_diag).

Three coordinate systems over the same (U₁, …, U_L), layer 1 first:

- θ: the unconstrained parameters the solvers move (row-major lower triangles of the L_ℓ, diagonal
  entries stored as logs), so every θ gives positive-definite U_ℓ (:func:`unpack`, :func:`pack_np`);
- x: the independent entries of the symmetric U_ℓ (row-major upper triangles; x_p sets U_ab = U_ba),
  over which the derivatives are taken (:func:`x_to_U`, :func:`U_to_x`, :func:`theta_to_x`);
- the flattened full matrices (:func:`flatten_U`, :func:`unflatten_U`), the symmetric convention of
  the fixed-point iteration.

Also here: the action S in those coordinates and the solvers' warm start (:func:`_initial_theta`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ._action import EnergyFactors, OrderParameters, PathsProblem, ProblemArrays, action_from, energy_factors, entropy
from ._model import Hyper


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


def pack_np(U: Sequence[np.ndarray], layout: Layout) -> np.ndarray:
    """(U₁, …, U_L) ↦ θ (inverse of :func:`unpack`; Cholesky of each U_ℓ), on the host (NumPy)."""
    parts = []
    for u, d in zip(U, layout.dims):
        u = np.asarray(u, dtype=np.float64)
        c = np.linalg.cholesky(0.5 * (u + u.T))
        rows, cols = np.tril_indices(d)
        vals = c[rows, cols]
        parts.append(np.where(rows == cols, np.log(np.where(rows == cols, vals, 1.0)), vals))
    return np.concatenate(parts)


def unpack_np(theta: np.ndarray, layout: Layout) -> tuple[np.ndarray, ...]:
    """:func:`unpack` on the host (NumPy)."""
    theta = np.asarray(theta, dtype=np.float64)
    out, k = [], 0
    for d in layout.dims:
        n = d * (d + 1) // 2
        rows, cols = np.tril_indices(d)
        vals = theta[k:k + n]
        lower = np.zeros((d, d))
        lower[rows, cols] = np.where(rows == cols, np.exp(np.where(rows == cols, vals, 0.0)), vals)
        out.append(lower @ lower.T)
        k += n
    return tuple(out)


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
# derivatives over the independent entries x = (upper triangles of U₁, …, U_L)


def x_multiplicity(layout: Layout) -> np.ndarray:
    """How many entries of U each independent entry sets: 1 on a diagonal, 2 off it (x order)."""
    return np.concatenate([np.where(r == c, 1.0, 2.0) for r, c in (np.triu_indices(d) for d in layout.dims)])


def x_to_U(x: jnp.ndarray, layout: Layout) -> tuple[jnp.ndarray, ...]:
    """Independent entries (row-major upper triangles, layer 1 first) ↦ symmetric (U₁, …, U_L)."""
    out, k = [], 0
    for d in layout.dims:
        rows, cols = np.triu_indices(d)
        n = rows.size
        out.append(jnp.zeros((d, d), dtype=x.dtype).at[rows, cols].set(x[k:k + n]).at[cols, rows].set(x[k:k + n]))
        k += n
    return tuple(out)


def U_to_x(U: Sequence[jnp.ndarray]) -> jnp.ndarray:
    """(U₁, …, U_L) ↦ their independent entries (row-major upper triangles)."""
    return jnp.concatenate([u[np.triu_indices(u.shape[0])] for u in U])


def theta_to_x(theta: jnp.ndarray, layout: Layout) -> jnp.ndarray:
    """θ ↦ x, the independent entries of U_ℓ = L_ℓ L_ℓᵀ."""
    return U_to_x(unpack(theta, layout))


# ------------------------------------------------------------------------------------------
# the action in these coordinates, and the solvers' warm start


def _action_flat(u: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    """S over all entries of (U₁, …, U_L) flattened, each U symmetrised first (the symmetric convention)."""
    U = unflatten_U(u, layout)
    U = tuple(0.5 * (m + m.T) for m in U)
    return action_from(U, arrays, layout.heads, hyper)


def _action_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> jnp.ndarray:
    return action_from(x_to_U(x, layout), arrays, layout.heads, hyper)


def _entropy_x(x: jnp.ndarray, hyper: Hyper, layout: Layout, assume_pd: bool = False) -> jnp.ndarray:
    return entropy(x_to_U(x, layout), layout.heads, hyper, assume_pd=assume_pd)


def _n_max(hyper: Hyper) -> jnp.ndarray:
    return jnp.maximum(jnp.max(hyper.widths), hyper.width_readout)


def _n_first(layout: Layout) -> int:
    """Number of independent entries of U₁ (they come first in x)."""
    return layout.dims[0] * (layout.dims[0] + 1) // 2


def _energy_factors_x(x: jnp.ndarray, arrays: ProblemArrays, hyper: Hyper, layout: Layout) -> tuple[int, EnergyFactors]:
    """(number of independent entries of U₁, the energy factors at the U₁ those entries set)."""
    n1 = _n_first(layout)
    u1 = x_to_U(x[:n1], layout._replace(dims=layout.dims[:1]))[0]
    return n1, energy_factors(u1, arrays, hyper.temperature)


def _initial_theta(problem: PathsProblem, init: Any, layout: Layout) -> np.ndarray:
    """θ of the warm start (default the GP point), checked and packed on the host."""
    if init is None:  # U_ℓ = c_ℓ I: L_ℓ = √c_ℓ I, so θ is ½ ln c_ℓ on the diagonal and 0 off it
        m = problem.model
        parts = []
        for l, d in enumerate(layout.dims):
            rows, cols = np.tril_indices(d)
            c = m.sigma2_readout * float(np.prod(m.sigma2_layers[l:]))
            parts.append(np.where(rows == cols, 0.5 * math.log(c), 0.0))
        return np.concatenate(parts)
    U = init.U if isinstance(init, OrderParameters) else tuple(init)
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
    return pack_np(U, layout)
