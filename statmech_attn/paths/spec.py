"""The ``paths`` config schema (TOML tables [data], [model], [solver], [sweep]).

Symbols as in docs/theories/paths.md; the keys are a stable surface (docs/theories/paths.md).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np

from ._validate_spec import ValidateConfig

from ..compute import ComputeConfig
from ..config import Spec, all_positive, at_least, field, positive
from ..errors import InputError
from ._model import PathsModel, check_alphas, check_temperature
from ._task import HMMTask


def _unit_interval(v: float) -> float:
    if not (0 < v <= 1):
        raise InputError("", v, "must be in (0, 1]")
    return v


def _positive_list(v: tuple) -> tuple:
    return all_positive(v) if v else v


def _alpha_list(v: tuple) -> tuple:
    return check_alphas(v) if v else v  # empty: the grid comes from alpha_min/alpha_max/n_alphas


HMMConfig = HMMTask
"""[data.hmm]: generator settings of the bundled hidden-Markov-chain task (§9.1); the task's own dataclass."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """[data]: ``npz`` (external data, see the README) or a [data.hmm] table (bundled task)."""

    npz: str = field("", path=True)
    hmm: HMMConfig | None = None

    def __post_init__(self) -> None:
        if bool(self.npz) == (self.hmm is not None):
            raise InputError("data", "npz and hmm" if self.npz else "neither", "give exactly one of data.npz or a [data.hmm] table")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """[model]: architecture, priors, widths, temperature (symbols of §1–2)."""

    readout: Literal["mean", "first", "last"] = "last"
    heads: tuple[int, ...] = ()
    sigma2_input: float = field(1.0, check=positive)
    sigma2_layers: tuple[float, ...] = field((), check=_positive_list)
    sigma2_readout: float = field(1.0, check=positive)
    widths: tuple[float, ...] = field((), check=_positive_list)
    width_readout: float = field(100.0, check=positive)
    temperature: float = field(0.01, check=check_temperature)


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    """[solver]: method and stopping rule (max |∂S/∂U| ≤ tol)."""

    method: Literal["newton", "adam", "fixed_point"] = "newton"
    tol: float = field(1e-10, check=positive)
    max_steps: int = field(500, check=at_least(1))
    learning_rate: float = field(1e-2, check=positive)
    damping: float = field(0.5, check=_unit_interval)
    anderson: int = field(5, check=at_least(0))


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """[sweep]: the α grid (α = P / N_max): ``alphas`` or ``alpha_min``, ``alpha_max``, ``n_alphas`` (log-spaced)."""

    alphas: tuple[float, ...] = field((), check=_alpha_list)
    alpha_min: float = field(0.1, check=check_alphas)
    alpha_max: float = field(10.0, check=check_alphas)
    n_alphas: int = field(20, check=at_least(1))

    def grid(self) -> np.ndarray:
        if self.alphas:
            return np.asarray(self.alphas, dtype=np.float64)
        if self.alpha_max < self.alpha_min:
            raise InputError("sweep.alpha_max", self.alpha_max, f"must be >= alpha_min = {self.alpha_min}")
        return np.geomspace(self.alpha_min, self.alpha_max, self.n_alphas)


@dataclasses.dataclass(frozen=True)
class PathsSpec(Spec):
    """A ``paths`` config file."""

    seed: int = 0
    data: DataConfig = dataclasses.field(default_factory=lambda: DataConfig(hmm=HMMConfig()))
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    solver: SolverConfig = dataclasses.field(default_factory=SolverConfig)
    sweep: SweepConfig = dataclasses.field(default_factory=SweepConfig)
    compute: ComputeConfig = dataclasses.field(default_factory=ComputeConfig)  # [compute]: where grids run
    validate: ValidateConfig = dataclasses.field(default_factory=ValidateConfig)  # [validate]: `paths validate`

    def memory_terms(self) -> list:
        """(parameter, value, bytes) of the bundled task's data and path kernels (an NPZ's arrays are
        bounded from their headers when read)."""
        from ..config import nbytes

        v = self.validate
        n_grid = len(self.sweep.alphas) or self.sweep.n_alphas
        out_grid = [("sweep.n_alphas", n_grid, nbytes(n_grid, 4096))]  # a record and a file per point
        w = max(v.widths) if v.widths else 0
        out = out_grid + [("validate.widths", w, nbytes(w, w, v.num_chains) * 4
                                                     + nbytes(v.num_chains, v.num_samples, w) * 2)]
        h = self.data.hmm
        if h is None:
            return out
        heads = [len(layer) for layer in h.layer_heads]
        h_tot = math.prod(heads)
        P, S, N0 = h.n_train + h.n_test, h.tokens, h.n_features
        return out + [("data.hmm.n_train", h.n_train, nbytes(h.n_train, h.n_train, h_tot, h_tot) * 3),
                ("data.hmm.n_features", h.n_features, nbytes(P, S, N0) * 2 + nbytes(P, N0, h_tot) * 2),
                ("data.hmm.tokens", h.tokens, nbytes(P, len(heads), max(heads), S, S) * 2),
                ("data.hmm.n_test", h.n_test, nbytes(h.n_test, h.n_train, h_tot, h_tot))]


def model_from_config(cfg: ModelConfig, heads_from_data: tuple[int, ...]) -> PathsModel:
    """The :class:`PathsModel` of a [model] table; head counts are checked against the data."""
    heads = tuple(cfg.heads) or heads_from_data
    if tuple(heads) != tuple(heads_from_data):
        raise InputError("model.heads", list(heads), f"must match the head counts of the attention data {list(heads_from_data)}")
    L = len(heads)
    s2 = tuple(cfg.sigma2_layers) or (1.0,) * L
    widths = tuple(cfg.widths) or (100.0,) * L
    if len(s2) != L:
        raise InputError("model.sigma2_layers", list(s2), f"must have one entry per layer (L = {L})")
    if len(widths) != L:
        raise InputError("model.widths", list(widths), f"must have one entry per layer (L = {L})")
    if not all(math.isfinite(w) for w in widths):
        raise InputError("model.widths", list(widths), "must be finite")
    return PathsModel(heads=heads, readout=cfg.readout, sigma2_input=cfg.sigma2_input, sigma2_layers=s2,
                      sigma2_readout=cfg.sigma2_readout, widths=widths, width_readout=cfg.width_readout,
                      temperature=cfg.temperature)
