"""The numeric bridge of the attention-path derivation: its expressions lambdified to JAX.

:func:`numeric` turns a :class:`~statmech_attn.derivations.paths.PathsDerivation` into JAX
callables over the same order-parameter structure as :mod:`statmech_attn.paths` (U a tuple, layer
1 first): the gradient of the action, the fixed-point map U ↦ F(U), the readout closed form
U_a(U_L) and Ω(U₁).  The path-kernel operators K, K* of the symbolic side are evaluated by
:data:`NUMERIC_OPERATORS`.  Re-exported by :mod:`statmech_attn.derivations.paths`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, Callable

import sympy as sp

from . import _stationarity as st

if TYPE_CHECKING:
    from .paths import PathsDerivation, Symbols


def _paths():
    """The symbolic module (imported when first needed: it imports this one)."""
    from . import paths

    return paths


def _path_kernel(u, xt):
    import jax.numpy as jnp

    return jnp.einsum("mip,pq,niq->mn", xt, u, xt)


def _path_kernel_adjoint(m, xt):
    import jax.numpy as jnp

    return jnp.einsum("mip,mn,niq->pq", xt, m, xt)


NUMERIC_OPERATORS = {"path_kernel": _path_kernel, "path_kernel_adjoint": _path_kernel_adjoint}


@dataclasses.dataclass(frozen=True)
class NumericPaths:
    """JAX callables of a derivation (U: tuple of arrays, layer 1 first, as in statmech_attn.paths).

    All take the hyper-parameters as the arrays of ``statmech_attn.paths.Hyper`` (σ² as given,
    converted to σ here) plus the problem's training arrays (``xt`` (P, N₀, H_tot), ``y`` (P,)).
    """

    derivation: PathsDerivation
    _gradient: tuple
    _fixed_point: tuple
    _readout: Callable
    _omega: Callable
    _inverse_target: tuple = ()

    @property
    def inverse_layers(self) -> tuple[bool, ...]:
        """Per layer: True when the fixed-point form is U_ℓ = M_ℓ(U)⁻¹ (then
        :meth:`fixed_point_targets` returns M_ℓ, the target of U_ℓ⁻¹)."""
        return tuple(f is not None for f in self._inverse_target)

    def fixed_point_targets(self, U, xt, y=None, hyper=None) -> tuple:
        """Like :meth:`fixed_point_map`, but for layers whose form is U_ℓ = M_ℓ(U)⁻¹ it returns
        M_ℓ(U) (the new U_ℓ⁻¹), which stays finite even where M_ℓ is not positive definite."""
        U, xt, y, hyper = _normalise(U, xt, y, hyper)
        args = self._args(U, xt, y, hyper)
        return tuple((m if m is not None else f)(*args) for f, m in zip(self._fixed_point, self._inverse_target))

    # Every method takes U as a tuple (U₁, …, U_L) or an ``OrderParameters``, and the data either
    # as (xt, y, hyper) arrays or as one ``PathsProblem`` (then y and hyper are left out).

    def readout(self, U, hyper) -> Any:
        """U_a(U_L), the positive root derived from ∂S/∂U_a = 0 (``hyper`` may be a problem)."""
        U, _, _, hyper = _normalise(U, None, None, hyper)
        return self._readout_value(U, self._scal(hyper))

    def omega(self, u1, xt, y=None, hyper=None) -> Any:
        """Ω(U₁) = ∂E/∂U₁ from the matrix-form derivation."""
        import jax.numpy as jnp

        _, xt, y, hyper = _normalise((u1,), xt, y, hyper)
        return self._omega(u1, xt, jnp.reshape(y, (-1, 1)), int(xt.shape[0]), *self._scal(hyper))

    def gradient(self, U, xt, y=None, hyper=None) -> tuple:
        """(∂S/∂U₁, …, ∂S/∂U_L) at U_a = U_a(U_L) (symmetric convention, action divided by N_max)."""
        U, xt, y, hyper = _normalise(U, xt, y, hyper)
        args = self._args(U, xt, y, hyper)
        return tuple(f(*args) for f in self._gradient)

    def fixed_point_map(self, U, xt, y=None, hyper=None) -> tuple:
        """F(U) = (F₁(U), …, F_L(U)), the derived fixed-point forms, each at the current U."""
        if not self._fixed_point:
            raise ValueError("the component form has no fixed-point map; use the matrix form")
        U, xt, y, hyper = _normalise(U, xt, y, hyper)
        args = self._args(U, xt, y, hyper)
        return tuple(f(*args) for f in self._fixed_point)

    # -- argument assembly -------------------------------------------------------------
    @staticmethod
    def _scal(hyper) -> list:
        """[N_1..N_L, N_a, N_max, σ_1..σ_L, σ_a, T] (order of :func:`_scalar_args`)."""
        import jax.numpy as jnp

        widths = jnp.asarray(hyper.widths)
        sig = jnp.sqrt(jnp.asarray(hyper.sigma2_layers))
        n_max = jnp.maximum(jnp.max(widths), hyper.width_readout)
        L = widths.shape[0]
        return ([widths[l] for l in range(L)] + [hyper.width_readout, n_max] + [sig[l] for l in range(L)]
                + [jnp.sqrt(hyper.sigma2_readout), hyper.temperature])

    def _args(self, U, xt, y, hyper) -> list:
        import jax.numpy as jnp

        scal = self._scal(hyper)
        ua = self._readout_value(U, scal)
        if self.derivation.form == "matrix":
            return list(U) + [ua, xt, jnp.reshape(y, (-1, 1)), int(xt.shape[0])] + scal
        ups = [_upper_entries(u) for u in U]
        invs = [_upper_entries(_pd_inverse(u)) for u in U]
        om = _upper_entries(self.omega(U[0], xt, y, hyper))
        return ups + invs + [ua, om] + scal

    def _readout_value(self, U, scal):
        if self.derivation.form == "matrix":
            return self._readout(*(list(U) + scal))
        return self._readout(*([_upper_entries(u) for u in U] + scal))


def _normalise(U, xt, y, hyper):
    """Accept OrderParameters for U and a PathsProblem in place of (xt, y, hyper)."""
    U = tuple(U.U) if hasattr(U, "U") else tuple(U)
    problem = next((a for a in (xt, hyper) if hasattr(a, "arrays") and hasattr(a, "model")), None)
    if problem is not None:
        xt, y, hyper = problem.arrays.xt, problem.arrays.y, problem.model.hyper()
    return U, xt, y, hyper


def _upper_entries(m):
    import numpy as np

    i, j = np.triu_indices(m.shape[0])  # static indices (jit-safe)
    return [m[a, b] for a, b in zip(i.tolist(), j.tolist())]


def _pd_inverse(m):
    return st._pd_inv(m)


def _scalar_args(sy: Symbols) -> list:
    return list(sy.N) + [sy.N_a, sy.N_max] + list(sy.sigma) + [sy.sigma_a, sy.T]


@functools.lru_cache(maxsize=32)
def _numeric_cached(heads: tuple, form: str) -> NumericPaths:
    # the readout enters only through X̃ (an argument of the callables), never the equations
    return _build_numeric(_paths().derive_paths(heads, "last", form=form))


def numeric(derivation_or_heads, readout: str = "last", form: str = "matrix") -> NumericPaths:
    """JAX callables of a derivation (or of ``derive_paths(heads, readout, form=form)``).

    The callables are the same for every readout (the readout shapes X̃, which they take as an
    argument), so they are built once per (heads, form) and kept in memory.
    """
    if isinstance(derivation_or_heads, _paths().PathsDerivation):
        d = derivation_or_heads
        return _numeric_cached(d.architecture.heads, d.form)
    _paths().Architecture(tuple(derivation_or_heads), readout)  # validates
    return _numeric_cached(tuple(derivation_or_heads), form)


def _build_numeric(d: PathsDerivation) -> NumericPaths:
    sy = d.symbols
    scal = _scalar_args(sy)
    L = d.architecture.n_layers
    extra = NUMERIC_OPERATORS
    # Ω from the matrix form (energy term only; independent of the number of layers)
    md = d if d.form == "matrix" else _paths().derive_paths(d.architecture.heads, d.architecture.readout, form="matrix")
    msy = md.symbols
    hsub = {h: v for h, v in zip(msy.H, d.architecture.heads)}
    mscal = _scalar_args(msy)

    def conc(e):
        return e.xreplace(hsub) if e is not None else None

    U_c = tuple(conc(u) for u in md.U)
    omega_fn = st.jax_function([U_c[0], msy.xt, msy.Y, msy.P] + mscal, conc(md.omega).doit(), extra=extra)
    ua_expr = conc(md.readout_condition.fixed_point)
    if d.form == "matrix":
        readout_fn = st.jax_function(list(U_c) + mscal, ua_expr, extra=extra)
        args = list(U_c) + [msy.U_a, msy.xt, msy.Y, msy.P] + mscal
        grads = tuple(st.jax_function(args, conc(c.gradient).doit(), extra=extra) for c in d.conditions[:L])
        fps = tuple(st.jax_function(args, conc(c.fixed_point).doit(), extra=extra) for c in d.conditions[:L])
        inverse_target = tuple(st.jax_function(args, conc(c.fixed_point.arg).doit(), extra=extra)
                               if isinstance(c.fixed_point, sp.Inverse) else None for c in d.conditions[:L])
    else:
        ups = [list(st._upper(u)) for u in d.U]
        invs = [list(st._upper(v)) for v in d.inverse]
        om = list(st._upper(d.omega))
        ua_c = d.readout_condition.fixed_point
        readout_fn = st.jax_function(ups + scal, ua_c, extra=extra)
        args = ups + invs + [sy.U_a, om] + scal
        grads = tuple(st.jax_function(args, c.gradient, extra=extra) for c in d.conditions[:L])
        fps = ()
        inverse_target = ()
    return NumericPaths(d, grads, fps, readout_fn, omega_fn, inverse_target)
