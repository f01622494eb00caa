"""OversmoothingSpec schema of ``statmech-attn oversmoothing`` (the ``[oversmoothing]`` table; keys in docs/theories/oversmoothing.md)."""

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
    """``[oversmoothing]``: the stack X_{ℓ+1} = X_ℓ + A X_ℓ H (docs/theories/oversmoothing.md)."""

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
        for g in self.ln_gain:
            if not np.isfinite(g):
                raise InputError("ln_gain", list(self.ln_gain), "every entry must be finite")
        self._check_degenerate()

    def _check_degenerate(self) -> None:
        """Refuse inputs whose metrics are 0/0 or overflow: zero tokens (cosines, HFC/LFC), a zero token
        mean (LFC = 0: HFC/LFC infinite from layer 0), and an effective value projection so large that
        one layer leaves float64's range (e.g. ln_scale = 1e-300)."""
        from ._depth import StackSpec

        if self.pre_ln == "linear":
            with np.errstate(over="ignore", invalid="ignore"):
                h = StackSpec(self.attention, self.value_projection, 0, self.pre_ln, self.ln_gain,
                              self.ln_scale).effective_h()
                norm = float(np.linalg.norm(h)) if np.all(np.isfinite(h)) else float("inf")
            param, value = ("ln_scale", self.ln_scale) if self.ln_scale < 1 else ("ln_gain", list(self.ln_gain))
        else:
            norm, param, value = float(np.linalg.norm(self.value_projection)), "value_projection", "matrix"
        if not norm <= 1e100:
            raise InputError(param, value, f"gives an effective value projection of norm {norm:.3g} (P diag(γ) H / σ); above 1e100 one "
                             "layer X + A X H leaves the range of float64")
        x = self.tokens
        if x is None:
            return
        norms = np.linalg.norm(x, axis=1)
        scale = max(float(np.max(np.abs(x))), np.finfo(float).tiny)
        zero = np.flatnonzero(norms <= 1e-12 * scale) if np.any(norms > 0) else np.arange(x.shape[0])
        if zero.size:
            raise InputError("tokens", f"row {int(zero[0])} = {x[zero[0]].tolist()}"[:60],
                             "every token must be non-zero (the cosine between tokens and HFC/LFC are 0/0 otherwise)")
        if np.linalg.norm(x.mean(axis=0)) <= 1e-12 * float(np.linalg.norm(x)):
            raise InputError("tokens", "token mean 0", "the tokens' mean must be non-zero (LFC = 0 makes HFC/LFC "
                             "infinite at layer 0); shift the tokens or omit them for random ones")

    def memory_terms(self) -> list:
        """(parameter, value, bytes): per-layer metrics and the spectra."""
        n, d = self.attention.shape[0], self.value_projection.shape[0]
        return [("depth", self.depth, c.nbytes(self.depth + 1, n * d, 4, itemsize=16) + c.nbytes(self.depth + 1, 16)),
                ("attention", f"shape ({n}, {n})", c.nbytes(n, n) * 6 + c.nbytes(n, d) * 12 + c.nbytes(n * d, 2, itemsize=16)),
                ("value_projection", f"shape ({d}, {d})", c.nbytes(d, d) * 6)]


@dataclasses.dataclass(frozen=True)
class OversmoothingSpec(c.Spec):
    """Top-level config of ``statmech-attn oversmoothing analyse``."""

    seed: int = 0
    oversmoothing: OversmoothingConfig = c.field(default_factory=OversmoothingConfig)

    def memory_terms(self) -> list:
        return [(f"oversmoothing.{p}", v, b) for p, v, b in self.oversmoothing.memory_terms()]


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

    def memory_terms(self) -> list:
        """(parameter, value, bytes) of the demo's task (n = 8 tokens, d = 6) and its traced loops."""
        t, n, d = self.train, 8, 6
        return [("train.sequences", t.sequences, c.nbytes(t.sequences, n, n + d) * (t.depth + t.probe_depth + 4) * 3),
                ("train.steps", t.steps, c.nbytes(t.steps, 8)),
                ("train.depth", t.depth, c.nbytes(t.depth, t.sequences, n, d) * 4)]
