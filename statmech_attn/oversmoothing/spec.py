"""OversmoothingSpec schema of ``statmech-attn oversmoothing`` (the ``[oversmoothing]`` table of DESIGN.md)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from .. import config as c
from ..errors import InputError
from ._spectrum import check_attention, check_value_projection


def _row_stochastic(a: np.ndarray) -> np.ndarray:
    try:
        return check_attention(a, param="")
    except InputError as e:
        raise InputError("", e.value, e.allowed) from None


def _square(h: np.ndarray) -> np.ndarray:
    try:
        return check_value_projection(h, param="")
    except InputError as e:
        raise InputError("", e.value, e.allowed) from None


@dataclasses.dataclass(frozen=True)
class OversmoothingConfig:
    """``[oversmoothing]``: the stack X_{ℓ+1} = X_ℓ + A X_ℓ H (theory/others.md §2)."""

    attention: np.ndarray = c.field(default_factory=lambda: np.array([[0.5, 0.5], [0.5, 0.5]]),
                                    check=_row_stochastic, doc="A (n×n), row-stochastic")
    value_projection: np.ndarray = c.field(default_factory=lambda: np.eye(2), check=_square,
                                           doc="H = W_V W_O (d×d)")
    depth: int = c.field(10, check=c.at_least(0), doc="L, number of layers")
    tokens: np.ndarray | None = c.field(None, check=c.finite_matrix,
                                        doc="X_0 (n×d); omitted: standard normal from the seed")
    pre_ln: Literal["none", "linear"] = c.field("none", doc="linearised pre-LN: H -> P_d diag(γ) H / σ")
    ln_gain: tuple[float, ...] = c.field((1.0,), doc="γ: one value or d values")
    ln_scale: float = c.field(1.0, check=c.positive, doc="σ, frozen LN standard deviation")
    tol: float = c.field(1e-9, check=c.positive, doc="relative tolerance for ties and λ^A = 1")

    def __post_init__(self) -> None:
        n, d = self.attention.shape[0], self.value_projection.shape[0]
        if self.tokens is not None and self.tokens.shape != (n, d):
            raise InputError("tokens", f"shape {self.tokens.shape}", f"must have shape (n, d) = ({n}, {d})")
        if len(self.ln_gain) not in (1, d):
            raise InputError("ln_gain", list(self.ln_gain), f"must have 1 or d = {d} entries")


@dataclasses.dataclass(frozen=True)
class OversmoothingSpec(c.Spec):
    """Top-level config of ``statmech-attn oversmoothing analyse``."""

    seed: int = 0
    oversmoothing: OversmoothingConfig = c.field(default_factory=OversmoothingConfig)


@dataclasses.dataclass(frozen=True)
class TrainTable:
    """``[train]``: the reparameterisation demo (``statmech_attn.validation.oversmoothing.train``)."""

    modes: tuple[str, ...] = c.field(("free", "smooth", "sharpen"), doc="any of free, smooth, sharpen")
    depth: int = c.field(6, check=c.at_least(1), doc="layers of the trained stack")
    steps: int = c.field(300, check=c.at_least(1), doc="Adam steps")
    learning_rate: float = c.field(1e-2, check=c.positive)
    probe_depth: int = c.field(40, check=c.at_least(1), doc="depth of the simulated probe of HFC/LFC")
    sequences: int = c.field(32, check=c.at_least(1), doc="training sequences")

    def __post_init__(self) -> None:
        bad = [m for m in self.modes if m not in ("free", "smooth", "sharpen")]
        if bad or not self.modes:
            raise InputError("modes", list(self.modes), "must be a non-empty list of 'free', 'smooth', 'sharpen'")


@dataclasses.dataclass(frozen=True)
class OversmoothingTrainSpec(c.Spec):
    """Top-level config of ``statmech-attn oversmoothing train``."""

    seed: int = 0
    train: TrainTable = c.field(default_factory=TrainTable)
