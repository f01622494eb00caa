"""The generalised Potts model, its sampler, the pseudo-likelihood map and recovery metrics (seed 002).

Theory: ``theory/potts.md``.  A Potts model with factored couplings 𝒥_ij(a,b) = β J_ij U_ab
(:mod:`.model`), a Gibbs sampler vectorised over chains (:mod:`.sampler`), the pseudo-likelihood
objective and the map from factored-attention parameters to couplings (:mod:`.pseudolikelihood`),
recovery metrics (:mod:`.metrics`) and the config schema (:mod:`.config`).  The replica theory of
one attention row (§7) lives in :mod:`.replica`.

This package never imports ``validation``; the layers trained by masked language modelling live in
``validation.potts``.
"""

from .config import PottsConfig as PottsConfig
from .config import PottsModelConfig as PottsModelConfig
from .config import ReplicaConfig as ReplicaConfig
from .config import SamplerConfig as SamplerConfig
from .config import TrainConfig as TrainConfig
from .config import ValidateConfig as ValidateConfig

# --- replica theory (issue 7) re-exports go below this line ---
