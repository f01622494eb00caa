"""Newton's method for the saddle point: Levenberg–Marquardt damped, backtracking, in a compiled loop.

The Hessian is exact (:mod:`._hessian`: the energy block and the entropy block (:mod:`._entropy`)
in closed form, chained through the parametrisation θ of :mod:`._param`); near the minimum every
full step is accepted and convergence is quadratic.  Where a Hessian costs many gradients, chord
steps reuse it.  The loop is one program compiled with the ``lean`` options of
:mod:`statmech_attn._jit` (its work is in LAPACK/BLAS calls: a third of the default compile time).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from .._jit import jit
from ._action import ProblemArrays, gradient_costs, uses_prekernels
from ._hessian import _Derivs, _hessian_costs, _hessian_extremes, _theta_value_grad, _theta_value_grad_hess
from ._model import Hyper
from ._outcome import _CONVERGED, _DIVERGED, _MAX_STEPS, _NONFINITE, _RUNNING
from ._param import Layout, _action_x, _energy_factors_x, _entropy_x, _n_max, theta_to_x


class _NewtonState(NamedTuple):
    theta: jnp.ndarray
    d: _Derivs  # derivatives at theta (meaningless until the first evaluation)
    lam: jnp.ndarray
    it: jnp.ndarray  # Newton steps tried (accepted or not)
    n_rejected: jnp.ndarray  # full Newton steps that were not accepted
    backtrack: jnp.ndarray  # the last full step failed: halve it on the action next
    status: jnp.ndarray
    chord: jnp.ndarray  # the last step contracted the residual by ≤ CHORD_CONTRACTION: keep the Hessian
    n_hessians: jnp.ndarray  # Hessian evaluations
    refresh: jnp.ndarray  # converged after chord steps: evaluate the Hessian at this point (no step)

    @property
    def value(self) -> jnp.ndarray:
        return self.d.value

    @property
    def residual(self) -> jnp.ndarray:
        return self.d.residual


CHORD_CONTRACTION = 0.1  # reuse the Hessian after a step that shrank the residual at least this much
CHORD_MIN_COST_RATIO = 4  # ... and only where a Hessian costs at least this many gradients


def chord_steps_pay(arrays: ProblemArrays) -> bool:
    """Whether reusing a Hessian pays: when the energy Hessian's Gram costs at least
    ``CHORD_MIN_COST_RATIO`` energy gradients (otherwise every Newton step takes a fresh Hessian)."""
    p, n0, h = arrays.xt.shape
    pre = uses_prekernels(arrays)
    hess = min(_hessian_costs(p, n0, h, pre, not pre).values())
    return hess >= CHORD_MIN_COST_RATIO * gradient_costs(p, n0, h)["pre" if pre else "plain"]


def _newton_loop(theta0, arrays, hyper, layout: Layout, tol, max_steps) -> _NewtonState:
    """Levenberg–Marquardt-damped Newton on θ, one derivative evaluation per step.

    Each step solves (∂²S/∂θ² + λ I) δ = −∂S/∂θ (λ the smallest value, from the current one
    upwards, that makes the matrix positive definite) and evaluates S at θ + δ, then its derivatives
    from the same Cholesky factor only if S decreased sufficiently (a rejected trial costs a value).
    If S decreased sufficiently (Armijo, with a round-off slack) the step is taken and λ divided by
    10 (set to 0 once negligible). Otherwise the next step halves δ on S alone (cheap: no
    derivatives) until it is sufficient and takes derivatives there, λ kept; if no fraction works θ
    stays and λ is multiplied by 10. Near the minimum every full Newton step is accepted, so
    convergence is quadratic and no line-search evaluation is spent. The derivatives appear once in
    the compiled loop (the first pass evaluates them at θ₀), which keeps compilation short.

    Hessian reuse (Shamanskii / chord steps), where a Hessian costs at least
    ``CHORD_MIN_COST_RATIO`` gradients: after an accepted step that shrank the residual by at
    least ``CHORD_CONTRACTION``, the next trial point gets its gradient only, and the step from it
    reuses the last Hessian; each such step costs one gradient instead of one Hessian and, in the
    quadratic regime, contracts the residual about as much as the step before it.  A chord step
    that contracts less is followed by a fresh Hessian.  When the residual reaches ``tol`` after
    chord steps, one more pass evaluates the Hessian at that point (no step), so that the reported
    eigenvalues are those of the Hessian at the returned solution.
    """
    derivs = functools.partial(_theta_value_grad_hess, arrays=arrays, hyper=hyper, layout=layout)
    value_grad = functools.partial(_theta_value_grad, arrays=arrays, hyper=hyper, layout=layout)
    use_chord = chord_steps_pay(arrays)  # static: from the shapes

    def value_at(theta):
        return _action_x(theta_to_x(theta, layout), arrays, hyper, layout)

    def finite(e: _Derivs):
        return jnp.isfinite(e.value) & jnp.isfinite(e.residual) & jnp.all(jnp.isfinite(e.h_theta))

    def body(state: _NewtonState) -> _NewtonState:
        # a pass that takes no step: θ₀'s first evaluation, or the Hessian at the converged point
        first = (state.it < 0) | state.refresh
        d = state.d
        n = d.g_theta.shape[0]
        eye = jnp.eye(n)
        scale = jnp.maximum(jnp.max(jnp.abs(jnp.diagonal(d.h_theta))), 1e-12)

        # smallest λ (from the current one upwards) that makes H + λ I positive definite
        def chol_cond(c):
            lam, chol, k = c
            return jnp.logical_and(~jnp.all(jnp.isfinite(chol)), k < 60)

        def chol_body(c):
            lam, _, k = c
            lam = jnp.where(lam == 0, 1e-10 * scale, lam * 10.0)
            return lam, jnp.linalg.cholesky(d.h_theta + lam * eye), k + 1

        chol0 = jnp.linalg.cholesky(d.h_theta + state.lam * eye)
        lam, chol, _ = jax.lax.while_loop(chol_cond, chol_body, (state.lam, chol0, 0))
        step = jnp.where(first, 0.0, -jsl.cho_solve((chol, True), d.g_theta))
        slope = d.g_theta @ step

        def sufficient(v, t):  # Armijo, with a slack for round-off near the minimum
            return jnp.isfinite(v) & (v <= d.value + 1e-4 * t * slope + 1e-13 * jnp.abs(d.value))

        def backtrack(_):
            def ls_cond(c):
                t, v, k = c
                return (~sufficient(v, t)) & (k < 30)

            def ls_body(c):
                t, _, k = c
                t = 0.5 * t
                return t, value_at(state.theta + t * step), k + 1

            t, v, k = jax.lax.while_loop(ls_cond, ls_body, (jnp.asarray(1.0), jnp.asarray(jnp.inf), 0))
            return jnp.where(sufficient(v, t) & (k < 30), t, 0.0)

        t = jax.lax.cond(state.backtrack & ~first, backtrack, lambda _: jnp.asarray(1.0), None)

        # the trial point's value first (one Cholesky, kept for its derivatives): a point that fails
        # the Armijo test is rejected without its gradient and Hessian
        point = state.theta + t * step
        x_point = theta_to_x(point, layout)
        _, f_point = _energy_factors_x(x_point, arrays, hyper, layout)
        value_point = (f_point.value + _entropy_x(x_point, hyper, layout)) / _n_max(hyper)
        worth = first | ((t > 0) & sufficient(value_point, t))

        def full(point, f):
            return derivs(point, factors=f)

        def chord(point, f):  # gradient only: the next step reuses this Hessian
            value, residual, g_theta = value_grad(point, factors=f)
            return d._replace(value=value, residual=residual, g_theta=g_theta)

        def rejected(point, f):
            return d._replace(value=value_point, residual=jnp.asarray(jnp.inf, d.residual.dtype))

        if use_chord:
            reuse = state.chord & ~first
            branch = jnp.where(worth, jnp.where(reuse, 1, 2), 0)
            trial = jax.lax.switch(branch, (rejected, chord, full), point, f_point)
        else:
            reuse = jnp.asarray(False)
            trial = jax.lax.cond(worth, full, rejected, point, f_point)
        accepted = first | ((t > 0) & finite(trial) & sufficient(trial.value, t))
        full_failed = ~accepted & ~state.backtrack  # a full step failed: backtrack next time, same λ
        theta = jnp.where(accepted, state.theta + t * step, state.theta)
        d_next = jax.tree_util.tree_map(lambda new, old: jnp.where(accepted, new, old), trial, d)
        lam_next = jnp.where(first, state.lam,
                             jnp.where(accepted, jnp.where(state.backtrack, lam, lam / 10.0),
                                       jnp.where(full_failed, lam, jnp.where(lam == 0, 1e-6 * scale, lam * 10.0))))
        lam_next = jnp.where(lam_next < 1e-14 * scale, 0.0, lam_next)
        residual = d_next.residual
        stale = d_next.h_residual != residual  # the Hessian was evaluated elsewhere (chord steps)
        status = jnp.where((residual <= tol) & ~stale, _CONVERGED, _RUNNING)
        status = jnp.where(first & ~finite(trial), _NONFINITE, status)
        status = jnp.where(lam_next > 1e20 * scale, _DIVERGED, status)
        chord_next = accepted & ~first & (d_next.residual <= CHORD_CONTRACTION * d.residual)
        refresh = (status == _RUNNING) & (residual <= tol) & stale
        return _NewtonState(theta, d_next, lam_next, state.it + (~state.refresh),
                            state.n_rejected + (~first & ~accepted & ~state.backtrack), full_failed, status, chord_next,
                            state.n_hessians + (worth & ~reuse), refresh)

    def cond(state: _NewtonState):
        return (state.status == _RUNNING) & ((state.it < max_steps) | state.refresh)

    n = layout.n_theta
    zero = jnp.zeros((), theta0.dtype)
    d0 = _Derivs(zero, zero, jnp.zeros(n, theta0.dtype), jnp.eye(n, dtype=theta0.dtype), jnp.zeros((n, n), theta0.dtype), zero)
    init = _NewtonState(theta0, d0, zero, jnp.asarray(-1), jnp.asarray(0), jnp.asarray(False), jnp.asarray(_RUNNING),
                        jnp.asarray(False), jnp.asarray(0), jnp.asarray(False))
    final = jax.lax.while_loop(cond, body, init)
    status = jnp.where(final.status == _RUNNING, _MAX_STEPS, final.status)
    return final._replace(status=status)


@jit(compile="lean", static_argnames=("layout",), reuse=(_NewtonState, _Derivs, ProblemArrays, Hyper))
def _newton_jit(theta0, arrays, hyper, layout: Layout, tol, max_steps):
    final = _newton_loop(theta0, arrays, hyper, layout, tol, max_steps)
    return final, newton_summary(final)


def newton_summary(final: _NewtonState) -> jnp.ndarray:
    """(S, residual, λ_min, λ_max) at a converged Newton iterate, from the loop's last derivatives."""
    eig_min, eig_max = _hessian_extremes(final.d.h_x)
    return jnp.stack([final.value, final.residual, eig_min, eig_max])
