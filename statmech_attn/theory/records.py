"""Solutions → JSON-ready records (the ``result`` of ``result.json``).

A point record holds the control parameters, every order parameter and observable by name,
``free_energy`` (= ``action``), ``residual``, ``converged``, ``result``, ``iterations`` and the
stability certificate (``min_hessian_eigenvalue``, ``hessian_eigenvalues``, ``hessian_signature``,
``extremum``, ``jacobian_eigenvalues``, ``fixed_point_residual``).  A sweep record has ``points``
(one per value, in the order given), ``over``, ``converged`` (all points), and
``stability_changes``: where the number of negative eigenvalues changes between neighbouring
converged points (each point also carries ``stability_change``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from .._solution import Solution
    from .spec import Theory

__all__ = ["point_record", "solve_record", "sweep_record", "stability_changes", "STABILITY_KEYS"]

STABILITY_KEYS = ("min_hessian_eigenvalue", "hessian_eigenvalues", "hessian_signature", "extremum",
                  "jacobian_eigenvalues", "jacobian_eigenvalues_imag", "fixed_point_residual", "fixed_point_steps",
                  "cubature_change", "arclength", "wall_time_s")
_ZERO_REL = 1e-9


def point_record(theory: Theory, sol: Solution) -> dict[str, Any]:
    """One solution as a flat record (controls, order parameters, observables, diagnostics)."""
    rec: dict[str, Any] = dict(sol.stats.get("controls", {}))
    rec.update({k: float(v) for k, v in sol.value.items()})
    rec.update(sol.stats.get("observables", {}))
    rec.update({"free_energy": float(sol.action), "action": float(sol.action), "residual": float(sol.residual),
                "converged": sol.converged, "result": sol.result.value, "iterations": int(sol.iterations)})
    for k in STABILITY_KEYS:
        if k in sol.stats:
            rec[k] = sol.stats[k]
    return rec


def solve_record(theory: Theory, sol: Solution) -> dict[str, Any]:
    """The record of ``theory solve``: the point record plus grouped ``order_parameters``,
    ``observables`` and ``controls``."""
    rec = {"theory": theory.name, **point_record(theory, sol)}
    rec["order_parameters"] = {k: float(v) for k, v in sol.value.items()}
    rec["observables"] = dict(sol.stats.get("observables", {}))
    rec["controls"] = dict(sol.stats.get("controls", {}))
    for k in ("cubature_order", "cubature_order_check", "method"):
        if k in sol.stats:
            rec[k] = sol.stats[k]
    return rec


def _negatives(values: Sequence[float]) -> int:
    if not values:
        return 0
    thr = _ZERO_REL * max(1.0, max(abs(v) for v in values))
    return int(sum(v < -thr for v in values))


def stability_changes(points: Sequence[Mapping[str, Any]], over: str) -> list[dict[str, Any]]:
    """Where, between neighbouring converged points (in the order given), the number of negative
    Hessian eigenvalues or of negative real parts of Jacobian eigenvalues changes: an eigenvalue
    crossed zero (a fold, a bifurcation or a loss of stability)."""
    out = []
    prev = None
    for i, p in enumerate(points):
        solved = p.get("converged") or p.get("result") == "not_a_minimum"  # stationary, wrong kind
        if not solved or "hessian_eigenvalues" not in p:
            continue
        nh, nj = _negatives(p["hessian_eigenvalues"]), _negatives(p["jacobian_eigenvalues"])
        if prev is not None and (nh, nj) != prev[1:]:
            j = prev[0]
            out.append({"index": i, "between": [points[j][over], p[over]],
                        "negative_hessian_eigenvalues": [prev[1], nh], "negative_jacobian_eigenvalues": [prev[2], nj],
                        "kind": "eigenvalue sign change (fold, bifurcation or instability)"})
        prev = (i, nh, nj)
    return out


def sweep_record(theory: Theory, over: str, points: Sequence[Mapping[str, Any]], *,
                 branch: str = "natural") -> dict[str, Any]:
    """The record of ``theory sweep``; ``points`` are point records (sweep or branch order)."""
    pts = [dict(p) for p in points]
    changes = stability_changes(pts, over)
    flagged = {c["index"] for c in changes}
    for i, p in enumerate(pts):
        p["stability_change"] = i in flagged
    n_ok = sum(bool(p.get("converged")) for p in pts)
    return {"theory": theory.name, "over": over, "continuation": branch, "n_points": len(pts),
            "n_converged": n_ok, "converged": n_ok == len(pts), "order_parameters": list(theory.order_names),
            "observables": list(theory.observable_names), "stability_changes": changes, "points": pts}
