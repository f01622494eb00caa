"""statmech_attn: the statistical-mechanics theory of attention networks, in numbers.

Importing the package switches JAX to float64 (``jax_enable_x64``): every solver works in double
precision.  The public surface is re-exported here; the theories live in sub-packages
(``statmech_attn.paths``, ``statmech_attn.potts``, ``statmech_attn.energy``,
``statmech_attn.oversmoothing``, ``statmech_attn.factors``).

``statmech_attn.run("paths solve", "config.toml", set={...})`` is the Python twin of the command line
(it returns the record that ``--json`` prints); ``statmech_attn.load_run(DIR)`` reads a run folder back.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._version import __version__ as __version__
from ._solution import Result as Result
from ._solution import Solution as Solution
from ._solution import SolverError as SolverError
from .errors import InputError as InputError


def __getattr__(name: str):  # lazy: the command-line layer is imported only when these are used
    if name in ("run", "load_run"):
        from .cli import _run

        return getattr(_run, name)
    raise AttributeError(f"module 'statmech_attn' has no attribute {name!r}")
