"""User-facing errors.

:class:`InputError` is raised for every mistake in a user's input (a config value out of range, a
wrong array shape, NaN in data, an unreadable file).  It names the parameter, the value and what is
allowed, in one line; the CLI prints that line and exits with code 2.
"""

from __future__ import annotations

from typing import Any


def _short(value: Any) -> str:
    """The value in at most 80 characters on one line (an array as its shape and dtype, never numpy's
    multi-line repr)."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None and not isinstance(value, (int, float, complex, bool, str)):
        text = f"array of shape {tuple(shape)} ({dtype})" if len(shape) else repr(value.item() if hasattr(value, "item") else value)
    else:
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a value whose repr fails is still named
            text = f"<{type(value).__name__}>"
    text = one_line(text)
    return text if len(text) <= 80 else text[:32] + "..." + text[-45:]  # both ends: a path's tail names the file


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(str(text).split())


class InputError(ValueError):
    """A user's input is invalid.

    Attributes:
        param: dotted name of the parameter (``model.sigma2_layers``, ``data.x``, ``config``).
        value: the offending value (shortened in the message).
        allowed: what is allowed, in words (``"> 0"``, ``"shape (P, S, N0)"``).
    """

    def __init__(self, param: str, value: Any, allowed: str):
        self.param = param
        self.value = value
        self.allowed = allowed
        super().__init__(f"{param} = {_short(value)}: {allowed}")

    def prefixed(self, prefix: str) -> "InputError":
        """The same error with ``prefix.`` put before the parameter name."""
        name = f"{prefix}.{self.param}" if prefix and self.param else (prefix or self.param)
        return InputError(name, self.value, self.allowed)
