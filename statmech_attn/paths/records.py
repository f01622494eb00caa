"""``paths`` records: a :class:`~statmech_attn.Solution` of the saddle point -> the JSON-ready record of
``result.json`` (diagnostics, order parameters, predictor, test error, alignment, head scores, pruning)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._action import PathsProblem


def solution_record(sol: Any, problem: PathsProblem) -> dict[str, Any]:
    """The result record of one solution: diagnostics, order parameters, predictor, alignment, head scores."""
    from ._predict import record_quantities

    rec: dict[str, Any] = {
        "alpha": problem.alpha,
        "converged": sol.converged,
        "result": sol.result.value,
        "action": sol.action,
        "residual": sol.residual,
        "iterations": sol.iterations,
        "min_hessian_eigenvalue": sol.stats.get("min_hessian_eigenvalue"),
        "solver": sol.stats.get("solver"),
        "wall_time_s": sol.stats.get("wall_time_s"),
        "widths": list(problem.model.widths),
        "width_readout": problem.model.width_readout,
        "U_a": float(sol.value.U_a),
        "order_parameters": [np.asarray(u).tolist() for u in sol.value.U],
    }
    if not sol.converged:
        return rec
    q = record_quantities(sol.value, problem)
    pred, gp, errs, gp_errs = q["prediction"], q["gp_prediction"], q["errors"], q["gp_errors"]
    rec["evaluated_on"] = q["evaluated_on"]
    rec["predictor_mean"] = np.asarray(pred.mean)
    rec["predictor_variance"] = np.asarray(pred.variance)
    rec["test_error"] = errs.get("test_error")
    rec["accuracy"] = errs.get("accuracy")
    rec["bias2"] = errs.get("bias2")
    rec["mean_variance"] = errs.get("variance")
    if gp_errs:
        rec["gp_test_error"] = gp_errs["test_error"]
        rec["gp_accuracy"] = gp_errs["accuracy"]
    al = q["alignment"]
    rec["alignment"] = {
        "renormalised": al["renormalised"]["scalar"],
        "gp": al["gp"]["scalar"],
        "overlaps_renormalised": al["renormalised"]["overlaps"],
        "overlaps_gp": al["gp"]["overlaps"],
    }
    rec["head_scores"] = [s.tolist() for s in q["head_scores"]]
    rec["pruning"] = q["pruning"]
    return rec


def solve_summary(rec: dict[str, Any]) -> list[tuple[str, Any]]:
    keys = ("result", "residual", "iterations", "action", "min_hessian_eigenvalue", "alpha", "U_a", "test_error",
            "accuracy", "gp_test_error", "gp_accuracy")
    rows = [(k, rec[k]) for k in keys if k in rec and rec[k] is not None]
    if "alignment" in rec:
        rows.append(("alignment (renormalised / GP)", f"{rec['alignment']['renormalised']:.4f} / {rec['alignment']['gp']:.4f}"))
    if "head_scores" in rec:
        rows.append(("head scores", "; ".join(", ".join(f"{v:.3f}" for v in layer) for layer in rec["head_scores"])))
    return rows

