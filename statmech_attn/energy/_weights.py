"""The projections of a self-attention stack and the token matrix, checked (NumPy only).

:mod:`.spec` validates a config with these, so a config error never imports JAX; :mod:`._stack`
(the stack itself, in JAX) re-exports them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._args import real_array, real_scalar
from ..errors import InputError

__all__ = ["Weights", "check_tokens", "identity_weights", "random_weights"]


def check_tokens(x: np.ndarray, param: str = "tokens") -> np.ndarray:
    """X as a finite float64 (n, d) matrix with n >= 1, d >= 1, or ``InputError``."""
    x = np.asarray(real_array(param, x))
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise InputError(param, f"shape {x.shape}", "must be an n×d matrix of token rows")
    if not np.all(np.isfinite(x)):
        raise InputError(param, "NaN/inf", "every entry must be finite")
    return x


@dataclasses.dataclass(frozen=True)
class Weights:
    """Per-layer projections: ``w_query``, ``w_key`` (L, d, d_k) and ``w_value`` (L, d, d)."""

    w_query: np.ndarray
    w_key: np.ndarray
    w_value: np.ndarray

    def __post_init__(self) -> None:
        q, k, v = (np.asarray(real_array(n, a)) for n, a in
                   (("w_query", self.w_query), ("w_key", self.w_key), ("w_value", self.w_value)))
        for name, a in (("w_query", q), ("w_key", k), ("w_value", v)):
            if a.ndim != 3:
                raise InputError(name, f"shape {a.shape}", "must have shape (layers, d, d_k) / (layers, d, d)")
            if not np.all(np.isfinite(a)):
                raise InputError(name, "NaN/inf", "every entry must be finite")
        if q.shape != k.shape:
            raise InputError("w_key", f"shape {k.shape}", f"must have the shape of w_query {q.shape}")
        L, d, _ = q.shape
        if v.shape != (L, d, d):
            raise InputError("w_value", f"shape {v.shape}", f"must have shape (layers, d, d) = ({L}, {d}, {d})")
        object.__setattr__(self, "w_query", q)
        object.__setattr__(self, "w_key", k)
        object.__setattr__(self, "w_value", v)

    @property
    def layers(self) -> int:
        """Number of layers L."""
        return self.w_query.shape[0]

    @property
    def dim(self) -> int:
        """Token dimension d."""
        return self.w_query.shape[1]


def _check_sizes(**sizes: int) -> None:
    """Sizes are integers >= 1 whose weight arrays fit the memory limit."""
    from ..config import check_memory, nbytes

    for name, v in sizes.items():
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InputError(name, v, "must be an integer >= 1")
    d = sizes["d"]
    check_memory([("layers", sizes["layers"], nbytes(sizes["layers"], d, sizes.get("key_dim", d)) * 3)])


def identity_weights(layers: int, d: int) -> Weights:
    """q = k = v = x in every layer: the pure log-sum-exp ascent step."""
    _check_sizes(layers=layers, d=d)
    eye = np.broadcast_to(np.eye(d), (layers, d, d)).copy()
    return Weights(eye, eye.copy(), eye.copy())


def random_weights(layers: int, d: int, seed: int, *, key_dim: int | None = None, scale: float = 1.0) -> Weights:
    """Gaussian projections with entries N(0, scale²/d), seeded."""
    _check_sizes(layers=layers, d=d, **({} if key_dim is None else {"key_dim": key_dim}))
    real_scalar("scale", scale, low=0.0, strict=True)
    dk = d if key_dim is None else key_dim
    rng = np.random.default_rng(seed)
    s = scale / np.sqrt(d)
    return Weights(s * rng.standard_normal((layers, d, dk)), s * rng.standard_normal((layers, d, dk)),
                   s * rng.standard_normal((layers, d, d)))
