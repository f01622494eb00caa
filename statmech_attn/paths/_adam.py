"""Adam on the parametrisation θ: the first-order baseline (optax), the same gradient as Newton's."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._hessian import _theta_value_grad
from ._outcome import _CONVERGED, _MAX_STEPS, _NONFINITE, _RUNNING
from ._param import Layout


class _AdamState(NamedTuple):
    theta: jnp.ndarray
    opt: Any
    it: jnp.ndarray
    residual: jnp.ndarray
    value: jnp.ndarray
    status: jnp.ndarray
    it_target: jnp.ndarray  # first iteration whose action was ≤ target (−1: not yet)


@functools.partial(jax.jit, static_argnames=("layout", "learning_rate", "stop_at_target"))
def _adam_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps, learning_rate: float, target, stop_at_target: bool = True):
    opt = optax.adam(learning_rate)

    grads = functools.partial(_theta_value_grad, arrays=arrays, hyper=hyper, layout=layout)

    def body(s: _AdamState) -> _AdamState:
        value, residual, g_theta = grads(s.theta)
        updates, opt_state = opt.update(g_theta, s.opt)
        theta = optax.apply_updates(s.theta, updates)
        hit = value <= target
        it_target = jnp.where((s.it_target < 0) & hit, s.it, s.it_target)
        status = jnp.where(~jnp.isfinite(value), _NONFINITE, _RUNNING)
        status = jnp.where(jnp.logical_or(residual <= tol, hit & stop_at_target), _CONVERGED, status)
        theta = jnp.where(status == _RUNNING, theta, s.theta)
        return _AdamState(theta, opt_state, s.it + 1, residual, value, status, it_target)

    def cond(s: _AdamState):
        return jnp.logical_and(s.status == _RUNNING, s.it < max_steps)

    init = _AdamState(theta0, opt.init(theta0), jnp.asarray(0), jnp.asarray(jnp.inf), jnp.asarray(jnp.inf), jnp.asarray(_RUNNING),
                      jnp.asarray(-1))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)
