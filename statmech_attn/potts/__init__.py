"""The generalised Potts model, its sampler, the pseudo-likelihood map and recovery metrics (Rende, Gerace, Laio, Goldt, 2024).

Theory: Rende, Gerace, Laio, Goldt (2024); docs/theories/potts.md.  A Potts model with factored couplings 𝒥_ij(a,b) = β J_ij U_ab
(:mod:`.model`), a Gibbs sampler vectorised over chains (:mod:`.sampler`), the pseudo-likelihood
objective and the map from factored-attention parameters to couplings (:mod:`.pseudolikelihood`),
recovery metrics (:mod:`.metrics`) and the config schema (:mod:`.config`).  The replica theory of
one attention row (§7) lives in :mod:`.replica`.

This package never imports ``validation``; the layers trained by masked language modelling live in
``statmech_attn.validation.potts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from .spec import PottsSpec as PottsSpec
    from .spec import PottsModelConfig as PottsModelConfig
    from .spec import ReplicaConfig as ReplicaConfig
    from .spec import SamplerConfig as SamplerConfig
    from .spec import TrainConfig as TrainConfig
    from .spec import ValidateConfig as ValidateConfig
    from .model import PottsModel as PottsModel
    from .model import potts_model as potts_model
    from .model import model_from_config as model_from_config
    from .model import energy as energy
    from .model import conditional_logits as conditional_logits
    from .model import conditionals as conditionals
    from .model import coupling_tensor as coupling_tensor
    from .model import centring_projector as centring_projector
    from .model import zero_sum_gauge as zero_sum_gauge
    from .model import Enumeration as Enumeration
    from .model import all_states as all_states
    from .model import enumerate_exact as enumerate_exact
    from .model import sample_exact as sample_exact
    from .model import ising_couplings as ising_couplings
    from .model import ising_ring_log_partition as ising_ring_log_partition
    from .model import ising_ring_correlation as ising_ring_correlation
    from .model import ising_ring_magnetisation as ising_ring_magnetisation
    from .model import ising_chain_log_partition as ising_chain_log_partition
    from .model import ising_chain_correlation as ising_chain_correlation
    from .sampler import Samples as Samples
    from .sampler import generate as generate
    from .sampler import gibbs_chains as gibbs_chains
    from .sampler import integrated_autocorr_time as integrated_autocorr_time
    from .pseudolikelihood import attention_matrix as attention_matrix
    from .pseudolikelihood import factored_couplings as factored_couplings
    from .pseudolikelihood import tensor_conditional_logits as tensor_conditional_logits
    from .pseudolikelihood import neg_pseudo_loglik as neg_pseudo_loglik
    from .pseudolikelihood import pl_objective as pl_objective
    from .pseudolikelihood import PseudoLikelihoodFit as PseudoLikelihoodFit
    from .pseudolikelihood import fit_pseudolikelihood as fit_pseudolikelihood
    from .pseudolikelihood import check_sequences as check_sequences
    from .metrics import zero_sum_couplings as zero_sum_couplings
    from .metrics import symmetrised_couplings as symmetrised_couplings
    from .metrics import true_couplings as true_couplings
    from .metrics import coupling_error as coupling_error
    from .metrics import pair_scores as pair_scores
    from .metrics import true_edges as true_edges
    from .metrics import top_pair_precision as top_pair_precision
    from .metrics import roc_auc as roc_auc
    from .metrics import colour_cosine as colour_cosine
    from .metrics import conditional_metrics as conditional_metrics
    from .metrics import recovery_metrics as recovery_metrics
    from .replica import ReplicaSetting as ReplicaSetting
    from .replica import ReplicaState as ReplicaState
    from .replica import replica_curve as replica_curve
    from .replica import replica_solutions as replica_solutions
    from .replica import solve as solve_replica

__all__ = [
    "PottsSpec", "PottsModelConfig", "ReplicaConfig", "SamplerConfig", "TrainConfig", "ValidateConfig",
    "PottsModel", "potts_model", "model_from_config", "energy", "conditional_logits", "conditionals",
    "coupling_tensor", "centring_projector", "zero_sum_gauge", "Enumeration", "all_states", "enumerate_exact",
    "sample_exact", "ising_couplings", "ising_ring_log_partition", "ising_ring_correlation",
    "ising_ring_magnetisation", "ising_chain_log_partition", "ising_chain_correlation", "Samples", "generate",
    "gibbs_chains", "integrated_autocorr_time", "attention_matrix", "factored_couplings",
    "tensor_conditional_logits", "neg_pseudo_loglik", "pl_objective", "PseudoLikelihoodFit", "fit_pseudolikelihood",
    "check_sequences", "zero_sum_couplings", "symmetrised_couplings", "true_couplings", "coupling_error",
    "pair_scores", "true_edges", "top_pair_precision", "roc_auc", "colour_cosine", "conditional_metrics",
    "recovery_metrics", "ReplicaSetting", "ReplicaState", "replica_curve", "replica_solutions", "solve_replica",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "PottsSpec": ".spec", "PottsModelConfig": ".spec", "ReplicaConfig": ".spec", "SamplerConfig": ".spec",
    "TrainConfig": ".spec", "ValidateConfig": ".spec", "PottsModel": ".model", "potts_model": ".model",
    "model_from_config": ".model", "energy": ".model", "conditional_logits": ".model", "conditionals": ".model",
    "coupling_tensor": ".model", "centring_projector": ".model", "zero_sum_gauge": ".model",
    "Enumeration": ".model", "all_states": ".model", "enumerate_exact": ".model", "sample_exact": ".model",
    "ising_couplings": ".model", "ising_ring_log_partition": ".model", "ising_ring_correlation": ".model",
    "ising_ring_magnetisation": ".model", "ising_chain_log_partition": ".model",
    "ising_chain_correlation": ".model", "Samples": ".sampler", "generate": ".sampler", "gibbs_chains": ".sampler",
    "integrated_autocorr_time": ".sampler", "attention_matrix": ".pseudolikelihood",
    "factored_couplings": ".pseudolikelihood", "tensor_conditional_logits": ".pseudolikelihood",
    "neg_pseudo_loglik": ".pseudolikelihood", "pl_objective": ".pseudolikelihood",
    "PseudoLikelihoodFit": ".pseudolikelihood", "fit_pseudolikelihood": ".pseudolikelihood",
    "check_sequences": ".pseudolikelihood", "zero_sum_couplings": ".metrics", "symmetrised_couplings": ".metrics",
    "true_couplings": ".metrics", "coupling_error": ".metrics", "pair_scores": ".metrics", "true_edges": ".metrics",
    "top_pair_precision": ".metrics", "roc_auc": ".metrics", "colour_cosine": ".metrics",
    "conditional_metrics": ".metrics", "recovery_metrics": ".metrics", "ReplicaSetting": ".replica",
    "ReplicaState": ".replica", "replica_curve": ".replica", "replica_solutions": ".replica",
    "solve_replica": (".replica", "solve"),
}


# The public names are imported on first use: ``import statmech_attn.potts`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)
