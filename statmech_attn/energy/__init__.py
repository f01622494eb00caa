"""Attention as a gradient-ascent step on a log-sum-exp; layer-norm contraction (Shim, 2205.01080).

``log_partition``, ``mean_parameter`` (= attention output), ``fisher`` (= ∇²A = β Cov_p[k]),
``ascent_step`` / ``ascent_gain`` (the convexity inequality), ``layer_norm``, ``infonce`` and
``exponential_family_nll`` (InfoNCE as an exponential-family NLL), ``gradient_field_check`` for
(W_Q, W_K, W_V), and ``stack_diagnostic``: per-layer expansion before LN and contraction after it.
"""

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
from ._stack import Weights as Weights
from ._stack import attention_update as attention_update
from ._stack import check_tokens as check_tokens
from ._stack import gradient_field_check as gradient_field_check
from ._stack import identity_weights as identity_weights
from ._stack import layer_norm as layer_norm
from ._stack import random_weights as random_weights
from ._stack import stack_diagnostic as stack_diagnostic
