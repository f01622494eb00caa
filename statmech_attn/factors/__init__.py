"""Transformer factors by sparse non-negative dictionary learning (Yun, Chen, Olshausen, LeCun, 2103.15949).

``sparse_codes`` (non-negative FISTA, vmapped over tokens, solver contract),
``TransformerFactors`` (scikit-learn-shaped estimator: ``fit``, ``transform``,
``importance_scores``), ``importance_scores``, ``classify_levels``, ``frequency_weights``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from ._estimator import LEVELS as LEVELS
    from ._estimator import TransformerFactors as TransformerFactors
    from ._estimator import classify_levels as classify_levels
    from ._estimator import frequency_weights as frequency_weights
    from ._estimator import importance_scores as importance_scores
    from ._states import NetworkSpec as NetworkSpec
    from ._states import attention_stack_states as attention_stack_states
    from ._fista import kkt_residual as kkt_residual
    from ._fista import lasso_objective as lasso_objective
    from ._fista import lipschitz as lipschitz
    from ._fista import sparse_codes as sparse_codes

__all__ = [
    "LEVELS", "TransformerFactors", "classify_levels", "frequency_weights", "importance_scores", "NetworkSpec",
    "attention_stack_states", "kkt_residual", "lasso_objective", "lipschitz", "sparse_codes",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "LEVELS": "._estimator", "TransformerFactors": "._estimator", "classify_levels": "._estimator",
    "frequency_weights": "._estimator", "importance_scores": "._estimator", "NetworkSpec": "._states",
    "attention_stack_states": "._states", "kkt_residual": "._fista", "lasso_objective": "._fista",
    "lipschitz": "._fista", "sparse_codes": "._fista",
}


# The public names are imported on first use: ``import statmech_attn.factors`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
