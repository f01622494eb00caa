"""The replica-symmetric saddle-point map F = (13)∘(14) and the observables (§7.6) with Φ of (12).

Expectations over ξ (student field) and ζ (teacher noise) use the fixed cubature of the setting
(:class:`_Nodes`); the energetic update (14) needs the teacher moments (Z, G) per ξ node and the
proximal points (:mod:`._proximal`), the entropic update (13) is closed form.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from ._cubature import GaussRule
from ._proximal import _ce, _prox_from, _spd_trace_inv
from ._replica_setting import ReplicaSetting, ReplicaState


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
    """The rules as host (NumPy) arrays: the compiled programs take them with their other
    arguments, and nothing is dispatched (or compiled) eagerly to build them."""
    f64 = np.float64
    return _Nodes(np.asarray(rule_xi.nodes, f64), np.asarray(rule_xi.weights, f64),
                  np.asarray(rule_zeta.nodes, f64), np.asarray(rule_zeta.weights, f64))


def _geometry(setting: ReplicaSetting) -> _Geometry:
    return _Geometry(np.asarray(setting.range_basis, np.float64), np.asarray(float(setting.teacher_norm)),
                     np.asarray(float(setting.ridge)))


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


def _map_aux(x: jax.Array, xs0: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes) -> tuple[jax.Array, tuple]:
    """F(x) = (13)∘(14) as :func:`_map_warm`, with ``(hats, (Z, x_ω, x*))`` of :func:`_hats` (what the
    observables need) instead of the proximal points alone."""
    hats, aux = _hats(x, alpha, geo, nodes, xs0)
    return _entropic(hats, geo), (hats, aux)


def fixed_point_map(setting: ReplicaSetting, alpha: float, m: float, q: float, V: float) -> ReplicaState:
    """One application of (14) then (13): returns the new (m, q, V) and the hats (m̂, q̂, V̂) at the input."""
    geo = _geometry(setting)
    nodes = _nodes(*setting.rules())
    x = jnp.asarray([m, q, V], dtype=jnp.float64)
    hats = _hats_jit(x, jnp.asarray(float(alpha)), geo, nodes)
    new = _entropic(hats, geo)
    return ReplicaState(*(float(v) for v in new), *(float(v) for v in hats))


@jit
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


@jit
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
