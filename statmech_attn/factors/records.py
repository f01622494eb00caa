"""``factors`` records: a fitted :class:`~statmech_attn.factors.TransformerFactors` and its codes -> the
JSON-ready ``result`` of ``result.json`` and the arrays of ``arrays.npz``."""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_record(tf: Any, x: np.ndarray, sol: Any, ids: np.ndarray | None, *, source: str,
               scale: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record of ``factors fit``: importance scores per factor and layer (mean of the top-k codes),
    their levels (low/mid/high/unused by the layer where they peak), the objective per epoch, the
    explained variance 1 − |x − Φα|²/|x − x̄|² per layer, the codes' FISTA certificate and each
    factor's top contexts."""
    from ._estimator import classify_levels

    codes = sol.value
    scores = tf.importance_scores(codes=codes)
    peak, emerge, levels = classify_levels(scores)
    recon = codes @ tf.dictionary_.T
    resid = np.sum((x - recon) ** 2, axis=(1, 2))
    total = np.sum((x - x.mean(axis=1, keepdims=True)) ** 2, axis=(1, 2))
    result: dict[str, Any] = {
        "source": source,
        "layers": int(x.shape[0]), "tokens": int(x.shape[1]), "dim": int(x.shape[2]),
        "n_factors": tf.n_factors, "sparsity": tf.alpha, "scale": scale,
        "importance_scores": scores,
        "levels": list(levels),
        "level_counts": {lev: int(np.sum(levels == lev)) for lev in ("low", "mid", "high", "unused")},
        "peak_layer": peak, "emergence_layer": emerge,
        "objective_per_epoch": tf.objective_,
        "explained_variance_per_layer": 1.0 - resid / np.maximum(total, 1e-300),
        "mean_active_factors": float(np.mean(np.sum(codes > 0, axis=-1))),
        "codes": sol.summary(),
        "top_contexts": {str(c): [{"layer": l, "token": t, "coefficient": v,
                                   **({"token_id": int(ids[t])} if ids is not None else {})}
                                  for l, t, v in tf.top_activations(codes, c, 5)]
                         for c in range(tf.n_factors)},
    }
    arrays = {"dictionary": tf.dictionary_, "codes": codes, "importance_scores": scores, "levels": levels.astype("U8")}
    if ids is not None:
        arrays["token_ids"] = np.asarray(ids)
    arrays = {"dictionary": tf.dictionary_, "codes": codes, "importance_scores": scores, "levels": levels.astype("U8")}
    if ids is not None:
        arrays["token_ids"] = np.asarray(ids)
    return result, arrays
