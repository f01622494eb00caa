"""Bring your own theory: state a free energy, get its equations, a certified solver and sweeps.

Write the free energy of a model as a SymPy expression of its order parameters and control
parameters (:class:`Theory`); numeric building blocks stand where no closed form exists.  The
package derives the stationarity conditions (and fixed-point forms) symbolically, compiles them to
JAX and solves them by Newton's method with a certificate (residual, Jacobian and Hessian spectra),
sweeps a control parameter with continuation and flags where stability changes.
"""

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
