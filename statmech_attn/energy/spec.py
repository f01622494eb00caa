"""EnergySpec schema of ``statmech-attn energy`` (the ``[energy]`` table; keys in docs/theories/energy.md)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from .. import config as c
from ..errors import InputError
from ._weights import Weights, check_tokens, identity_weights, random_weights


def _tokens(x: np.ndarray) -> np.ndarray:
    try:
        return check_tokens(x, "")
    except InputError as e:
        raise InputError("", e.value, e.allowed) from None


@dataclasses.dataclass(frozen=True)
class EnergyConfig:
    """``[energy]``: a stack of self-attention layers acting on tokens X (docs/theories/energy.md)."""

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
        self._check_degenerate()

    def _check_degenerate(self) -> None:
        """Refuse inputs whose diagnostics are 0/0: a zero token (expansion |x'|/|x|), and under layer
        norm a token with zero variance across its d entries (LN divides by its standard deviation)."""
        big = float(np.max(np.abs(self.tokens)))
        if big > 1e100:
            raise InputError("tokens", f"max |entry| {big:.3g}", "entries must stay below 1e100 in magnitude "
                             "(squared norms and logits would leave the range of float64)")
        x = self.tokens - self.tokens.mean(axis=0, keepdims=True) if self.center_tokens else self.tokens
        norms = np.linalg.norm(x, axis=1)
        if self.beta * float(np.max(norms)) ** 2 * self.weight_scale ** 2 > 1e200:
            raise InputError("beta", self.beta, f"β |x|² = {self.beta * float(np.max(norms)) ** 2:.3g} for these "
                             "tokens: the attention logits would leave the range of float64; lower beta")
        scale = max(float(np.max(np.abs(self.tokens))), np.finfo(float).tiny)
        zero = np.flatnonzero(norms <= 1e-12 * scale) if np.any(norms > 0) else np.arange(x.shape[0])
        if zero.size:
            what = "after centring (center_tokens = true) " if self.center_tokens else ""
            raise InputError("tokens", f"row {int(zero[0])} = {x[zero[0]].tolist()}"[:60],
                             f"every token must be non-zero {what}(the expansion factor |x'|/|x| of a zero token is 0/0)")
        if self.layer_norm:
            sd = np.std(x, axis=1)
            flat = np.flatnonzero(sd <= 1e-12 * np.max(np.abs(x), axis=1))
            if flat.size:
                raise InputError("tokens", f"row {int(flat[0])} = {x[flat[0]].tolist()}"[:60],
                                 "with layer_norm = true every token needs entries that are not all equal "
                                 "(layer norm divides by the token's standard deviation, here 0)")

    def memory_terms(self) -> list:
        """(parameter, value, bytes) of the arrays the stack allocates."""
        n, d = self.tokens.shape
        dk = self.key_dim or d
        L = self.layers
        return [("layers", L, c.nbytes(L + 1, n, d) * 3 + c.nbytes(L, n) * 10 + c.nbytes(L, d, dk) * 6),
                ("tokens", f"shape ({n}, {d})", c.nbytes(n, n) * 4 + c.nbytes(n, d) * 8)]

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

    def memory_terms(self) -> list:
        return [(f"energy.{p}", v, b) for p, v, b in self.energy.memory_terms()]
