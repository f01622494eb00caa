"""Attention paths: Bayesian learning of a deep multi-head attention network at finite α = P/N.

Theory: Tiberi, Mignacco, Irie, Sompolinsky (NeurIPS 2024); docs/theories/paths.md.  The
numbers: path-augmented inputs and path–path kernels, the action S(U) and its saddle point
(Newton, Adam, fixed-point solvers), predictor statistics, the GP limit, kernel–task alignment,
head scores and pruning, α-sweeps, and the bundled hidden-Markov-chain task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from ._action import OrderParameters as OrderParameters
    from ._action import PathsProblem as PathsProblem
    from ._action import ProblemArrays as ProblemArrays
    from ._action import action as action
    from ._action import energy as energy
    from ._action import energy_gradient as energy_gradient
    from ._action import entropy as entropy
    from ._action import gp_order_parameters as gp_order_parameters
    from ._action import make_problem as make_problem
    from ._action import order_parameters as order_parameters
    from ._action import partial_trace as partial_trace
    from ._action import readout_order_parameter as readout_order_parameter
    from ._data import PathsData as PathsData
    from ._data import data_from_arrays as data_from_arrays
    from ._data import load_data as load_data
    from ._kernels import path_attention as path_attention
    from ._kernels import path_inputs as path_inputs
    from ._kernels import path_kernels as path_kernels
    from ._kernels import readout_vectors as readout_vectors
    from ._kernels import renormalised_kernel as renormalised_kernel
    from ._model import Hyper as Hyper
    from ._model import PathsModel as PathsModel
    from ._predict import Prediction as Prediction
    from ._predict import alignment as alignment
    from ._predict import gp_kernel as gp_kernel
    from ._predict import gp_predict as gp_predict
    from ._predict import head_scores as head_scores
    from ._predict import kernel_alignment as kernel_alignment
    from ._predict import predict as predict
    from ._predict import prune_heads as prune_heads
    from ._predict import pruning_table as pruning_table
    from ._predict import test_error as test_error
    from ._hessian import energy_hessian as energy_hessian
    from ._solve import solve as solve
    from ._sweep import sweep as sweep
    from ._task import HMMTask as HMMTask
    from ._task import hmm_task as hmm_task

__all__ = [
    "OrderParameters", "PathsProblem", "ProblemArrays", "action", "energy", "energy_gradient", "entropy",
    "gp_order_parameters", "make_problem", "order_parameters", "partial_trace", "readout_order_parameter",
    "PathsData", "data_from_arrays", "load_data", "path_attention", "path_inputs", "path_kernels",
    "readout_vectors", "renormalised_kernel", "Hyper", "PathsModel", "Prediction", "alignment", "gp_kernel",
    "gp_predict", "head_scores", "kernel_alignment", "predict", "prune_heads", "pruning_table", "test_error",
    "energy_hessian", "solve", "sweep", "HMMTask", "hmm_task", "problem_from_data",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "OrderParameters": "._action", "PathsProblem": "._action", "ProblemArrays": "._action", "action": "._action",
    "energy": "._action", "energy_gradient": "._action", "entropy": "._action", "gp_order_parameters": "._action",
    "make_problem": "._action", "order_parameters": "._action", "partial_trace": "._action",
    "readout_order_parameter": "._action", "PathsData": "._data", "data_from_arrays": "._data",
    "load_data": "._data", "path_attention": "._kernels", "path_inputs": "._kernels", "path_kernels": "._kernels",
    "readout_vectors": "._kernels", "renormalised_kernel": "._kernels", "Hyper": "._model", "PathsModel": "._model",
    "Prediction": "._predict", "alignment": "._predict", "gp_kernel": "._predict", "gp_predict": "._predict",
    "head_scores": "._predict", "kernel_alignment": "._predict", "predict": "._predict", "prune_heads": "._predict",
    "pruning_table": "._predict", "test_error": "._predict", "energy_hessian": "._hessian", "solve": "._solve",
    "sweep": "._sweep", "HMMTask": "._task", "hmm_task": "._task",
}


# The public names are imported on first use: ``import statmech_attn.paths`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)


def problem_from_data(model: PathsModel, data: PathsData) -> PathsProblem:
    """Path-augmented inputs of the data under ``model`` and the saddle-point problem."""
    from ._action import make_problem
    from ._kernels import path_inputs

    xt = path_inputs(data.x, data.attention, model)
    xt_test = None if data.x_test is None else path_inputs(data.x_test, data.attention_test, model)
    return make_problem(model, xt, data.y, xt_test, data.y_test)
