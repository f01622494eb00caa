"""Solve a theory with a certificate, sweep it along a control parameter, follow a branch.

Every solution is a :class:`statmech_attn.Solution` whose ``value`` is ``{name: value}`` for every
order parameter, ``residual`` is max|G| (G = ∂Φ/∂x, or x − F(x) for a theory with its own
``equations``), ``action`` is Φ, and ``stats`` carries the certificate:

- ``hessian_eigenvalues`` (of ∂²Φ/∂x², ascending), ``min_hessian_eigenvalue``,
  ``hessian_signature`` ({positive, negative, zero}) and ``extremum`` (minimum, maximum, saddle,
  degenerate); an eigenvalue counts as zero when |λ| ≤ 1e-9 max(1, max|λ|);
- ``jacobian_eigenvalues`` (real parts, ascending; ``..._imag`` their imaginary parts) of ∂G/∂x;
- ``fixed_point_residual``: max|F(x) − x| of the fixed-point form at the solution (the cross-check
  of the two forms); ``fixed_point_steps``: damped fixed-point steps the Newton loop fell back to;
- ``observables`` and ``controls``; ``cubature_change``: the largest relative change of the order
  parameters when every expectation uses ⌈1.5n⌉ instead of n nodes (theories with expectations).
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping, Sequence

import jax.numpy as jnp
import numpy as np

from .._solution import Result, Solution, SolverError
from ..errors import InputError
from ._blocks import GaussianExpectation, block_nodes
from ._compiled import compiled
from .spec import Theory

__all__ = ["solve", "sweep", "continuation", "METHODS", "signature", "stability_changes"]

METHODS = ("newton", "fixed_point")
_ZERO_REL = 1e-9


def _method(theory: Theory, method: str) -> str:
    if method not in METHODS:
        raise InputError("method", method, "must be one of " + ", ".join(METHODS))
    if method == "fixed_point" and compiled(theory).FP is None:
        raise InputError("method", method, "this theory has no fixed-point form (no variable could be isolated); "
                         "use newton")
    return method


def _has_expectations(theory: Theory) -> bool:
    exprs = [theory.free_energy] + list((theory.equations or {}).values())
    return any(isinstance(b, GaussianExpectation) for e in exprs for b in block_nodes(e))


def signature(eigenvalues: Sequence[float]) -> tuple[dict[str, int], str]:
    """({positive, negative, zero} counts, kind) of a symmetric matrix's eigenvalues."""
    ev = np.asarray(eigenvalues, dtype=np.float64)
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        return {"positive": 0, "negative": 0, "zero": 0}, "unknown"
    thr = _ZERO_REL * max(1.0, float(np.max(np.abs(ev))))
    pos, neg = int(np.sum(ev > thr)), int(np.sum(ev < -thr))
    zero = ev.size - pos - neg
    kind = "degenerate" if zero else ("minimum" if neg == 0 else "maximum" if pos == 0 else "saddle")
    return {"positive": pos, "negative": neg, "zero": zero}, kind


def _vector(theory: Theory, values: Mapping[str, float]) -> np.ndarray:
    return np.array([float(values[k]) for k in theory.order_names], dtype=np.float64)


def _init_vector(theory: Theory, controls: Mapping[str, float], init: Any) -> np.ndarray:
    start = theory.initial(controls)
    if init is None:
        return _vector(theory, start)
    if isinstance(init, Solution):
        init = init.value
    if isinstance(init, Mapping):
        unknown = sorted(set(init) - set(theory.order_names))
        if unknown:
            raise InputError("init", unknown[0], "must name order parameters: " + ", ".join(theory.order_names))
        start.update({k: float(v) for k, v in init.items()})
        return _vector(theory, start)
    arr = np.asarray(init, dtype=np.float64).reshape(-1)
    if arr.size != len(theory.order_names):
        raise InputError("init", f"{arr.size} values", f"needs {len(theory.order_names)} (one per order parameter)")
    return arr


def _result(theory: Theory, x: np.ndarray, res: float, tol: float, kind: str, lower: np.ndarray,
            upper: np.ndarray) -> Result:
    if not (np.all(np.isfinite(x)) and math.isfinite(res)):
        return Result.nonfinite
    if res <= tol:
        if theory.extremum != "saddle" and kind not in ("unknown", theory.extremum):
            return Result.not_a_minimum
        return Result.converged
    if np.any(x <= lower) or np.any(x >= upper):
        return Result.diverged
    return Result.max_steps


def _solution(theory: Theory, controls: Mapping[str, float], x: Any, r: Any, k: Any, nfp: Any,
              cert: Mapping[str, Any], *, tol: float, method: str, damping: float, wall: float | None,
              index: int | None = None) -> Solution:
    """A Solution from the arrays of one point (``index`` selects a point of a sweep chunk)."""
    pick = (lambda a: np.asarray(a)) if index is None else (lambda a: np.asarray(a)[index])
    x, r, k, nfp = pick(x), float(pick(r)), int(pick(k)), int(pick(nfp))
    comp = compiled(theory)
    stats: dict[str, Any] = {"method": method, "damping": damping, "fixed_point_steps": nfp,
                             "controls": dict(controls)}
    if wall is not None:
        stats["wall_time_s"] = wall
    obs = pick(cert["observables"])
    stats["observables"] = {n: float(obs[i]) for i, n in enumerate(theory.observable_names)}
    if "fp_residual" in cert:
        stats["fixed_point_residual"] = float(pick(cert["fp_residual"]))
    kind = "unknown"
    if "hessian_eigenvalues" in cert:
        hev = pick(cert["hessian_eigenvalues"])
        sig, kind = signature(hev)
        stats.update({"hessian_eigenvalues": [float(v) for v in hev], "min_hessian_eigenvalue": float(np.min(hev)),
                      "hessian_signature": sig, "extremum": kind,
                      "jacobian_eigenvalues": [float(v) for v in pick(cert["jacobian_eigenvalues"])],
                      "jacobian_eigenvalues_imag": [float(v) for v in pick(cert["jacobian_eigenvalues_imag"])]})
    result = _result(theory, x, r, tol, kind, comp.lower, comp.upper)
    value = {n: float(x[i]) for i, n in enumerate(theory.order_names)}
    return Solution(value, result, r, k, float(pick(cert["phi"])), stats)


def _controls_vector(theory: Theory, controls: Mapping[str, float]) -> np.ndarray:
    return np.array([controls[k] for k in theory.control_names], dtype=np.float64)


def _check_start(theory: Theory, x0: np.ndarray, c: np.ndarray) -> None:
    phi = float(compiled(theory).phi_jit(jnp.asarray(x0), jnp.asarray(c)))
    if not math.isfinite(phi):
        raise InputError("free_energy", phi, "must be finite at the initial point "
                         + ", ".join(f"{k}={v:g}" for k, v in zip(theory.order_names, x0)))


def solve(theory: Theory, controls: Mapping[str, Any] | None = None, *, init: Any = None, method: str = "newton",
          tol: float = 1e-10, max_steps: int = 100, damping: float = 0.5, throw: bool = True,
          cubature_check: bool = True, stability: bool = True) -> Solution:
    """A stationary point of Φ at the given control values (defaults for the rest).

    Args:
        theory: the theory.
        controls: {name: value}; each is checked against its allowed range.
        init: start ({name: value} for some order parameters, a vector, or a Solution: a warm
            start); default the order parameters' ``init``.
        method: ``newton`` (with the damped fixed-point step as its fallback) or ``fixed_point``.
        tol, max_steps, damping: stop when max|G| ≤ tol; δ of the fixed-point step.
        throw: raise :class:`SolverError` when not converged.
        cubature_check: re-solve with ⌈1.5n⌉ nodes per expectation and report ``cubature_change``.
        stability: compute the Hessian and Jacobian spectra.
    """
    method = _method(theory, method)
    ctrl = theory.controls(controls)
    c = _controls_vector(theory, ctrl)
    x0 = _init_vector(theory, ctrl, init)
    _check_start(theory, x0, c)
    comp = compiled(theory)
    t0 = time.perf_counter()
    x, r, k, nfp, cert = comp.point(jnp.asarray(x0), jnp.asarray(c), jnp.asarray(tol), jnp.asarray(max_steps),
                                    jnp.asarray(damping), method=method, stability=stability)
    x = np.asarray(x)
    wall = time.perf_counter() - t0
    sol = _solution(theory, ctrl, x, r, k, nfp, cert, tol=tol, method=method, damping=damping, wall=wall)
    if cubature_check and sol.converged and _has_expectations(theory):
        fine = compiled(theory, 1.5)
        # a few Newton steps with the finer rule from the solution (tol 0: the steps are taken
        # even when the residual is already below tol, so the change is measured, not hidden)
        x2 = np.asarray(fine.point(jnp.asarray(x), jnp.asarray(c), jnp.asarray(0.0), jnp.asarray(3),
                                   jnp.asarray(damping), method=method, stability=False)[0])
        change = float(np.max(np.abs(x2 - x) / np.maximum(np.abs(x), 1e-12)))
        stats = dict(sol.stats, cubature_change=change, cubature_order=theory.cubature_order,
                     cubature_order_check=int(math.ceil(1.5 * theory.cubature_order)))
        sol = sol.replace(stats=stats)
    if throw and not sol.converged:
        raise SolverError(sol)
    return sol


def sweep(theory: Theory, over: str, values: Sequence[float], controls: Mapping[str, Any] | None = None, *,
          init: Any = None, method: str = "newton", tol: float = 1e-10, max_steps: int = 100, damping: float = 0.5,
          cubature_check: bool = False, stability: bool = True) -> list[Solution]:
    """Solve at every value of the control parameter ``over`` (one Solution per value, in the order given).

    The values are solved in increasing order with continuation (secant predictor from the two
    previous solutions) inside one jitted ``lax.scan``: compiled once per number of values.  Points
    that do not converge are returned with their ``result`` (never raised).
    """
    method = _method(theory, method)
    cp = theory.control(over)
    vals = np.asarray([cp.check(v) for v in values], dtype=np.float64)
    if vals.size == 0:
        raise InputError(over, [], "a sweep needs at least one value")
    ctrl = theory.controls(controls)
    order = np.argsort(vals, kind="stable")
    rows = []
    for v in vals[order]:
        cv = dict(ctrl, **{over: float(v)})
        rows.append(_controls_vector(theory, cv))
    cs = np.stack(rows)
    first = dict(ctrl, **{over: float(vals[order[0]])})
    x0 = _init_vector(theory, first, init)
    _check_start(theory, x0, cs[0])
    along = theory.control_names.index(over)
    comp = compiled(theory)
    args = (jnp.asarray(tol), jnp.asarray(max_steps), jnp.asarray(damping))
    t0 = time.perf_counter()
    log_scale = bool(vals.min() > 0)  # secant predictor in ln s for a positive parameter
    xs, rs, ks, nfps, certs = comp.curve(jnp.asarray(x0), jnp.asarray(cs), *args, method=method, along=along,
                                         stability=stability, log_scale=log_scale)
    xs = np.asarray(xs)
    wall = (time.perf_counter() - t0) / len(vals)
    change = None
    if cubature_check and _has_expectations(theory):
        xs2 = np.asarray(compiled(theory, 1.5).curve(jnp.asarray(x0), jnp.asarray(cs), jnp.asarray(0.1 * tol),
                                                     *args[1:], method=method, along=along, stability=False,
                                                     log_scale=log_scale)[0])
        change = np.max(np.abs(xs2 - xs) / np.maximum(np.abs(xs), 1e-12), axis=1)
    out: list[Solution | None] = [None] * len(vals)
    for j, i in enumerate(order):
        cv = dict(ctrl, **{over: float(vals[i])})
        sol = _solution(theory, cv, xs, rs, ks, nfps, certs, tol=tol, method=method, damping=damping, wall=wall,
                        index=j)
        if change is not None:
            sol = sol.replace(stats=dict(sol.stats, cubature_change=float(change[j])))
        out[i] = sol
    return [s for s in out if s is not None]


def stability_changes(solutions: Sequence[Solution], over: str) -> list[dict[str, Any]]:
    """Where, between neighbouring converged solutions (in the order given), an eigenvalue of the
    Hessian or of the Jacobian crosses zero (see :func:`.records.stability_changes`)."""
    from .records import point_record, stability_changes as changes

    return changes([point_record(s.stats.get("theory"), s) for s in solutions], over)


from ._arclength import continuation  # noqa: E402  (uses the helpers above)


def derive(theory: Theory) -> "Derivation":
    """The stationarity conditions and fixed-point forms of ``theory`` (text, LaTeX, JSON)."""
    from ._compiled import derivation

    return derivation(theory)


from ._derive import Derivation  # noqa: E402,F401
