"""Data for the attention-path theory: tokens, fixed attention matrices, labels.

External format (NPZ): ``x`` (P, S, N₀) examples × tokens × features; ``attention``
(P, L, H, S, S) — ``attention[μ, ℓ, h]`` is layer ℓ+1, head h, rows = query tokens, columns = key
tokens, each row a probability vector — or, when layers have different head counts,
``attention_1`` … ``attention_L`` of shape (P, H_ℓ, S, S); ``y`` (P,); optionally ``x_test``,
``attention_test`` (or ``attention_test_1`` …), ``y_test``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping

import numpy as np

from ..config import load_npz_arrays
from ..errors import InputError


@dataclasses.dataclass(frozen=True, eq=False)
class PathsData:
    """Training (and optional test) data with the fixed attention matrices.

    Attributes:
        x: (P, S, N₀) tokens as rows.
        attention: tuple of L arrays (P, H_ℓ, S, S), rows = queries (transformer convention).
        y: (P,) labels.
        x_test, attention_test, y_test: the same for the test set, or None.
    """

    x: np.ndarray
    attention: tuple[np.ndarray, ...]
    y: np.ndarray
    x_test: np.ndarray | None = None
    attention_test: tuple[np.ndarray, ...] | None = None
    y_test: np.ndarray | None = None

    def __post_init__(self) -> None:
        _check_split("data", self.x, self.attention, self.y, "")
        if (self.x_test is None) != (self.attention_test is None):
            raise InputError("data.x_test", None if self.x_test is None else self.x_test.shape,
                             "x_test and attention_test must be given together")
        if self.x_test is not None:
            _check_split("data", self.x_test, self.attention_test, self.y_test, "_test")
            if self.x_test.shape[1:] != self.x.shape[1:]:
                raise InputError("data.x_test", self.x_test.shape, f"must have (S, N0) = {self.x.shape[1:]} like x")
            heads_tr = tuple(a.shape[1] for a in self.attention)
            heads_te = tuple(a.shape[1] for a in self.attention_test)
            if heads_tr != heads_te:
                raise InputError("data.attention_test", list(heads_te), f"head counts must match attention {list(heads_tr)}")

    @property
    def heads(self) -> tuple[int, ...]:
        """Head counts per layer read off the attention arrays."""
        return tuple(int(a.shape[1]) for a in self.attention)

    @property
    def n_train(self) -> int:
        return int(self.x.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The data in the NPZ format (``attention_1`` … per layer)."""
        out = {"x": self.x, "y": self.y}
        for l, a in enumerate(self.attention):
            out[f"attention_{l + 1}"] = a
        if self.x_test is not None:
            out["x_test"] = self.x_test
            for l, a in enumerate(self.attention_test or ()):
                out[f"attention_test_{l + 1}"] = a
            if self.y_test is not None:
                out["y_test"] = self.y_test
        return out


def _check_split(prefix: str, x: np.ndarray, attention: tuple, y: np.ndarray | None, sfx: str) -> None:
    if x.ndim != 3:
        raise InputError(f"{prefix}.x{sfx}", f"shape {x.shape}", "must have shape (P, S, N0): examples, tokens, features")
    p, s, _ = x.shape
    if p < 1:
        raise InputError(f"{prefix}.x{sfx}", f"shape {x.shape}", "must hold at least one example")
    if not np.all(np.isfinite(x)):
        raise InputError(f"{prefix}.x{sfx}", "NaN/inf", "every entry must be finite")
    if len(attention) < 1:
        raise InputError(f"{prefix}.attention{sfx}", "[]", "must hold at least one layer")
    for l, a in enumerate(attention):
        name = f"{prefix}.attention{sfx}_{l + 1}"
        if a.ndim != 4 or a.shape[0] != p or a.shape[2:] != (s, s):
            raise InputError(name, f"shape {a.shape}", f"must have shape (P, H, S, S) = ({p}, H, {s}, {s})")
        if a.shape[1] < 1:
            raise InputError(name, f"shape {a.shape}", "must have at least one head")
        if not np.all(np.isfinite(a)):
            raise InputError(name, "NaN/inf", "every entry must be finite")
        if np.any(a < -1e-12) or not np.allclose(a.sum(axis=-1), 1.0, atol=1e-8):
            raise InputError(name, "matrix", "every row (query) must be a probability vector over keys (>= 0, sums to 1)")
    if y is not None:
        if y.shape != (p,):
            raise InputError(f"{prefix}.y{sfx}", f"shape {y.shape}", f"must have shape (P,) = ({p},)")
        if not np.all(np.isfinite(y)):
            raise InputError(f"{prefix}.y{sfx}", "NaN/inf", "every entry must be finite")


def _attention_from(arrays: Mapping[str, np.ndarray], base: str, param: str) -> tuple[np.ndarray, ...] | None:
    if base in arrays:
        a = np.asarray(arrays[base], dtype=np.float64)
        if a.ndim != 5:
            raise InputError(f"{param}.{base}", f"shape {a.shape}", "must have shape (P, L, H, S, S)")
        return tuple(a[:, l] for l in range(a.shape[1]))
    layers = []
    l = 1
    while f"{base}_{l}" in arrays:
        layers.append(np.asarray(arrays[f"{base}_{l}"], dtype=np.float64))
        l += 1
    return tuple(layers) if layers else None


def data_from_arrays(arrays: Mapping[str, np.ndarray], param: str = "data.npz") -> PathsData:
    """Build :class:`PathsData` from NPZ-style arrays (see the module docstring)."""
    for key in ("x", "y"):
        if key not in arrays:
            raise InputError(param, sorted(arrays), f"must hold an array '{key}'")
    att = _attention_from(arrays, "attention", param)
    if att is None:
        raise InputError(param, sorted(arrays), "must hold 'attention' (P, L, H, S, S) or 'attention_1' ... 'attention_L'")
    x_test = arrays.get("x_test")
    att_test = _attention_from(arrays, "attention_test", param)
    y_test = arrays.get("y_test")
    f = lambda a: None if a is None else np.asarray(a, dtype=np.float64)  # noqa: E731
    return PathsData(x=f(arrays["x"]), attention=att, y=f(arrays["y"]), x_test=f(x_test), attention_test=att_test, y_test=f(y_test))


def load_data(path: str | Path, param: str = "data.npz") -> PathsData:
    """Read an NPZ file in the external format; every problem is an InputError naming ``param``."""
    return data_from_arrays(load_npz_arrays(path, param), param)
