"""Order parameters, stationarity conditions and their fixed-point forms (:func:`derive`).

One :class:`Condition` per order parameter with the gradient, the equation
``normalisation · ∂F/∂q = 0`` and, where one exists, a *fixed-point form* q = F_q(q, others):
for a scalar the positive root SymPy ``solve`` finds; for a matrix whose condition is
A + c X⁻¹ = 0 the form X = (−A/c)⁻¹, and for A + c X⁻¹ + X⁻¹ Q X⁻¹ = 0 (a continuous algebraic
Riccati equation X A X + c X + Q = 0) the positive-definite root X = A^{-1/2} W A^{-1/2},
W = ½(−c I + (c² I − 4 A^{1/2} Q A^{1/2})^{1/2}).  Terms in which X enters only through a
:class:`LinearOperator` (data terms such as Ω(U₁)) count as part of A and are evaluated at the
current iterate (the usual self-consistent iteration).  Any other structure is reported in
``Condition.note`` ("no fixed-point form") rather than forced.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from ._matcalc import _opaque_scalar_gradient, component_gradient, matrix_gradient, simplify_matrix, simplify_scalar
from ._operators import KronIdentity, PDSqrt, SymmetricMatrixSymbol, _scalar_times_identity


@dataclasses.dataclass(frozen=True)
class OrderParameter:
    """One order parameter: a scalar Symbol, a :class:`SymmetricMatrixSymbol` (matrix form) or a
    symmetric ``ImmutableMatrix`` of entry symbols (component form), with a description used
    in the LaTeX symbol list.  ``name`` (ASCII) labels its equation."""

    symbol: Any
    description: str
    name: str = ""

    @property
    def kind(self) -> str:
        if isinstance(self.symbol, SymmetricMatrixSymbol):
            return "matrix"
        if isinstance(self.symbol, sp.MatrixBase):
            return "components"
        if isinstance(self.symbol, sp.Symbol):
            return "scalar"
        raise TypeError(f"unsupported order parameter {self.symbol!r}")

    @property
    def label(self) -> str:
        return self.name or str(self.symbol)


@dataclasses.dataclass(frozen=True)
class Condition:
    """The stationarity condition of one order parameter.

    Attributes:
        parameter: the :class:`OrderParameter`.
        gradient: ∂F/∂q (symmetric convention for matrices; an ImmutableMatrix in component form).
        equation: ``normalisation · gradient``, simplified; the condition reads equation = 0.
        fixed_point: F_q with q = F_q at the saddle point, or None.
        note: how the fixed-point form was obtained, or why there is none.
    """

    parameter: OrderParameter
    gradient: Any
    equation: Any
    fixed_point: Any
    note: str


def derive(free_energy, parameters: Sequence[OrderParameter], *, normalisation=1,
           fixed_point: bool = True, simplify: Callable[[Any], Any] | None = None) -> tuple[Condition, ...]:
    """Stationarity conditions ∂F/∂q = 0 of ``free_energy`` for every order parameter.

    ``normalisation`` multiplies the gradient in the displayed equation (e.g. N_max to remove
    an overall 1/N_max).  ``simplify`` (default :func:`simplify_scalar`) is applied to every
    scalar coefficient / component.
    """
    simp = simplify or simplify_scalar
    out = []
    for p in parameters:
        kind = p.kind
        if kind == "scalar":
            g = _opaque_scalar_gradient(free_energy, p.symbol)
            eq = simp(normalisation * g)
            fp, note = _scalar_fixed_point(eq, p.symbol) if fixed_point else (None, "")
        elif kind == "matrix":
            g = matrix_gradient(free_energy, p.symbol)
            eq = simplify_matrix(normalisation * g, simp)
            fp, note = _matrix_fixed_point(eq, p.symbol, simp) if fixed_point else (None, "")
        else:
            g = component_gradient(free_energy, p.symbol, simp)
            eq = g.applyfunc(lambda e: simp(normalisation * e))
            fp, note = None, ("component form: the conditions are given entry by entry; the "
                              "fixed-point form is that of the matrix form")
        out.append(Condition(p, g, eq, fp, note))
    return tuple(out)


def _scalar_fixed_point(eq, x):
    """The positive root of eq(x) = 0 from SymPy ``solve`` (all other symbols positive)."""
    opaque = {}
    for e in sp.preorder_traversal(eq):
        if isinstance(e, (sp.Trace, sp.Determinant, MatrixElement)) and not e.has(x):
            opaque.setdefault(e, sp.Dummy(positive=True))  # traces/determinants of PD matrices
    back = {v: k for k, v in opaque.items()}
    eq = eq.xreplace(opaque)
    numerator = sp.numer(sp.together(eq))
    try:
        poly = sp.Poly(numerator, x)
        if poly.degree() <= 4:  # closed-form roots directly (much faster than solve's checks)
            roots = list(sp.roots(poly, multiple=True))
        else:
            roots = sp.solve(numerator, x, simplify=False, check=False)
    except (NotImplementedError, sp.PolynomialError):
        try:
            roots = sp.solve(numerator, x, simplify=False, check=False)
        except NotImplementedError:
            return None, "SymPy could not solve the scalar condition"
    free = sorted(set().union(*[r.free_symbols for r in roots]) - {x}, key=str) if roots else []
    import random

    rng = random.Random(0)
    pos = []
    for r in roots:
        ok = True
        for _ in range(5):
            vals = {s: sp.Float(rng.uniform(0.2, 5.0)) for s in free}
            v = complex(sp.N(r.subs(vals)))
            if abs(v.imag) > 1e-12 or v.real <= 0:
                ok = False
                break
        if ok:
            pos.append(r)
    if len(pos) != 1:
        return None, f"{len(roots)} roots, {len(pos)} of them positive at random positive parameters"
    root = sp.factor_terms(pos[0])
    return root.xreplace(back), (f"positive root of the degree-{sp.degree(numerator, x)} polynomial condition "
                                 f"(SymPy roots/solve; {len(roots)} roots)")


def _classify(expr, x):
    """Split a tidy matrix expression into (A, c, Q): terms free of X⁻¹ (A), c·X⁻¹, X⁻¹ Q X⁻¹.
    Returns None if a term has another shape."""
    inv = sp.Inverse(x)
    a_terms, c_terms, q_terms = [], [], []
    for t in (expr.args if isinstance(expr, sp.MatAdd) else (expr,)):
        coeff, mats = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.S.One, [t])
        direct = [i for i, m in enumerate(mats) if m == inv or m == x]
        if not direct:
            # X may still enter through a linear operator or an inverse of a sum (data terms):
            # evaluated at the current iterate
            a_terms.append(t)
        elif len(mats) == 1 and mats[0] == inv:
            c_terms.append(coeff)
        elif len(mats) >= 3 and mats[0] == inv and mats[-1] == inv and not any(m.has(x) for m in mats[1:-1]):
            q_terms.append(coeff * sp.MatMul(*mats[1:-1]) if coeff != 1 else sp.MatMul(*mats[1:-1]))
        else:
            return None
    a = sp.MatAdd(*a_terms).doit() if a_terms else None
    c = sp.Add(*c_terms)
    q = sp.MatAdd(*q_terms).doit() if q_terms else None
    return a, c, q


def _matrix_fixed_point(eq, x, simp):
    cls = _classify(eq, x)
    if cls is None:
        return None, "no fixed-point form: the condition is not of the form A + c X⁻¹ + X⁻¹ Q X⁻¹ = 0"
    a, c, q = cls
    c = simp(c)
    if a is None:
        return None, "no fixed-point form: no X-free term"
    if c == 0 and q is None:
        return None, "no fixed-point form: X⁻¹ does not appear"
    if q is None:
        fp = sp.Inverse(simplify_matrix(-a / c, simp))
        return fp, ("linear in X⁻¹: A + c X⁻¹ = 0 ⇒ X = (−A/c)⁻¹; terms where X enters through a "
                    "linear operator or data are evaluated at the current iterate")
    scal = _scalar_times_identity(a)
    if scal is not None:
        # X² a + c X + Q = 0 with A = a I:  X = (−c I + (c² I − 4 a Q)^{1/2}) / (2a)
        n = x.shape[0]
        inner = simplify_matrix(c**2 * sp.Identity(n) - 4 * scal * q, simp)
        fp = simplify_matrix((-c * sp.Identity(n) + PDSqrt(inner)) / (2 * scal), simp)
        return fp, ("quadratic in X⁻¹ with A = a·I: X a X + c X + Q = 0 ⇒ X = (−c I + (c² I − 4 a Q)^{1/2})/(2a), "
                    "the positive-definite root")
    ah = PDSqrt(a)
    ahi = _inverse(ah)
    inner = simplify_matrix(c**2 * sp.Identity(x.shape[0]) - 4 * sp.MatMul(ah, q, ah), simp)
    w = simplify_matrix(-(c / 2) * sp.Identity(x.shape[0]) + PDSqrt(inner) / 2, simp)
    fp = sp.MatMul(ahi, w, ahi)
    return fp, ("quadratic in X⁻¹ (algebraic Riccati equation X A X + c X + Q = 0) ⇒ "
                "X = A^{-1/2} W A^{-1/2}, W = ½(−c I + (c² I − 4 A^{1/2} Q A^{1/2})^{1/2}), the "
                "positive-definite root; A is evaluated at the current iterate")


def _inverse(m):
    """M⁻¹ with the obvious rules: (c M)⁻¹ = M⁻¹/c, (I ⊗ M)⁻¹ = I ⊗ M⁻¹, (M⁻¹)⁻¹ = M."""
    if isinstance(m, sp.MatMul):
        coeff, mats = m.as_coeff_matrices()
        if coeff != 1 and len(mats) == 1:
            return _inverse(mats[0]) / coeff
    if isinstance(m, KronIdentity):
        return KronIdentity(_inverse(m.arg), m.n)
    if isinstance(m, sp.Inverse):
        return m.arg
    return sp.Inverse(m)
