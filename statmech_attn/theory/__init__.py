"""Bring your own theory: state a free energy, get its equations, a certified solver and sweeps.

Write the free energy of a model as a SymPy expression of its order parameters and control
parameters (:class:`Theory`); numeric building blocks stand where no closed form exists.  The
package derives the stationarity conditions (and fixed-point forms) symbolically, compiles them to
JAX and solves them by Newton's method with a certificate (residual, Jacobian and Hessian spectra),
sweeps a control parameter with continuation and flags where stability changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy

if TYPE_CHECKING:  # the re-exports, for type checkers and the API reference (griffe)
    from ._blocks import gaussian_expectation as gaussian_expectation
    from ._blocks import log_det as log_det
    from ._blocks import moreau_envelope as moreau_envelope
    from ._blocks import proximal as proximal
    from ._blocks import spectral_mean as spectral_mean
    from ._blocks import spectral_sum as spectral_sum
    from ._blocks import GaussianExpectation as GaussianExpectation
    from ._blocks import MoreauEnvelope as MoreauEnvelope
    from ._blocks import Proximal as Proximal
    from ._blocks import SpectralMean as SpectralMean
    from ._blocks import SpectralSum as SpectralSum
    from ._derive import Derivation as Derivation
    from .spec import ControlParameter as ControlParameter
    from .spec import Observable as Observable
    from .spec import OrderParameter as OrderParameter
    from .spec import Theory as Theory
    from .solve import continuation as continuation
    from .solve import derive as derive
    from .solve import signature as signature
    from .solve import solve as solve
    from .solve import stability_changes as stability_changes
    from .solve import sweep as sweep

__all__ = [
    "gaussian_expectation", "log_det", "moreau_envelope", "proximal", "spectral_mean", "spectral_sum",
    "GaussianExpectation", "MoreauEnvelope", "Proximal", "SpectralMean", "SpectralSum", "Derivation",
    "ControlParameter", "Observable", "OrderParameter", "Theory", "continuation", "derive", "signature", "solve",
    "stability_changes", "sweep",
]

#: public name -> the submodule defining it (or (submodule, its name there)); loaded on first use
_LAZY: dict[str, str | tuple[str, str]] = {
    "gaussian_expectation": "._blocks", "log_det": "._blocks", "moreau_envelope": "._blocks",
    "proximal": "._blocks", "spectral_mean": "._blocks", "spectral_sum": "._blocks",
    "GaussianExpectation": "._blocks", "MoreauEnvelope": "._blocks", "Proximal": "._blocks",
    "SpectralMean": "._blocks", "SpectralSum": "._blocks", "Derivation": "._derive", "ControlParameter": ".spec",
    "Observable": ".spec", "OrderParameter": ".spec", "Theory": ".spec", "continuation": ".solve",
    "derive": ".solve", "signature": ".solve", "solve": ".solve", "stability_changes": ".solve", "sweep": ".solve",
}


# The public names are imported on first use: ``import statmech_attn.theory`` loads no JAX.
__getattr__, __dir__ = _lazy.attach(__name__, _LAZY)


# ``statmech_attn.theory.solve`` is the function even once the submodule ``.solve`` is imported
_lazy.guard_submodule_names(__name__, ("solve",))
