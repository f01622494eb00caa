"""``energy`` records: a stack diagnostic -> the JSON-ready ``result`` of ``result.json`` and the
arrays of ``arrays.npz``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._stack import StackDiagnostic


def _mean_finite(a: np.ndarray) -> list:
    return [float(np.mean(r)) for r in a]


def analyse_record(diag: StackDiagnostic, *, layer_norm: bool, identity: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record of ``energy analyse``: per-layer norms, expansion factor (mean |x_attn|/|x| per layer),
    contraction factor (after layer norm), log-partition per token, gradient-field checks, and the
    minimum ascent gain A(θ') − A(θ) − η|∇A|² (identity weights only)."""
    d = diag.tokens.shape[-1]
    result: dict[str, Any] = {
        "tokens_after": diag.tokens[-1],
        "log_partition": diag.log_partition,
        "norms": {"input": diag.norms_in, "after_attention": diag.norms_attention,
                  "after_layer_norm": diag.norms_out if layer_norm else None},
        "expansion_factor": _mean_finite(diag.expansion),
        "contraction_factor": _mean_finite(diag.contraction) if layer_norm else None,
        "min_expansion": float(np.min(diag.expansion)),
        "chebyshev_min": float(np.min(diag.chebyshev)),
        "input_centred": [bool(c) for c in diag.centred],
        "gradient_field": [c.to_dict() for c in diag.gradient_field],
        "ascent_gain_min": float(np.min(diag.ascent_gain)) if identity else None,
        "sqrt_d": float(np.sqrt(d)),
        "max_layer_norm_deviation": float(np.max(np.abs(diag.norms_out - np.sqrt(d)))) if layer_norm else None,
    }
    arrays = {"norms_in": diag.norms_in, "norms_attention": diag.norms_attention, "norms_out": diag.norms_out,
              "tokens": diag.tokens, "log_partition": diag.log_partition, "chebyshev": diag.chebyshev}
    return result, arrays
