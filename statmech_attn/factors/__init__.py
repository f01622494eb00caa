"""Transformer factors by sparse non-negative dictionary learning (Yun, Chen, Olshausen, LeCun, 2103.15949).

``sparse_codes`` (non-negative FISTA, vmapped over tokens, solver contract),
``TransformerFactors`` (scikit-learn-shaped estimator: ``fit``, ``transform``,
``importance_scores``), ``importance_scores``, ``classify_levels``, ``frequency_weights``.
"""

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
