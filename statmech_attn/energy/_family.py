"""Attention as the mean parameter of a categorical exponential family (Shim, arXiv 2205.01080).

Keys k_1..k_n ∈ R^d (rows of K) and a query θ ∈ R^d define p_θ(j) = exp(β θ·k_j) / Z(θ) with
log-normaliser A_β(θ) = β⁻¹ log Σ_j exp(β θ·k_j) (the log-sum-exp term of the modern Hopfield
energy).  Its gradient is the attention output with values = keys, its Hessian β Cov_p[k] ⪰ 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._args import index, real_array, real_scalar
from ..errors import InputError

__all__ = [
    "log_partition",
    "probabilities",
    "mean_parameter",
    "fisher",
    "ascent_step",
    "ascent_gain",
    "infonce",
    "exponential_family_nll",
]


def _check(theta, keys, beta, keys_name: str = "keys"):
    """θ (d,), keys (n, d) real and finite, β finite > 0 (InputError naming the argument)."""
    theta = real_array("theta", theta, ndim=1)
    keys = real_array(keys_name, keys, ndim=2)
    if keys.shape[1] != theta.shape[0]:
        raise InputError(keys_name, f"shape {tuple(keys.shape)}", f"must have d = {theta.shape[0]} columns (theta's length)")
    if keys.shape[0] < 1:
        raise InputError(keys_name, f"shape {tuple(keys.shape)}", "must hold at least one row")
    beta = real_scalar("beta", beta, low=0.0, strict=True)
    return jnp.asarray(theta), jnp.asarray(keys), beta


def _log_partition(theta, keys, beta):
    return jax.nn.logsumexp(beta * (keys @ theta)) / beta


def log_partition(theta: jax.Array, keys: jax.Array, beta: float = 1.0) -> jax.Array:
    """``A_β(θ) = β⁻¹ log Σ_j exp(β θ·k_j)``."""
    theta, keys, beta = _check(theta, keys, beta)
    return _log_partition(theta, keys, beta)


def probabilities(theta: jax.Array, keys: jax.Array, beta: float = 1.0) -> jax.Array:
    """``p_θ(j) = softmax_j(β θ·k_j)``: the attention weights of query θ."""
    theta, keys, beta = _check(theta, keys, beta)
    return jax.nn.softmax(beta * (keys @ theta))


def mean_parameter(theta: jax.Array, keys: jax.Array, beta: float = 1.0) -> jax.Array:
    """``∇A(θ) = E_p[k] = Σ_j p_θ(j) k_j``: the attention output when values equal keys."""
    theta, keys, beta = _check(theta, keys, beta)
    return probabilities(theta, keys, beta) @ keys


def fisher(theta: jax.Array, keys: jax.Array, beta: float = 1.0) -> jax.Array:
    """``∇²A(θ) = β Cov_p[k] = β (Σ_j p_j k_j k_jᵀ − m mᵀ)``, the Fisher information (PSD)."""
    theta, keys, beta = _check(theta, keys, beta)
    p = probabilities(theta, keys, beta)
    m = p @ keys
    return beta * ((keys * p[:, None]).T @ keys - jnp.outer(m, m))


def ascent_step(theta: jax.Array, keys: jax.Array, beta: float = 1.0, eta: float = 1.0) -> jax.Array:
    """The residual attention sublayer ``θ' = θ + η ∇A(θ)``: one gradient-ascent step on A."""
    theta, keys, beta = _check(theta, keys, beta)
    eta = real_scalar("eta", eta, low=0.0)
    return theta + eta * mean_parameter(theta, keys, beta)


def ascent_gain(theta: jax.Array, keys: jax.Array, beta: float = 1.0, eta: float = 1.0) -> jax.Array:
    """``A(θ') − A(θ) − η|∇A(θ)|²``, non-negative by convexity of A (θ' the ascent step)."""
    theta, keys, beta = _check(theta, keys, beta)
    eta = real_scalar("eta", eta, low=0.0)
    g = mean_parameter(theta, keys, beta)
    return _log_partition(theta + eta * g, keys, beta) - _log_partition(theta, keys, beta) - eta * g @ g


def infonce(theta: jax.Array, candidates: jax.Array, positive: int, beta: float = 1.0) -> jax.Array:
    """InfoNCE loss ``−log softmax_j(β θ·t_j)[+]`` of query θ against candidates t_j (cross-entropy)."""
    theta, candidates, beta = _check(theta, candidates, beta, "candidates")
    positive = index("positive", positive, candidates.shape[0])
    return -jax.nn.log_softmax(beta * (candidates @ theta))[positive]


def exponential_family_nll(theta: jax.Array, candidates: jax.Array, positive: int, beta: float = 1.0) -> jax.Array:
    """``β (A_β(θ) − θ·t_+)``: InfoNCE as the NLL of the same exponential family.

    Its gradient is ``β (E_p[t] − t_+)``; at β = 1 it is ``A(θ) − θ·t_+``.
    """
    theta, candidates, beta = _check(theta, candidates, beta, "candidates")
    positive = index("positive", positive, candidates.shape[0])
    return beta * (_log_partition(theta, candidates, beta) - theta @ candidates[positive])
