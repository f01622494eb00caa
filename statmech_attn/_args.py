"""Argument checks of the public Python API, by the same rules as the config specs.

Booleans are not numbers, complex numbers and text are refused, every number is finite; a failure is
an :class:`~statmech_attn.errors.InputError` naming the argument.  Values traced by JAX (inside
``jit``/``vmap``/``grad``) cannot be inspected: only their shapes and dtypes are checked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["traced", "real_scalar", "real_array", "index"]


def traced(x: Any) -> bool:
    """True for a JAX tracer (a value under transformation: check shapes only)."""
    import sys

    core = sys.modules.get("jax.core")
    tracer = getattr(core, "Tracer", None) if core is not None else None
    return tracer is not None and isinstance(x, tracer)


def real_scalar(name: str, v: Any, *, low: float | None = None, strict: bool = False) -> Any:
    """A finite real number (``>= low``, or ``> low`` with ``strict``); a tracer is passed through."""
    if traced(v):
        if getattr(v, "shape", ()) != ():
            raise InputError(name, f"shape {v.shape}", "must be a scalar")
        if getattr(v, "dtype", None) is not None and np.dtype(v.dtype).kind not in "iuf":
            raise InputError(name, f"{v.dtype} value", "must be a real number")
        return v
    if isinstance(v, (bool, np.bool_)):
        raise InputError(name, v, "must be a real number, not true/false")
    if isinstance(v, (complex, np.complexfloating)):
        raise InputError(name, v, "must be a real number (complex refused)")
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        arr = np.asarray(v)
        if arr.shape != ():
            raise InputError(name, f"array of shape {arr.shape}", "must be a scalar")
        if arr.dtype.kind not in "iuf":
            raise InputError(name, f"{arr.dtype} value", "must be a real number")
        v = arr.item()
    if not isinstance(v, (int, float, np.integer, np.floating)):
        raise InputError(name, v, "must be a real number")
    x = float(v)
    if not math.isfinite(x):
        raise InputError(name, v, "must be finite")
    if low is not None and (x <= low if strict else x < low):
        raise InputError(name, v, f"must be {'>' if strict else '>='} {low:g}")
    return v


def real_array(name: str, v: Any, *, ndim: int | tuple[int, ...] | None = None) -> Any:
    """A real array with finite entries (float64 numpy unless traced), of ``ndim`` dimensions."""
    from .config import numeric_array

    if traced(v):
        arr = v
        if np.dtype(v.dtype).kind not in "iuf":
            raise InputError(name, f"{v.dtype} array", "must hold real numbers")
    else:
        if isinstance(v, (str, bytes)):
            raise InputError(name, v, "must be a real array (nested lists or an ndarray of numbers)")
        arr = numeric_array(np.asarray(v) if hasattr(v, "__array__") else v, name)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if dims is not None and arr.ndim not in dims:
        raise InputError(name, f"shape {tuple(arr.shape)}", f"must have {' or '.join(map(str, dims))} dimension(s)")
    return arr


def index(name: str, v: Any, n: int) -> int:
    """An integer in ``[0, n)`` (booleans refused)."""
    if traced(v):
        return v
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise InputError(name, v, f"must be an integer in [0, {n})")
    if not 0 <= int(v) < n:
        raise InputError(name, v, f"must be an integer in [0, {n})")
    return int(v)
