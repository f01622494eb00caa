"""Pseudo-likelihood of Potts couplings and the map from factored attention to couplings (§5).

A general Potts model is given by a coupling tensor 𝒥 (L, L, C, C) — 𝒥_ij(a,b), the diagonal
blocks i = j ignored — and field logits f (L, C) = βh.  Its conditionals are

    P_{𝒥,f}(s_i = a | s_−i) = softmax_a( Σ_{j≠i} 𝒥_ij(a, s_j) + f_i(a) ),                   (2)

and the (asymmetric) negative pseudo-log-likelihood per sample and site of M sequences is

    −(ML)⁻¹ ln PL(𝒥, f) = −(ML)⁻¹ Σ_μ Σ_i ln P_{𝒥,f}(s^μ_i | s^μ_−i).                          (8)

A factored attention layer (W (H,L,L), V (H,C,C), b (L,C)) maps to

    𝒥^θ_ij(a,b) = Σ_h A^h_ij V^h_ab (i ≠ j),     f^θ = b,                                    (7)

with A the attention matrix (3a) (softmax over keys j ≠ i) or (3b) (linear).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from .._solution import Result, Solution
from ..errors import InputError

__all__ = [
    "attention_matrix",
    "factored_couplings",
    "tensor_conditional_logits",
    "neg_pseudo_loglik",
    "pl_objective",
    "PseudoLikelihoodFit",
    "fit_pseudolikelihood",
    "check_sequences",
]


def attention_matrix(W: jax.Array, attention: Literal["softmax", "linear"] = "softmax") -> jax.Array:
    """A^h (H, L, L) from scores W^h: (3a) softmax over keys j ≠ i, or (3b) A = W off the diagonal.

    Rows are queries (the site being predicted), columns keys; A^h_ii = 0 in both cases.
    """
    L = W.shape[-1]
    off = ~jnp.eye(L, dtype=bool)
    if attention == "linear":
        return jnp.where(off, W, 0.0)
    if attention != "softmax":
        raise InputError("train.attention", attention, "must be 'softmax' or 'linear'")
    return jax.nn.softmax(jnp.where(off, W, -jnp.inf), axis=-1)


def factored_couplings(W: jax.Array, V: jax.Array, b: jax.Array | None = None,
                       attention: Literal["softmax", "linear"] = "softmax") -> tuple[jax.Array, jax.Array]:
    """(𝒥^θ, f^θ) of (7): 𝒥^θ_ij(a,b) = Σ_h A^h_ij V^h_ab (zero for i = j), f^θ = b (zeros if None)."""
    A = attention_matrix(W, attention)
    J = jnp.einsum("hij,hab->ijab", A, V)
    L, C = W.shape[-1], V.shape[-1]
    f = jnp.zeros((L, C), dtype=J.dtype) if b is None else b
    return J, f


def tensor_conditional_logits(couplings: jax.Array, field_logits: jax.Array, s: jax.Array) -> jax.Array:
    """Σ_{j≠i} 𝒥_ij(a, s_j) + f_i(a) of (2) for every site; ``s`` (..., L) -> (..., L, C)."""
    L, C = field_logits.shape
    offdiag = couplings * (1.0 - jnp.eye(L, dtype=couplings.dtype))[:, :, None, None]
    X = jax.nn.one_hot(s, C, dtype=couplings.dtype)
    return jnp.einsum("ijab,...jb->...ia", offdiag, X) + field_logits


def neg_pseudo_loglik(couplings: jax.Array, field_logits: jax.Array, sequences: jax.Array) -> jax.Array:
    """−(ML)⁻¹ ln PL(𝒥, f) of (8) for ``sequences`` (M, L)."""
    z = tensor_conditional_logits(couplings, field_logits, sequences)
    logp = jax.nn.log_softmax(z, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, sequences[..., None], axis=-1))


def pl_objective(couplings: jax.Array, field_logits: jax.Array, sequences: jax.Array,
                 l2_couplings: float = 0.0, l2_fields: float = 0.0) -> jax.Array:
    """The L2-regularised pseudo-likelihood objective (the classical inverse-Potts estimator):

    −(ML)⁻¹ ln PL(𝒥, f) + λ_J Σ_{i≠j} ‖𝒥_ij‖²_F + λ_h ‖f‖²_F.
    """
    L = field_logits.shape[0]
    offdiag = couplings * (1.0 - jnp.eye(L, dtype=couplings.dtype))[:, :, None, None]
    return (neg_pseudo_loglik(couplings, field_logits, sequences)
            + l2_couplings * jnp.sum(offdiag ** 2) + l2_fields * jnp.sum(field_logits ** 2))


def check_sequences(sequences: np.ndarray, colours: int | None, param: str = "train.data") -> np.ndarray:
    """Validate integer sequences (M, L) with values in [0, C); returns them as int32.

    Raises:
        InputError (``param``): ragged or non-2-D arrays, non-integers, NaN, values outside [0, C),
            L < 2 or M < 1.
    """
    try:
        arr = np.asarray(sequences)
    except ValueError:
        raise InputError(param, "ragged array", "sequences must be a rectangular (M, L) integer array") from None
    if arr.dtype == object:
        raise InputError(param, "ragged array", "sequences must be a rectangular (M, L) integer array")
    if arr.ndim != 2:
        raise InputError(param, f"shape {arr.shape}", "sequences must be a 2-D (M, L) integer array")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InputError(param, "NaN/inf", "sequences must be finite integers in [0, C)")
        if not np.all(arr == np.round(arr)):
            raise InputError(param, "non-integer values", "sequences must be integers in [0, C)")
    elif arr.dtype.kind not in "iub":
        raise InputError(param, f"dtype {arr.dtype}", "sequences must be integers in [0, C)")
    M, L = arr.shape
    if M < 1:
        raise InputError(param, f"shape {arr.shape}", "needs at least one sequence")
    if L < 2:
        raise InputError(param, f"shape {arr.shape}", "sequences need L >= 2 sites")
    lo, hi = arr.min(), arr.max()
    if lo < 0:
        raise InputError(param, int(lo), "sequence values must be in [0, C) (found a negative value)")
    if colours is not None and hi >= colours:
        raise InputError(param, int(hi), f"sequence values must be in [0, C) = [0, {colours})")
    return arr.astype(np.int32)


@dataclasses.dataclass(frozen=True)
class PseudoLikelihoodFit:
    """The value of :func:`fit_pseudolikelihood`: couplings 𝒥 (L,L,C,C) and field logits f = βh (L,C)."""

    couplings: np.ndarray
    field_logits: np.ndarray


def fit_pseudolikelihood(sequences: np.ndarray, colours: int, *, l2_couplings: float = 1e-3,
                         l2_fields: float = 1e-4, max_steps: int = 2000, tol: float = 1e-8,
                         throw: bool = True) -> Solution[PseudoLikelihoodFit]:
    """Minimise :func:`pl_objective` over a general coupling tensor and fields (L-BFGS, float64).

    Returns a :class:`~statmech_attn.Solution` whose ``residual`` is the max-norm of the gradient and
    ``action`` the objective at the minimum.  With ``throw=True`` a run that stops before the
    gradient falls below ``tol`` raises :class:`~statmech_attn.SolverError`.
    """
    from scipy.optimize import minimize

    from .._solution import SolverError

    seqs = jnp.asarray(check_sequences(sequences, colours, "sequences"))
    L, C = seqs.shape[1], colours
    n_J = L * L * C * C

    @jax.jit
    def value_and_grad(x):
        def obj(x):
            return pl_objective(x[:n_J].reshape(L, L, C, C), x[n_J:].reshape(L, C), seqs, l2_couplings, l2_fields)

        return jax.value_and_grad(obj)(x)

    def fun(x):
        v, g = value_and_grad(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=np.float64)

    t0 = time.perf_counter()
    res = minimize(fun, np.zeros(n_J + L * C), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_steps, "gtol": tol, "ftol": 0.0, "maxcor": 20})
    v, g = fun(res.x)
    residual = float(np.max(np.abs(g)))
    if not np.isfinite(v):
        result = Result.nonfinite
    elif residual <= tol:
        result = Result.converged
    else:
        result = Result.max_steps
    x = res.x
    J = x[:n_J].reshape(L, L, C, C) * (1 - np.eye(L))[:, :, None, None]
    sol = Solution(PseudoLikelihoodFit(J, x[n_J:].reshape(L, C)), result, residual, int(res.nit), v,
                   {"wall_time_s": time.perf_counter() - t0, "message": str(res.message)})
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol
