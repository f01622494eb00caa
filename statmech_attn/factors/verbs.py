"""The verbs of ``factors``: ``fit`` (config -> record) and re-plotting a saved run."""

from __future__ import annotations

import numpy as np

from .._verb import Verb, VerbOutput
from ..errors import InputError
from .records import fit_record
from .spec import FactorsSpec


def fit(cfg: FactorsSpec) -> VerbOutput:
    """FactorsSpec -> states -> TransformerFactors.fit -> codes, importance scores, levels."""
    from . import TransformerFactors, frequency_weights
    from .plots import plot_importance
    from ._states import attention_stack_states

    f = cfg.factors
    if f.states is not None:
        states, ids, source = f.states, f.token_ids, "states"
    else:
        states, ids = attention_stack_states(f.network.spec(), cfg.seed)
        source = "attention_stack"
    scale = float(np.mean(np.linalg.norm(states, axis=-1))) if f.scale == "global" else 1.0
    if not scale > 0:
        raise InputError("factors.states", "all zero", "must not be identically zero")
    x = states / scale
    weights = frequency_weights(ids) if (f.frequency_weighting and ids is not None) else None
    tf = TransformerFactors(f.n_factors, f.sparsity, n_epochs=f.n_epochs, batch_size=f.batch_size,
                            learning_rate=f.learning_rate, fista_steps=f.fista_steps, fista_tol=f.fista_tol,
                            top_k=f.top_k, seed=cfg.seed).fit(x, sample_weight=weights)
    sol = tf.transform_solution(x)
    result, arrays = fit_record(tf, x, sol, ids, source=source, scale=scale)
    scores, levels = arrays["importance_scores"], result["levels"]
    fig, _ = plot_importance(scores, np.asarray(levels))
    summary = [("states", f"{source}: {x.shape[0]} layers × {x.shape[1]} tokens × d = {x.shape[2]}"),
               ("factors (low / mid / high / unused)",
                " / ".join(str(result["level_counts"][k]) for k in ("low", "mid", "high", "unused"))),
               ("objective first → last epoch", f"{tf.objective_[0]:.4g} → {tf.objective_[-1]:.4g}"),
               ("mean active factors per state", result["mean_active_factors"]),
               ("explained variance per layer", ", ".join(f"{v:.3f}" for v in result["explained_variance_per_layer"])),
               ("codes: KKT residual", sol.residual), ("codes converged", sol.converged)]
    return VerbOutput(result=result, arrays=arrays, summary=summary, figures=[(fig, "importance")],
                      ok=sol.converged,
                      message=f"FISTA codes did not reach fista_tol = {f.fista_tol:g} (KKT residual {sol.residual:.3g}); "
                              "raise factors.fista_steps")


def plot_fit(record: dict, arrays: dict) -> list:
    from .plots import plot_importance

    if "importance_scores" not in arrays:
        raise InputError("run_dir", "no importance_scores", "arrays.npz lacks importance_scores (not a 'factors fit' run?)")
    levels = arrays.get("levels", np.array(record.get("result", {}).get("levels", [])))
    fig, _ = plot_importance(arrays["importance_scores"], np.asarray(levels).astype(str))
    return [(fig, "importance")]



VERBS = {"fit": Verb(FactorsSpec, fit)}
PLOTS = {"fit": plot_fit}
