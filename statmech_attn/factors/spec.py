"""FactorsSpec schema of ``statmech-attn factors`` (the ``[factors]`` table; keys in docs/theories/factors.md)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from .. import config as c
from ..errors import InputError
from ._states import NetworkSpec


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """``[factors.network]``: the random attention stack whose hidden states are used when no
    ``states`` are given (see :class:`~statmech_attn.factors.NetworkSpec`)."""

    layers: int = c.field(6, check=c.at_least(1))
    tokens: int = c.field(256, check=c.at_least(1))
    dim: int = c.field(16, check=c.at_least(1))
    vocab: int = c.field(40, check=c.at_least(1))
    zipf: float = c.field(1.1, check=c.positive)
    beta: float = c.field(1.0, check=c.positive)
    eta: float = c.field(0.5, check=c.nonnegative)
    layer_norm: bool = True
    key_dim: int | None = c.field(None, check=c.at_least(1))
    weight_scale: float = c.field(1.0, check=c.positive)
    position_scale: float = c.field(0.3, check=c.nonnegative)

    def spec(self) -> NetworkSpec:
        """As a :class:`NetworkSpec`."""
        return NetworkSpec(**dataclasses.asdict(self))


def _token_ids(ids: np.ndarray) -> np.ndarray:
    """Token ids: integers in [0, 2**63) (booleans, fractions, negatives and complex refused)."""
    ids = c.numeric_array(ids, "", integer=True)
    if ids.size and int(ids.min()) < 0:
        raise InputError("", f"min {int(ids.min())}", "every token id must be an integer >= 0")
    return ids


def _states(x: np.ndarray) -> np.ndarray:
    if x.ndim != 3 or 0 in x.shape:
        raise InputError("", f"shape {x.shape}", "must have shape (layers, tokens, d)")
    return x


@dataclasses.dataclass(frozen=True)
class FactorsConfig:
    """``[factors]``: dictionary learning of hidden states (docs/theories/factors.md)."""

    states: np.ndarray | None = c.field(None, check=_states, doc="hidden states (layers, tokens, d); states_npz")
    token_ids: np.ndarray | None = c.field(None, check=_token_ids, doc="token ids (tokens,) for frequency weighting; token_ids_npz")
    n_factors: int = c.field(64, check=c.at_least(1), doc="K, dictionary columns")
    sparsity: float = c.field(0.3, check=c.nonnegative, doc="λ of ½|x − Φα|² + λ|α|₁")
    scale: Literal["global", "none"] = c.field("global", doc="global: divide states by their mean row norm")
    frequency_weighting: bool = c.field(True, doc="weight tokens by 1/√count(id) (needs token ids)")
    top_k: int = c.field(10, check=c.at_least(1), doc="k of the importance score")
    n_epochs: int = c.field(20, check=c.at_least(1))
    batch_size: int = c.field(256, check=c.at_least(1))
    learning_rate: float = c.field(0.5, check=c.positive)
    fista_steps: int = c.field(500, check=c.at_least(1))
    fista_tol: float = c.field(1e-6, check=c.positive)
    network: NetworkConfig = c.field(default_factory=NetworkConfig)

    def __post_init__(self) -> None:
        if self.token_ids is not None:
            ids = self.token_ids
            n_tok = self.states.shape[1] if self.states is not None else self.network.tokens
            if ids.ndim != 1 or ids.shape[0] != n_tok:
                raise InputError("token_ids", f"shape {ids.shape}", f"must have shape (tokens,) = ({n_tok},)")


@dataclasses.dataclass(frozen=True)
class FactorsSpec(c.Spec):
    """Top-level config of ``statmech-attn factors fit``."""

    seed: int = 0
    factors: FactorsConfig = c.field(default_factory=FactorsConfig)

    def memory_terms(self) -> list:
        """(parameter, value, bytes): hidden states, attention of the random stack, codes, dictionary."""
        f, n = self.factors, self.factors.network
        if f.states is not None:
            L, T, d = f.states.shape
            names = ("factors.states", f"shape {f.states.shape}")
            out = [(*names, c.nbytes(L, T, d) * 3)]
        else:
            L, T, d = n.layers, n.tokens, n.dim
            out = [("factors.network.layers", L, c.nbytes(L, T, d) * 4),
                   ("factors.network.tokens", T, c.nbytes(T, T) * 4),
                   ("factors.network.dim", d, c.nbytes(d, n.key_dim or d, L) * 6 + c.nbytes(n.vocab, d))]
        out.append(("factors.n_factors", f.n_factors, c.nbytes(L, T, f.n_factors) * 3 + c.nbytes(d, f.n_factors) * 4
                    + c.nbytes(f.n_factors, f.n_factors) * 2))
        out.append(("factors.batch_size", f.batch_size, c.nbytes(min(f.batch_size, L * T), f.n_factors) * 4))
        return out
