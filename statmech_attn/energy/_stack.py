"""Self-attention stacks: parallel expansion by attention, contraction by layer norm.

One layer updates every token at once,

    x_i' = x_i + η Σ_j P_ij v_j,   P_ij = softmax_j(β q_i·k_j),   q = x W_Q, k = x W_K, v = x W_V,

(identity weights: q = k = v = x, the pure log-sum-exp ascent), optionally followed by
LN(x) = γ ⊙ (x − mean(x)) / std(x) + b.  For a centred cloud (Σ_j x_j = 0) with identity weights,
x_i·Σ_j P_ij x_j ≥ 0 (Chebyshev's sum inequality), so no token's norm shrinks; LN (γ = 1, b = 0)
puts every row on the sphere of radius √d in the hyperplane orthogonal to the all-ones vector.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from .._args import real_array, real_scalar
from ._family import _log_partition as log_partition
from ._weights import Weights, _check_sizes, check_tokens, identity_weights, random_weights  # noqa: F401

__all__ = [
    "Weights",
    "layer_norm",
    "attention_update",
    "GradientFieldCheck",
    "gradient_field_check",
    "StackDiagnostic",
    "stack_diagnostic",
    "random_weights",
    "identity_weights",
    "check_tokens",
]


def layer_norm(x: jax.Array, gamma: jax.Array | float = 1.0, bias: jax.Array | float = 0.0,
               eps: float = 0.0) -> jax.Array:
    """``LN(x) = γ ⊙ (x − mean(x)) / sqrt(var(x) + ε) + b`` row by row (population variance)."""
    x = real_array("x", x)
    real_scalar("eps", eps, low=0.0)
    if not isinstance(gamma, (int, float)) or isinstance(gamma, bool):
        gamma = real_array("gamma", gamma)
    else:
        real_scalar("gamma", gamma)
    if not isinstance(bias, (int, float)) or isinstance(bias, bool):
        bias = real_array("bias", bias)
    else:
        real_scalar("bias", bias)
    mu = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return gamma * (x - mu) / jnp.sqrt(var + eps) + bias


def attention_update(x: jax.Array, beta: float, eta: float, w_query: jax.Array, w_key: jax.Array,
                     w_value: jax.Array) -> jax.Array:
    """``X' = X + η softmax(β (X W_Q)(X W_K)ᵀ) X W_V`` (rows are tokens, softmax over keys)."""
    x = real_array("x", x, ndim=2)
    beta = real_scalar("beta", beta, low=0.0, strict=True)
    eta = real_scalar("eta", eta, low=0.0)
    w_query, w_key, w_value = (real_array(n, w, ndim=2) for n, w in
                               (("w_query", w_query), ("w_key", w_key), ("w_value", w_value)))
    d = x.shape[1]
    if w_query.shape[0] != d or w_key.shape != w_query.shape or w_value.shape[0] != d:
        raise InputError("w_key", f"shapes {tuple(w_query.shape)}, {tuple(w_key.shape)}, {tuple(w_value.shape)}",
                         f"need W_Q, W_K (d, d_k) and W_V (d, d_v) with d = {d} (x's columns)")
    p = jax.nn.softmax(beta * (x @ w_query) @ (x @ w_key).T, axis=-1)
    return x + eta * p @ (x @ w_value)


@dataclasses.dataclass(frozen=True)
class GradientFieldCheck:
    """Is the attention output a (linear image of a) gradient field of a log-sum-exp?

    The output Σ_j p_j v_j with v_j = x_j W_V equals ∇_θ A(θ) M (θ = x W_Q, keys k_j = x_j W_K)
    exactly when W_V = W_K M for some M.  ``residual = ‖W_K M* − W_V‖_F / ‖W_V‖_F`` with M* the
    least-squares solution; ``is_gradient_field = residual <= tol``.  When W_K has full row rank
    (d_k >= d and rank d) every W_V qualifies (M = W_K⁺ W_V); with d_k < d a generic W_V does not.
    """

    is_gradient_field: bool
    residual: float
    value_map: np.ndarray

    def to_dict(self) -> dict:
        """Plain values (without M)."""
        return {"is_gradient_field": self.is_gradient_field, "residual": self.residual}


def gradient_field_check(w_query: np.ndarray, w_key: np.ndarray, w_value: np.ndarray,
                         tol: float = 1e-8) -> GradientFieldCheck:
    """Check W_V = W_K M (least squares via scipy's lstsq on the d×d_k key map)."""
    import scipy.linalg

    wq, wk, wv = (np.asarray(a, dtype=np.float64) for a in (w_query, w_key, w_value))
    if wk.ndim != 2 or wv.ndim != 2 or wk.shape[0] != wv.shape[0] or wq.shape != wk.shape:
        raise InputError("w_value", f"shapes {wq.shape}, {wk.shape}, {wv.shape}",
                         "need W_Q, W_K (d, d_k) and W_V (d, d_v) with the same d")
    m, *_ = scipy.linalg.lstsq(wk, wv)
    nv = np.linalg.norm(wv)
    res = float(np.linalg.norm(wk @ m - wv) / nv) if nv > 0 else 0.0
    return GradientFieldCheck(res <= tol, res, m)


@dataclasses.dataclass(frozen=True)
class StackDiagnostic:
    """Per-layer expansion by attention and contraction by layer norm.

    Attributes (L layers, n tokens):
        norms_in: |x_i| entering each layer, (L, n).
        norms_attention: |x_i'| after the attention update, (L, n).
        norms_out: |x_i| leaving each layer (after LN when enabled, else = norms_attention), (L, n).
        expansion: norms_attention / norms_in, (L, n)  (>= 1: the ascent step expands).
        contraction: norms_out / norms_attention, (L, n)  (< 1 when LN contracts).
        chebyshev: x_i · Σ_j P_ij v_j per layer and token, (L, n).
        centred: whether each layer's input cloud has Σ_j x_j = 0 (to 1e-10 relative), (L,).
        log_partition: A_β(q_i) with the layer's keys, (L, n).
        ascent_gain: A(q_i') − A(q_i) − η|∇A(q_i)|² with the layer's keys (identity weights only;
            NaN otherwise), (L, n).
        tokens: X after every layer, (L + 1, n, d) (index 0 = input).
        gradient_field: one :class:`GradientFieldCheck` per layer.
    """

    norms_in: np.ndarray
    norms_attention: np.ndarray
    norms_out: np.ndarray
    expansion: np.ndarray
    contraction: np.ndarray
    chebyshev: np.ndarray
    centred: np.ndarray
    log_partition: np.ndarray
    ascent_gain: np.ndarray
    tokens: np.ndarray
    gradient_field: tuple[GradientFieldCheck, ...]


@jax.jit
def _scan_stack(x0, wq, wk, wv, beta, eta, use_ln, identity):
    def layer(x, w):
        q_w, k_w, v_w = w
        q, k, v = x @ q_w, x @ k_w, x @ v_w
        p = jax.nn.softmax(beta * q @ k.T, axis=-1)
        upd = p @ v
        x_att = x + eta * upd
        x_out = jnp.where(use_ln, layer_norm(x_att), x_att)
        lp = jax.vmap(lambda th: log_partition(th, k, beta))(q)
        q_new = x_att @ q_w
        gain = jax.vmap(lambda th, th2, g: log_partition(th2, k, beta) - log_partition(th, k, beta) - eta * g @ g)(
            q, q_new, p @ k)
        centred = jnp.linalg.norm(jnp.sum(x, axis=0)) <= 1e-10 * (1.0 + jnp.sum(jnp.linalg.norm(x, axis=1)))
        rec = dict(n_in=jnp.linalg.norm(x, axis=1), n_att=jnp.linalg.norm(x_att, axis=1),
                   n_out=jnp.linalg.norm(x_out, axis=1), cheb=jnp.sum(x * upd, axis=1), centred=centred,
                   lp=lp, gain=jnp.where(identity, gain, jnp.nan), x=x_out)
        return x_out, rec

    _, recs = jax.lax.scan(layer, x0, (wq, wk, wv))
    return recs


def stack_diagnostic(tokens: np.ndarray, weights: Weights, *, beta: float = 1.0, eta: float = 1.0,
                     use_layer_norm: bool = False, tol: float = 1e-8) -> StackDiagnostic:
    """Run the stack (``lax.scan`` over layers) and record expansion and contraction per layer."""
    x0 = check_tokens(tokens)
    if x0.shape[1] != weights.dim:
        raise InputError("tokens", f"shape {x0.shape}", f"must have d = {weights.dim} columns (the weights' d)")
    beta = real_scalar("beta", beta, low=0.0, strict=True)
    eta = real_scalar("eta", eta, low=0.0)
    real_scalar("tol", tol, low=0.0)
    if not isinstance(weights, Weights):
        raise InputError("weights", type(weights).__name__, "must be a Weights (identity_weights, random_weights or Weights(...))")
    d = weights.dim
    identity = bool(weights.w_query.shape[2] == d and all(np.array_equal(w, np.broadcast_to(np.eye(d), w.shape))
                                                        for w in (weights.w_query, weights.w_key, weights.w_value)))
    r = _scan_stack(jnp.asarray(x0), jnp.asarray(weights.w_query), jnp.asarray(weights.w_key),
                    jnp.asarray(weights.w_value), float(beta), float(eta), bool(use_layer_norm), identity)
    r = {k: np.asarray(v) for k, v in r.items()}
    checks = tuple(gradient_field_check(weights.w_query[l], weights.w_key[l], weights.w_value[l], tol)
                   for l in range(weights.layers))
    with np.errstate(divide="ignore", invalid="ignore"):
        expansion = r["n_att"] / r["n_in"]
        contraction = r["n_out"] / r["n_att"]
    return StackDiagnostic(r["n_in"], r["n_att"], r["n_out"], expansion, contraction, r["cheb"], r["centred"],
                           r["lp"], r["gain"], np.concatenate([x0[None], r["x"]]), checks)
