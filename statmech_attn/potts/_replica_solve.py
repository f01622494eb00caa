"""The saddle-point solver of the replica-symmetric equations: one α (:func:`solve`) or an α-curve
(:func:`replica_curve`, one ``lax.scan`` with continuation).

Damped fixed-point iteration, Newton's method on the fixed-point residual F(x) − x (the Jacobian by
forward mode through the implicit proximal map) or Broyden's method, each with a damped
fixed-point fallback step (:func:`_solve_loop`).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from .._solution import Result, Solution, SolverError
from ..errors import InputError
from ._replica_equations import _Geometry, _Nodes, _geometry, _map_aux, _map_warm, _nodes, _observables
from ._replica_setting import ReplicaSetting, ReplicaState, _check_alpha

OBSERVABLES = ("test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss")
POINT_KEYS = ("alpha", "m", "q", "V", "m_hat", "q_hat", "V_hat", "residual", "iterations", "converged",
              "test_ce", "kl", "cond_entropy", "eps_w", "cosine", "train_loss", "free_energy")


def _valid(x: jax.Array, rho: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(x)) & (x[1] > 0) & (x[2] > 0) & (x[0] ** 2 < rho * x[1])


_SOLVERS = ("newton", "broyden", "fixed_point")


def _solve_loop(x0: jax.Array, J0: jax.Array, have_jac: jax.Array, xs0: jax.Array, alpha: jax.Array, geo: _Geometry,
                nodes: _Nodes, tol: jax.Array, max_steps: jax.Array, damping: jax.Array, solver: str) -> tuple:
    """Iterate to the fixed point of F = (13)∘(14); F is evaluated once per iteration.

    - ``fixed_point``: x ← (1 − d) x + d F(x).
    - ``newton``: F(x) and its Jacobian J together, by forward mode (batched ``jax.jvp``, the
      proximal map differentiated implicitly); next point x − (J − I)⁻¹ (F(x) − x).  F appears in
      the compiled loop once, inside its JVP.
    - ``broyden``: as ``newton`` but J is computed by forward mode only at the start (unless
      ``have_jac``, then ``J0`` is used: continuation along α) and after a rejected step; otherwise
      it gets Broyden's rank-one update J += ((ΔF − J Δx) Δxᵀ)/‖Δx‖².
    A (quasi-)Newton point whose residual max|F(x) − x| is not below that of the point it came from
    is rejected and the damped fixed-point step from that earlier point is taken (and accepted), as
    when the Newton point leaves the admissible set (q > 0, V > 0, m² < ρq).
    Every evaluation of F starts its proximal Newton solves from the proximal points of the
    previous evaluation (``xs0`` for the first: those of a neighbouring α, or x_ω), which changes
    the number of proximal Newton steps, not F.
    Returns (x, F(x), residual, iterations, J, (hats, aux) of :func:`_hats` at x): each evaluation
    keeps its energetic update and per-node quantities, so that the observables at the returned
    point need no further evaluation of F.
    """
    eye = jnp.eye(3)

    def F(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, tuple]:
        return _map_aux(x, xs, alpha, geo, nodes)

    def F_and_J(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array, tuple]:
        # forward mode, the three tangent directions batched (the primal is computed once)
        Fx, J, ev = jax.vmap(lambda v: jax.jvp(lambda y: F(y, xs), (x,), (v,), has_aux=True),
                             out_axes=(0, 1, 0))(eye)
        return Fx[0], J, jax.tree_util.tree_map(lambda a: a[0], ev)

    def cond(state: tuple) -> jax.Array:
        k, x, Fx, res, *_ = state
        return (k < max_steps) & ((k == 0) | ((res > tol) & jnp.isfinite(res)))

    def pick(c: jax.Array, a: Any, b: Any) -> Any:
        return jax.tree_util.tree_map(lambda u, v: jnp.where(c, u, v), a, b)

    def body(state: tuple) -> tuple:
        k, x, _, _, x_prev, F_prev, res_prev, must_accept, _, J, fresh, ev_last, ev_prev = state
        xs = ev_last[1][2]  # the proximal points of the last evaluation: the warm start
        if solver == "fixed_point":
            Fx, ev = F(x, xs)
        elif solver == "newton":
            Fx, J, ev = F_and_J(x, xs)
        else:  # broyden: a true Jacobian when asked for, else the rank-one update from the previous point
            def broyden(x: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array, tuple]:
                Fx, ev = F(x, xs)
                dx = x - x_prev
                upd = jnp.outer(Fx - F_prev - J @ dx, dx) / jnp.maximum(dx @ dx, 1e-300)
                return Fx, J + jnp.where(dx @ dx > 0, upd, 0.0), ev

            Fx, J, ev = jax.lax.cond(fresh, F_and_J, broyden, x, xs)
        res = jnp.max(jnp.abs(Fx - x))
        better = must_accept | (res < res_prev) | (solver == "fixed_point")
        base, F_base, res_base, ev_base = pick(better, (x, Fx, res, ev), (x_prev, F_prev, res_prev, ev_prev))
        x_fp = (1 - damping) * base + damping * F_base
        if solver == "fixed_point":
            x_next, accept_next = x_fp, jnp.asarray(True)
        else:
            x_nt = x - jnp.linalg.solve(J - eye, Fx - x)
            use_nt = better & _valid(x_nt, geo.rho) & jnp.all(jnp.isfinite(J))
            x_next = jnp.where(use_nt, x_nt, x_fp)
            accept_next = ~use_nt
        fresh_next = accept_next if solver == "broyden" else jnp.asarray(False)
        return k + 1, x_next, Fx, res, base, F_base, res_base, accept_next, x, J, fresh_next, ev, ev_base

    inf = jnp.asarray(jnp.inf, x0.dtype)
    C, r = geo.B.shape
    K = nodes.xi.shape[0]
    ev0 = (jnp.full(3, jnp.nan, x0.dtype), (jnp.zeros((K, C), x0.dtype), jnp.zeros((K, r), x0.dtype), xs0))
    init = (0, x0, x0, inf, x0, x0, inf, jnp.asarray(True), x0, J0, ~have_jac, ev0, ev0)
    # state: (k, next point, F(last evaluated), its residual, best point, F(best), residual of best,
    #         accept the next point unconditionally, last evaluated point, Jacobian, refresh Jacobian,
    #         (hats, aux) of the last evaluation, (hats, aux) of the best point)
    k, _, Fx, res, x_best, F_best, res_best, _, x_eval, J, _, ev, ev_best = jax.lax.while_loop(cond, body, init)
    keep = (res <= res_best) | ~jnp.isfinite(res_best)
    x_out, F_out, res_out, ev_out = pick(keep, (x_eval, Fx, res, ev), (x_best, F_best, res_best, ev_best))
    return x_out, F_out, res_out, k, J, ev_out


@jit(static_argnames=("solver",))
def _solve_point(x0: jax.Array, alpha: jax.Array, geo: _Geometry, nodes: _Nodes, tol: jax.Array,
                 max_steps: jax.Array, damping: jax.Array, solver: str) -> tuple:
    x, Fx, res, k, _, (hats, aux) = _solve_loop(x0, jnp.eye(3), jnp.asarray(False), _cold_start(x0, geo, nodes),
                                                alpha, geo, nodes, tol, max_steps, damping, solver)
    obs = _observables(x, hats, aux, alpha, geo, nodes)
    return x, hats, res, k, obs


@jit(static_argnames=("solver",), reuse=(_Geometry, _Nodes))
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
        x, Fx, res, k, J, (hats, aux) = _solve_loop(start, J_prev, have, xs_prev, alpha, geo, nodes, tol, max_steps,
                                                    damping, solver)
        obs = _observables(x, hats, aux, alpha, geo, nodes)
        good = _valid(x, geo.rho) & jnp.isfinite(res) & jnp.all(jnp.isfinite(J)) & jnp.all(jnp.isfinite(aux[2]))
        carry = (jnp.where(good, x, x0), jnp.where(good, J, jnp.eye(3)), good, jnp.where(good, aux[2], xs_cold),
                 x_prev, la, la_prev, have)
        return carry, (x, hats, res, k, obs, J)

    init = (x0, jnp.eye(3), jnp.asarray(False), xs_cold, x0, jnp.asarray(-jnp.inf), jnp.asarray(-jnp.inf),
            jnp.asarray(False))
    _, out = jax.lax.scan(step, init, alphas)
    return out


@jit
def _check_curve(xs: jax.Array, Js: jax.Array, alphas: jax.Array, x0: jax.Array, geo: _Geometry, nodes: _Nodes,
                 tol: jax.Array, max_steps: jax.Array, damping: jax.Array) -> tuple:
    """The cubature certificate of a solved curve: at every α, the fixed point of F with the finer
    rule ``nodes`` (the same equations, the same tolerance), started from that α's solution
    ``xs[j]`` with that solution's Jacobian ``Js[j]`` (of the coarser rule) as the first quasi-Newton
    matrix (:func:`_solve_loop` with ``broyden``: a fresh Jacobian only after a rejected step).  The
    two rules' Jacobians differ by the cubature error, so the first step lands within that error
    squared and the fine rule is typically evaluated twice per α (the step and the check of
    max|F(x) − x| ≤ tol), against a whole second continuation before.  The start changes the
    iterations, not the fixed point; a point whose solution is not admissible starts from ``x0``
    with a fresh Jacobian.  One ``lax.map`` over the curve, after it.  Returns (x, residual,
    iterations) per α."""
    def one(args: tuple) -> tuple:
        x, J, alpha = args
        ok = _valid(x, geo.rho) & jnp.all(jnp.isfinite(J))
        start = jnp.where(ok, x, x0)
        x2, Fx, res, k, J2, _ = _solve_loop(start, jnp.where(ok, J, jnp.eye(3)), ok, _cold_start(start, geo, nodes),
                                            alpha, geo, nodes, tol, max_steps, damping, "broyden")
        # already within tol at the start (x2 is the start): one quasi-Newton step, the first-order
        # estimate of the fine rule's fixed point, so that a change below tol is not reported as 0
        step = jnp.linalg.solve(J2 - jnp.eye(3), Fx - x2)
        x2 = jnp.where((k <= 1) & ok & jnp.all(jnp.isfinite(step)), x2 - step, x2)
        return x2, res, k

    return jax.lax.map(one, (xs, Js, alphas))


@jit(reuse=(_Geometry, _Nodes))
def _check_step(xs: jax.Array, Js: jax.Array, alphas: jax.Array, geo: _Geometry, nodes: _Nodes) -> tuple:
    """The two evaluations of :func:`_check_points` in one program: with F' the map of the rule
    ``nodes``, x' = x − (J − I)⁻¹ (F'(x) − x) per point, then max|F'(x') − x'| (the proximal solves of
    the second evaluation start from those of the first; the first from x_ω = √q ξ).  A two-stage
    ``lax.scan`` (F' appears once in the program) over a ``lax.map`` across the points (not a
    ``vmap``: each point's proximal solves stop at their own iteration count; half the run time and
    tracing of the batched loop).  Returns (x', residual at x', whether the step is finite)."""
    eye = jnp.eye(3)
    cold = jax.vmap(lambda x: _cold_start(x, geo, nodes))(xs)

    def stage(carry: tuple, first: jax.Array) -> tuple:
        x, p0 = carry
        Fx, prox = jax.lax.map(lambda t: _map_warm(t[0], t[1], t[2], geo, nodes), (x, p0, alphas))
        step = jnp.linalg.solve(Js - eye, (Fx - x)[..., None])[..., 0]
        return (jnp.where(first, x - step, x), prox), (jnp.max(jnp.abs(Fx - x), axis=1),
                                                       jnp.all(jnp.isfinite(step), axis=1))

    (x1, _), (res, finite) = jax.lax.scan(stage, (xs, cold), jnp.asarray([True, False]))
    return x1, res[1], finite[0]


def _check_points(xs: jax.Array, Js: jax.Array, alphas: jax.Array, x0: jax.Array, geo: _Geometry, nodes: _Nodes,
                  tol: jax.Array, max_steps: jax.Array, damping: jax.Array, step: tuple | None = None) -> np.ndarray:
    """The cubature certificate of a solved curve (x' per α, as :func:`_check_curve` defines it), by
    the step that :func:`_check_curve` takes first: with F' the map of the finer rule,

        x' = x − (J − I)⁻¹ (F'(x) − x),      accepted when max|F'(x') − x'| ≤ tol,

    J the coarser rule's Jacobian at x (the rules' Jacobians differ by the cubature error, so x' is
    within that error squared of the finer fixed point).  Two evaluations of F' in one program
    (:func:`_check_step`; ``step``: its outputs when already dispatched) and no solver loop: a
    program a fraction of :func:`_check_curve`'s size.  Where the step is not accepted at every α (a
    point not admissible, a non-finite J, a residual above ``tol`` at x'), the whole curve goes
    through :func:`_check_curve` instead, which iterates to ``tol``: the reported x' is always a
    fixed point of the finer rule to ``tol`` (or the one-step estimate of it when x already is
    one), the same numbers either way."""
    x1, res2, finite = _check_step(xs, Js, alphas, geo, nodes) if step is None else step
    x = np.asarray(xs)
    J = np.asarray(Js)
    rho = float(geo.rho)
    ok = (np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(x), axis=1) & (x[:, 1] > 0) & (x[:, 2] > 0)
          & (x[:, 0] ** 2 < rho * x[:, 1]))  # :func:`_valid`, on the host
    if ok.all() and np.all(np.asarray(finite)) and np.all(np.asarray(res2) <= float(tol)):
        return np.asarray(x1)
    return np.asarray(_check_curve(xs, Js, alphas, x0, geo, nodes, tol, max_steps, damping)[0])


def _cold_start(x0: jax.Array, geo: _Geometry, nodes: _Nodes) -> jax.Array:
    """Start of the proximal Newton solves at (m, q, V) = x0: x_ω = √q ξ for every label, (K, C, r)."""
    xw = jnp.sqrt(jnp.maximum(x0[1], 1e-300)) * nodes.xi
    return jnp.broadcast_to(xw[:, None, :], (xw.shape[0], geo.B.shape[0], xw.shape[1]))


def _default_init(setting: ReplicaSetting) -> np.ndarray:
    """The start (m, q, V) = (0.01, 0.02, 1/λ) of §7.4."""
    return np.asarray([0.01, 0.02, 1.0 / setting.ridge], dtype=np.float64)


def _init_array(setting: ReplicaSetting, init: Any) -> np.ndarray:
    if init is None:
        return _default_init(setting)
    if isinstance(init, (ReplicaState, Solution)):
        st = init.value if isinstance(init, Solution) else init
        return np.asarray([float(st.m), float(st.q), float(st.V)], dtype=np.float64)
    return np.asarray(init, dtype=np.float64).reshape(-1)[:3]


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
    record also carries ``cubature_change`` = max over (m, q, V) of |x' − x| / |x|, x the solution
    with the setting's rule (n nodes per dimension for ξ, n_t for ζ) and x' the fixed point of the same
    equations with ⌈1.5n⌉ and ⌈1.5n_t⌉ nodes, to the same ``tol`` (the certificate that the rule
    resolves the Gaussian integrals; the same definition as in :func:`solve`).  x' is computed after
    the curve (:func:`_check_points`): one quasi-Newton step from x with x's Jacobian, verified by a
    second evaluation of the finer rule (two vmapped evaluations over the curve, not a second
    continuation; the iterated check :func:`_check_curve` where the step is not accepted); where x
    already satisfies the finer rule's equations to ``tol``, x' is one quasi-Newton step from x (the
    first-order estimate of the finer fixed point), so a change below the tolerance is not reported as 0.
    Points that did not converge are recorded with ``converged = False`` (never raised).
    """
    a, pts, change = _curve_points(setting, alphas, init, solver, max_steps, tol, damping, cubature_check)
    records: list[dict[str, Any]] = [{} for _ in a]
    for i, (x, hat, res, k, result, obs) in pts:
        rec: dict[str, Any] = {
            "alpha": float(a[i]), "m": float(x[0]), "q": float(x[1]), "V": float(x[2]),
            "m_hat": float(hat[0]), "q_hat": float(hat[1]), "V_hat": float(hat[2]),
            "residual": res, "iterations": k, "converged": result is Result.converged,
        }
        rec.update(obs)
        if change is not None:
            rec["cubature_change"] = float(change[i])
        records[i] = rec
    return records


def replica_solutions(setting: ReplicaSetting, alphas: Sequence[float], init: Any = None, *,
                      solver: str = "newton", max_steps: int = 3000, tol: float = 1e-10, damping: float = 0.5,
                      cubature_check: bool = True) -> list[Solution[ReplicaState]]:
    """The α-curve of :func:`replica_curve` as ``list[Solution]`` (like :func:`statmech_attn.paths.sweep`).

    The same computation and numbers: each :class:`~statmech_attn.Solution` has ``value`` the
    :class:`ReplicaState` (m, q, V, m̂, q̂, V̂), ``result``, ``residual``, ``iterations``, ``action`` = Φ
    (the record's ``free_energy``) and ``stats`` with ``alpha``, the observables of :data:`OBSERVABLES`,
    ``free_energy``, ``solver`` and (with ``cubature_check``) ``cubature_change``.
    """
    a, pts, change = _curve_points(setting, alphas, init, solver, max_steps, tol, damping, cubature_check)
    flag = _solver_flag(solver)
    out: list[Solution[ReplicaState] | None] = [None] * a.size
    for i, (x, hat, res, k, result, obs) in pts:
        stats: dict[str, Any] = {"alpha": float(a[i]), "solver": flag, **obs}
        if change is not None:
            stats["cubature_change"] = float(change[i])
        value = ReplicaState(*(float(v) for v in x), *(float(v) for v in hat))
        out[i] = Solution(value, result, res, k, obs["free_energy"], stats)
    return out  # type: ignore[return-value]


def _curve_points(setting: ReplicaSetting, alphas: Sequence[float], init: Any, solver: str, max_steps: int,
                  tol: float, damping: float, cubature_check: bool):
    """The curve's computation, shared by :func:`replica_curve` and :func:`replica_solutions`:
    (α array, [(index, (x, hats, residual, iterations, result, observables))], cubature change or None)."""
    _check_alpha(alphas)
    solver = _solver_flag(solver)
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    order = np.argsort(a, kind="stable")
    geo = _geometry(setting)
    x0 = _init_array(setting, init)
    args = (np.asarray(tol, np.float64), np.asarray(max_steps), np.asarray(damping, np.float64))  # host arrays
    fine = None
    if cubature_check:
        fine = _nodes(*setting.rules(int(math.ceil(1.5 * setting.cubature_order)),
                                     int(math.ceil(1.5 * setting.teacher_order))))
        # the check's program compiles (into the persistent cache, when it is on) in a thread while
        # the curve's compiles: XLA compiles without the GIL
        f64 = np.float64
        shapes = (jax.ShapeDtypeStruct((a.size, 3), f64), jax.ShapeDtypeStruct((a.size, 3, 3), f64),
                  jax.ShapeDtypeStruct((a.size,), f64), geo, fine)
        ahead = threading.Thread(target=_check_step.precompile, args=shapes, daemon=True)
        ahead.start()
    xs, hats, res, ks, obs, Js = _solve_curve(x0, a[order], geo, _nodes(*setting.rules()), *args, solver)
    change = None
    if cubature_check:
        ahead.join()
        if solver == "fixed_point":  # no Jacobian was computed: the check starts with a fresh one
            Js = jnp.full_like(Js, jnp.nan)
        # dispatched before anything is read back: its compile overlaps the curve's run
        step = _check_step(xs, Js, a[order], geo, fine)
        xs2 = _check_points(xs, Js, a[order], x0, geo, fine, *args, step=step)
    xs, hats, res, ks = (np.asarray(v) for v in (xs, hats, res, ks))
    obs = {k: np.asarray(v) for k, v in obs.items()}
    if cubature_check:
        change = np.max(np.abs(xs2 - xs) / np.abs(xs), axis=1)
    pts = []
    change_given = None if change is None else np.empty_like(change)
    for j, i in enumerate(order):
        result = _result_of(xs[j], float(res[j]), int(ks[j]), max_steps, tol, setting.teacher_norm)
        pts.append((int(i), (xs[j], hats[j], float(res[j]), int(ks[j]), result,
                             {k: float(obs[k][j]) for k in OBSERVABLES + ("free_energy",)})))
        if change is not None:
            change_given[i] = change[j]
    return a, pts, change_given
