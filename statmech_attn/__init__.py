"""statmech_attn: the statistical-mechanics theory of attention networks, in numbers.

Importing the package switches JAX to float64 (``jax_enable_x64``): every solver works in double
precision.  The public surface is re-exported here; the theories live in sub-packages
(``statmech_attn.paths``, ``statmech_attn.potts``, ``statmech_attn.energy``,
``statmech_attn.oversmoothing``, ``statmech_attn.factors``).

``statmech_attn.run("paths solve", "config.toml", set={...})`` is the Python twin of the command line
(it returns the record that ``--json`` prints); ``statmech_attn.load_run(DIR)`` reads a run folder back.
"""

import os as _os
import sys as _sys

# float64 everywhere, without importing JAX here (``statmech-attn version`` and ``--help`` stay fast):
# JAX reads JAX_ENABLE_X64 when it is first imported; if it already was, switch its config directly.
if "jax" in _sys.modules:
    _sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    _os.environ["JAX_ENABLE_X64"] = "1"

from ._version import __version__ as __version__
from .errors import InputError as InputError

_LAZY = {"Result": "._solution", "Solution": "._solution", "SolverError": "._solution",
         "run": ".cli._run", "load_run": ".cli._run"}


def __getattr__(name: str):
    """``Solution``, ``SolverError``, ``Result`` (import JAX) and ``run``, ``load_run`` (the command
    line's Python twin) are loaded on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'statmech_attn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
