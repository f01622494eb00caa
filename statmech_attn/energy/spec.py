"""EnergySpec schema of ``statmech-attn energy`` (the ``[energy]`` table of DESIGN.md)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from .. import config as c
from ..errors import InputError
from ._stack import Weights, check_tokens, identity_weights, random_weights


def _tokens(x: np.ndarray) -> np.ndarray:
    try:
        return check_tokens(x, "")
    except InputError as e:
        raise InputError("", e.value, e.allowed) from None


@dataclasses.dataclass(frozen=True)
class EnergyConfig:
    """``[energy]``: a stack of self-attention layers acting on tokens X (theory/others.md §1)."""

    tokens: np.ndarray = c.field(default_factory=lambda: np.array([[1.0, 0.0], [-1.0, 0.0]]), check=_tokens,
                                 doc="X (n×d), rows are tokens")
    beta: float = c.field(1.0, check=c.positive, doc="β, inverse temperature of the softmax")
    eta: float = c.field(1.0, check=c.nonnegative, doc="η, step size of the residual update")
    layers: int = c.field(1, check=c.at_least(1), doc="number of layers L")
    layer_norm: bool = c.field(False, doc="apply LN (γ = 1, b = 0) after each attention update")
    weights: Literal["identity", "random", "given"] = c.field(
        "identity", doc="q = k = v = x | Gaussian W_Q, W_K, W_V from the seed | w_query/w_key/w_value")
    w_query: np.ndarray | None = c.field(None, doc="W_Q per layer (L, d, d_k); weights = 'given'")
    w_key: np.ndarray | None = c.field(None, doc="W_K per layer (L, d, d_k)")
    w_value: np.ndarray | None = c.field(None, doc="W_V per layer (L, d, d)")
    key_dim: int | None = c.field(None, check=c.at_least(1), doc="d_k of random weights (default d)")
    weight_scale: float = c.field(1.0, check=c.positive, doc="random weights have entries N(0, scale²/d)")
    center_tokens: bool = c.field(False, doc="subtract the token mean from X before the first layer")
    tol: float = c.field(1e-8, check=c.positive, doc="tolerance of the gradient-field check")

    def __post_init__(self) -> None:
        given = [k for k in ("w_query", "w_key", "w_value") if getattr(self, k) is not None]
        if self.weights == "given":
            missing = [k for k in ("w_query", "w_key", "w_value") if getattr(self, k) is None]
            if missing:
                raise InputError(missing[0], None, "is required when weights = 'given'")
            w = Weights(self.w_query, self.w_key, self.w_value)
            if w.layers != self.layers:
                raise InputError("layers", self.layers, f"must equal the number of given weight layers ({w.layers})")
            if w.dim != self.tokens.shape[1]:
                raise InputError("w_query", f"shape {w.w_query.shape}", f"must have d = {self.tokens.shape[1]} (tokens' d)")
        elif given:
            raise InputError(given[0], "array", f"is only used with weights = 'given' (weights = {self.weights!r})")

    def stack_weights(self, seed: int) -> Weights:
        """The per-layer projections this config describes."""
        d = self.tokens.shape[1]
        if self.weights == "identity":
            return identity_weights(self.layers, d)
        if self.weights == "random":
            return random_weights(self.layers, d, seed, key_dim=self.key_dim, scale=self.weight_scale)
        return Weights(self.w_query, self.w_key, self.w_value)


@dataclasses.dataclass(frozen=True)
class EnergySpec(c.Spec):
    """Top-level config of ``statmech-attn energy analyse``."""

    seed: int = 0
    energy: EnergyConfig = c.field(default_factory=EnergyConfig)
