"""Attention as a gradient-ascent step on a log-sum-exp; layer-norm contraction (Shim, 2205.01080).

``log_partition``, ``mean_parameter`` (= attention output), ``fisher`` (= ∇²A = β Cov_p[k]),
``ascent_step`` / ``ascent_gain`` (the convexity inequality), ``layer_norm``, ``infonce`` and
``exponential_family_nll`` (InfoNCE as an exponential-family NLL), ``gradient_field_check`` for
(W_Q, W_K, W_V), and ``stack_diagnostic``: per-layer expansion before LN and contraction after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from ._family import ascent_gain as ascent_gain
    from ._family import ascent_step as ascent_step
    from ._family import exponential_family_nll as exponential_family_nll
    from ._family import fisher as fisher
    from ._family import infonce as infonce
    from ._family import log_partition as log_partition
    from ._family import mean_parameter as mean_parameter
    from ._family import probabilities as probabilities
    from ._stack import GradientFieldCheck as GradientFieldCheck
    from ._stack import StackDiagnostic as StackDiagnostic
    from ._weights import Weights as Weights
    from ._stack import attention_update as attention_update
    from ._weights import check_tokens as check_tokens
    from ._stack import gradient_field_check as gradient_field_check
    from ._weights import identity_weights as identity_weights
    from ._stack import layer_norm as layer_norm
    from ._weights import random_weights as random_weights
    from ._stack import stack_diagnostic as stack_diagnostic

__all__ = [
    "ascent_gain", "ascent_step", "exponential_family_nll", "fisher", "infonce", "log_partition", "mean_parameter",
    "probabilities", "GradientFieldCheck", "StackDiagnostic", "Weights", "attention_update", "check_tokens",
    "gradient_field_check", "identity_weights", "layer_norm", "random_weights", "stack_diagnostic",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "ascent_gain": "._family", "ascent_step": "._family", "exponential_family_nll": "._family",
    "fisher": "._family", "infonce": "._family", "log_partition": "._family", "mean_parameter": "._family",
    "probabilities": "._family", "GradientFieldCheck": "._stack", "StackDiagnostic": "._stack",
    "Weights": "._weights", "attention_update": "._stack", "check_tokens": "._weights",
    "gradient_field_check": "._stack", "identity_weights": "._weights", "layer_norm": "._stack",
    "random_weights": "._weights", "stack_diagnostic": "._stack",
}


# The public names are imported on first use: ``import statmech_attn.energy`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
