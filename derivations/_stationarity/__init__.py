"""Generic derivation helper: from a symbolic free energy to stationarity conditions, LaTeX and JAX.

Any theory whose saddle point is "∂F/∂q = 0 for every order parameter q" can reuse this package
(the attention-path derivation in :mod:`statmech_attn.derivations.paths` does, and the Potts
replica derivation in :mod:`statmech_attn.derivations.potts`).  It re-exports the pieces, one
module per job:

* :mod:`._operators` — matrix symbols and linear operators: :class:`SymmetricMatrixSymbol`
  (a ``MatrixSymbol`` with Xᵀ = X), :class:`LinearOperator` with its adjoint,
  :class:`PartialTrace`, :class:`KronIdentity`, :class:`PDSqrt`;
* :mod:`._components` — component form: symmetric matrices of entry symbols
  (:func:`symmetric_components`) with the opaque :class:`LogDet`, :class:`InverseEntry`,
  :class:`MatrixFunction` and their exact derivative rules;
* :mod:`._matcalc` — matrix calculus (:func:`differential`, :func:`matrix_gradient`,
  :func:`tidy`, :func:`component_gradient`, the simplifications);
* :mod:`._fixed_point` — :class:`OrderParameter`, :class:`Condition` and :func:`derive`: the
  stationarity conditions and their fixed-point forms;
* :mod:`._latex` — :func:`latex`, :func:`to_latex` (a standalone fragment of numbered equations);
* :mod:`._jax_printer` — :func:`jax_function`: lambdify to JAX with an explicit, checked mapping;
* :mod:`._cache` — :func:`cached`: results on disk keyed by the problem and the source text, as
  JSON with SymPy expressions in ``srepr`` text (:mod:`._serial`: no pickle, no ``eval``).

Order parameters come in three kinds: ``scalar`` (a SymPy ``Symbol``), ``matrix`` (a
:class:`SymmetricMatrixSymbol`, differentiated by matrix calculus) and ``components`` (an
explicit symmetric ``ImmutableMatrix`` of entry symbols, differentiated entry by entry).
Gradients with respect to a symmetric matrix are symmetrised, (D + Dᵀ)/2.

Example (a scalar toy free energy)::

    q = sp.Symbol("q", positive=True); a = sp.Symbol("a", positive=True)
    conds = derive(q**2 / 2 - a * sp.log(q), [OrderParameter(q, "overlap")])
    conds[0].fixed_point   # sqrt(a)
"""

from ._cache import CACHE_TYPES as CACHE_TYPES
from ._cache import HELPER_VERSION as HELPER_VERSION
from ._cache import Timer as Timer
from ._cache import cache_dir as cache_dir
from ._cache import cache_key as cache_key
from ._cache import cache_path as cache_path
from ._cache import cached as cached
from ._components import InverseEntry as InverseEntry
from ._components import LogDet as LogDet
from ._components import MatrixFunction as MatrixFunction
from ._components import _upper as _upper
from ._components import inverse_components as inverse_components
from ._components import inverse_symbols as inverse_symbols
from ._components import logdet_components as logdet_components
from ._components import symmetric_components as symmetric_components
from ._fixed_point import Condition as Condition
from ._fixed_point import OrderParameter as OrderParameter
from ._fixed_point import derive as derive
from ._jax_printer import JAX_FUNCTIONS_NAMES as JAX_FUNCTIONS_NAMES
from ._jax_printer import JaxCodePrinter as JaxCodePrinter
from ._jax_printer import _pd_inv as _pd_inv
from ._jax_printer import called_names as called_names
from ._jax_printer import check_jax_coverage as check_jax_coverage
from ._jax_printer import jax_function as jax_function
from ._jax_printer import jax_functions as jax_functions
from ._latex import latex as latex
from ._latex import to_latex as to_latex
from ._matcalc import component_gradient as component_gradient
from ._matcalc import differential as differential
from ._matcalc import matrix_gradient as matrix_gradient
from ._matcalc import simplify_matrix as simplify_matrix
from ._matcalc import simplify_scalar as simplify_scalar
from ._matcalc import tidy as tidy
from ._operators import KronIdentity as KronIdentity
from ._operators import LinearOperator as LinearOperator
from ._operators import PartialTrace as PartialTrace
from ._operators import PDSqrt as PDSqrt
from ._operators import SymmetricMatrixSymbol as SymmetricMatrixSymbol
from ._operators import UnsupportedExpression as UnsupportedExpression
from ._operators import _scalar_times_identity as _scalar_times_identity
