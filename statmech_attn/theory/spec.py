"""State a theory: order parameters, control parameters, a SymPy free energy, observables.

A theory is a frozen :class:`Theory`.  Everything a solver needs is here and validated once, at
construction: every order parameter must appear in the free energy, every free symbol of the free
energy must be an order or control parameter, control defaults must lie in their allowed ranges.

The free energy Φ(x; c) is a SymPy expression in the order parameters x and the control parameters c;
numeric building blocks (:func:`gaussian_expectation`, :func:`moreau_envelope`, :func:`proximal`,
:func:`spectral_mean`, :func:`spectral_sum`, :func:`log_det`) may appear where no closed form exists.
Its stationary points ∂Φ/∂x = 0 are the solutions.  A theory may also give the fixed-point
equations x = F(x; c) itself (``equations``: e.g. forms simplified by Gaussian integration by
parts); they are then solved, and Φ serves for the free energy, its Hessian and a consistency check.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ..errors import InputError
from ._blocks import block_nodes

__all__ = ["OrderParameter", "ControlParameter", "Observable", "Theory", "EXTREMA"]

EXTREMA = ("saddle", "minimum", "maximum")


def _name_ok(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(what, name, "must be a Python identifier (letters, digits, _)")
    return name


@dataclasses.dataclass(frozen=True, eq=False)
class OrderParameter:
    """An order parameter x (a scalar).

    Attributes:
        name: the symbol's name (``"m"``, ``"q_hat"``); the free energy refers to ``sympy.Symbol(name)``.
        meaning: what it is, in words (shown by ``derive`` and in records' documentation).
        init: the start of a solve: a number or a SymPy expression of the control parameters.
        lower, upper: the open interval of admissible values (a Newton step that leaves it is
            shortened); default unbounded.
    """

    name: str
    meaning: str = ""
    init: Any = 0.1
    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self) -> None:
        _name_ok(self.name, "order_parameters")
        object.__setattr__(self, "init", sp.sympify(self.init))
        if not self.lower < self.upper:
            raise InputError(f"order_parameters.{self.name}", (self.lower, self.upper), "needs lower < upper")

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name)


@dataclasses.dataclass(frozen=True, eq=False)
class ControlParameter:
    """A control parameter c with a default and an allowed range.

    Attributes:
        name: the symbol's name (``"alpha"``, ``"lambda"``).
        default: its value when not set.
        lower, upper: the allowed range.
        inclusive: whether the ends are allowed (False: ``lower < c < upper``).
        meaning: what it is, in words.
    """

    name: str
    default: float
    lower: float = -math.inf
    upper: float = math.inf
    inclusive: bool = True
    meaning: str = ""

    def __post_init__(self) -> None:
        _name_ok(self.name, "control_parameters")
        object.__setattr__(self, "default", float(self.default))
        self.check(self.default)

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name)

    @property
    def allowed(self) -> str:
        lo, hi = self.lower, self.upper
        ge, le = (">=", "<=") if self.inclusive else (">", "<")
        if math.isinf(lo) and math.isinf(hi):
            return "must be a finite number"
        if math.isinf(hi):
            return f"must be a finite number {ge} {lo:g}"
        if math.isinf(lo):
            return f"must be a finite number {le} {hi:g}"
        return f"must be a finite number in {'[' if self.inclusive else '('}{lo:g}, {hi:g}{']' if self.inclusive else ')'}"

    def check(self, value: Any) -> float:
        """``value`` as a float, or InputError naming the parameter."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(self.name, value, self.allowed) from None
        ok = math.isfinite(v) and ((self.lower <= v <= self.upper) if self.inclusive else (self.lower < v < self.upper))
        if not ok:
            raise InputError(self.name, value, self.allowed)
        return v


@dataclasses.dataclass(frozen=True, eq=False)
class Observable:
    """A quantity computed at the solution: a SymPy expression of order and control parameters."""

    name: str
    expr: Any
    meaning: str = ""

    def __post_init__(self) -> None:
        _name_ok(self.name, "observables")
        object.__setattr__(self, "expr", sp.sympify(self.expr))


def _as_tuple(items: Any, cls: type) -> tuple:
    if isinstance(items, cls):
        items = (items,)
    out = tuple(items)
    for it in out:
        if not isinstance(it, cls):
            raise InputError(cls.__name__, it, f"every entry must be a {cls.__name__}")
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Theory:
    """A theory: the free energy Φ(x; c) and what to report.

    Attributes:
        name: a short name (used in records and figure titles).
        order_parameters: the unknowns x (their order is the order of every vector).
        control_parameters: the knobs c (``--set``, sweeps).
        free_energy: Φ, a SymPy expression (blocks allowed); solutions are its stationary points.
        observables: reported at every solution.
        equations: optional fixed-point form {name: F_name(x; c)}, one per order parameter; when
            given, the solver finds x = F(x) (residual max|F(x) − x|) instead of ∂Φ/∂x = 0.
        spectrum: arrays for spectral means/sums, by symbol name (all of one length).
        cubature_order: Gauss–Hermite nodes per dimension of an expectation without its own order.
        extremum: the kind of stationary point sought: ``saddle`` (replica free energies: any
            signature is accepted), ``minimum`` or ``maximum`` (a converged point whose Hessian has
            the wrong signature is reported as ``not_a_minimum``).
        description: one paragraph for ``derive`` and the docs.
    """

    name: str
    order_parameters: Sequence[OrderParameter]
    control_parameters: Sequence[ControlParameter]
    free_energy: Any
    observables: Sequence[Observable] = ()
    equations: Mapping[str, Any] | None = None
    spectrum: Mapping[str, Any] | None = None
    cubature_order: int = 32
    extremum: str = "saddle"
    description: str = ""

    def __post_init__(self) -> None:
        ops = _as_tuple(self.order_parameters, OrderParameter)
        cps = _as_tuple(self.control_parameters, ControlParameter)
        obs = _as_tuple(self.observables, Observable)
        object.__setattr__(self, "order_parameters", ops)
        object.__setattr__(self, "control_parameters", cps)
        object.__setattr__(self, "observables", obs)
        if not ops:
            raise InputError("order_parameters", [], "a theory needs at least one order parameter")
        names = [p.name for p in ops] + [c.name for c in cps]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise InputError("order_parameters", dup, "appears twice (order and control parameter names must be distinct)")
        try:
            phi = sp.sympify(self.free_energy)
        except (sp.SympifyError, TypeError) as e:
            raise InputError("free_energy", self.free_energy, f"must be a SymPy expression ({e})") from None
        if not isinstance(phi, sp.Expr):
            raise InputError("free_energy", phi, "must be a SymPy expression")
        object.__setattr__(self, "free_energy", phi)
        present = {s.name for s in phi.free_symbols}
        for p in ops:
            if p.name not in present:
                raise InputError(f"order_parameters.{p.name}", p.name, "never appears in the free energy")
        unknown = sorted(present - set(names))
        if unknown:
            raise InputError("free_energy", unknown[0], "is a symbol that is neither an order parameter nor a "
                             "control parameter")
        cnames = {c.name for c in cps}
        for p in ops:
            stray = sorted({s.name for s in p.init.free_symbols} - cnames)
            if stray:
                raise InputError(f"order_parameters.{p.name}.init", str(p.init), "may use control parameters only")
        for o in obs:
            stray = sorted({s.name for s in o.expr.free_symbols} - set(names))
            if stray:
                raise InputError(f"observables.{o.name}", stray[0], "is neither an order nor a control parameter")
        if self.equations is not None:
            eqs = {str(k): sp.sympify(v) for k, v in dict(self.equations).items()}
            missing = [p.name for p in ops if p.name not in eqs]
            extra = sorted(set(eqs) - {p.name for p in ops})
            if missing or extra:
                raise InputError("equations", (missing or extra)[0], "needs exactly one equation per order parameter")
            for k, e in eqs.items():
                stray = sorted({s.name for s in e.free_symbols} - set(names))
                if stray:
                    raise InputError(f"equations.{k}", stray[0], "is neither an order nor a control parameter")
            object.__setattr__(self, "equations", MappingProxyType({p.name: eqs[p.name] for p in ops}))
        spec = {str(k): np.asarray(v, dtype=np.float64).reshape(-1) for k, v in dict(self.spectrum or {}).items()}
        lengths = {a.size for a in spec.values()}
        if len(lengths) > 1:
            raise InputError("spectrum", sorted(lengths), "every spectrum array must have the same length")
        for k, a in spec.items():
            if a.size == 0 or not np.all(np.isfinite(a)):
                raise InputError(f"spectrum.{k}", f"{a.size} values", "must be non-empty and finite")
        object.__setattr__(self, "spectrum", MappingProxyType(spec))
        if int(self.cubature_order) < 1:
            raise InputError("cubature_order", self.cubature_order, "must be an integer >= 1")
        object.__setattr__(self, "cubature_order", int(self.cubature_order))
        if self.extremum not in EXTREMA:
            raise InputError("extremum", self.extremum, "must be one of " + ", ".join(EXTREMA))

    # -- names -----------------------------------------------------------------------------------

    @property
    def order_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.order_parameters)

    @property
    def control_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.control_parameters)

    @property
    def observable_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.observables)

    def control(self, name: str) -> ControlParameter:
        for c in self.control_parameters:
            if c.name == name:
                return c
        raise InputError("control parameter", name, "must be one of " + ", ".join(self.control_names)
                         if self.control_names else "this theory has no control parameters")

    @functools.cached_property
    def has_blocks(self) -> bool:
        """Whether the free energy uses numeric blocks (expectations, proximal maps, spectra)."""
        return bool(block_nodes(self.free_energy))

    # -- values ----------------------------------------------------------------------------------

    def controls(self, values: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Every control parameter's value: the defaults updated by ``values`` (each checked)."""
        out = {c.name: c.default for c in self.control_parameters}
        for k, v in dict(values or {}).items():
            out[k] = self.control(k).check(v)
        return out

    def initial(self, controls: Mapping[str, float]) -> dict[str, float]:
        """The start of a solve at these control values (``OrderParameter.init``)."""
        subs = {sp.Symbol(k): v for k, v in controls.items()}
        out = {}
        for p in self.order_parameters:
            v = p.init.xreplace(subs)
            try:
                out[p.name] = float(v)
            except TypeError:
                raise InputError(f"order_parameters.{p.name}.init", str(p.init), "must evaluate to a number") from None
        return out

    def replace(self, **changes: Any) -> "Theory":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
