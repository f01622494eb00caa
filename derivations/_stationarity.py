"""Generic derivation helper: from a symbolic free energy to stationarity conditions, LaTeX and JAX.

Any theory whose saddle point is "∂F/∂q = 0 for every order parameter q" can reuse this module
(the attention-path derivation in :mod:`statmech_attn.derivations.paths` does; the Potts replica derivation
may).  The pieces:

**Order parameters** (:class:`OrderParameter`) come in three kinds:

* ``scalar``     — a SymPy ``Symbol`` (e.g. the readout overlap U_a, a replica overlap q);
* ``matrix``     — a :class:`SymmetricMatrixSymbol` (a ``MatrixSymbol`` that knows Xᵀ = X), used
  in *matrix form*: the free energy is written with ``Trace``, ``log(Determinant(·))``,
  ``Inverse``, matrix products and the linear operators below, and differentiated by matrix
  calculus (:func:`matrix_gradient`, the rule Tr(P dX) ↦ ∂/∂X = Pᵀ applied to the differential);
* ``components`` — an explicit symmetric ``ImmutableMatrix`` of entry symbols (build it with
  :func:`symmetric_components`), used in *component form*: SymPy differentiates the scalar free
  energy with respect to every independent entry.  ``log det`` and the inverse of such a matrix
  are written with the opaque functions :class:`LogDet` and :class:`InverseEntry` whose exact
  derivatives (∂ ln det U/∂U_kl = (U⁻¹)_lk, ∂U⁻¹ = −U⁻¹ dU U⁻¹) are built in, so large matrices
  do not blow up into explicit determinants; a function of a matrix whose gradient is known
  only numerically (an energy term fed by data) is a :class:`MatrixFunction`.

Gradients with respect to a symmetric matrix follow one convention everywhere: the matrix D
with D_kl = ∂F/∂X_kl treating all N² entries as independent and then symmetrised,
(D + Dᵀ)/2.  In components this is ∂F/∂u_kk on the diagonal and ½ ∂F/∂u_kl off it (u_kl the
independent entry).  It equals the symmetrised gradient of a numeric F(X) from JAX autodiff.

**Linear operators** on matrices, each with its adjoint under ⟨A, B⟩ = Tr(Aᵀ B) (which is all
matrix calculus needs): :class:`PartialTrace` (tr_n, contract the outer index of size n),
:class:`KronIdentity` (I_n ⊗ X, its adjoint) and subclasses of :class:`LinearOperator` that a
theory defines (the attention-path kernel K(U) = Σ_i X̃_i U X̃_iᵀ is one).  :class:`PDSqrt` is the
principal square root of a positive-definite matrix (used by closed-form fixed points).

**Stationarity** (:func:`derive`): one :class:`Condition` per order parameter with the gradient,
the equation ``normalisation · ∂F/∂q = 0`` and, where one exists, a *fixed-point form*
q = F_q(q, others): for a scalar the positive root SymPy ``solve`` finds; for a matrix whose
condition is A + c X⁻¹ = 0 the form X = (−A/c)⁻¹, and for A + c X⁻¹ + X⁻¹ Q X⁻¹ = 0 (a
continuous algebraic Riccati equation X A X + c X + Q = 0) the positive-definite root
X = A^{-1/2} W A^{-1/2}, W = ½(−c I + (c² I − 4 A^{1/2} Q A^{1/2})^{1/2}).  Terms in which X
enters only through a :class:`LinearOperator` (data terms such as Ω(U₁)) count as part of A and
are evaluated at the current iterate (the usual self-consistent iteration).  Any other structure
is reported in ``Condition.note`` ("no fixed-point form") rather than forced.

**LaTeX** (:func:`to_latex`): a standalone fragment — a list of symbol definitions, then one
numbered ``equation`` per condition (and per fixed-point form), labels ``eq:<key>:<name>``.

**JAX callables** (:func:`jax_function`): SymPy's NumPy/JAX code printer with the explicit name
mapping :data:`JAX_FUNCTIONS` (``inv`` is a Cholesky-based positive-definite inverse, ``sqrtm`` an
eigen-decomposition square root, ``partial_trace``, ``kron_identity``, ...).  Every function the
generated code calls is checked against the mapping when the callable is built
(:func:`check_jax_coverage`); a missing one raises instead of failing later inside a solver.

**Cache** (:func:`cached`): derivation results (SymPy objects, pickled) live in
``$STATMECH_ATTN_CACHE`` or ``~/.cache/statmech_attn/derivations``, keyed by a SHA-256 of the
problem description (a JSON-able dict you pass: theory, architecture, form, ...), the SymPy
version and the source text of the modules that build the derivation, so editing a derivation
invalidates its entries.  Writes are atomic; an unreadable entry is recomputed.

Example (a scalar toy free energy)::

    q = sp.Symbol("q", positive=True); a = sp.Symbol("a", positive=True)
    conds = derive(q**2 / 2 - a * sp.log(q), [OrderParameter(q, "overlap")])
    conds[0].fixed_point   # sqrt(a)
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import json
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.latex import LatexPrinter
from sympy.printing.numpy import JaxPrinter

HELPER_VERSION = "1"

# ==========================================================================================
# matrix symbols and linear operators


class SymmetricMatrixSymbol(sp.MatrixSymbol):
    """A ``MatrixSymbol`` that is symmetric: ``Transpose(X).doit() == X``."""

    def _eval_transpose(self):
        return self


class LinearOperator(MatrixExpr):
    """A linear map 𝒜 acting on its first argument (a matrix expression).

    Subclasses define ``shape``, ``adjoint_of(P)`` (the matrix 𝒜*(P) with Tr(P 𝒜(Q)) =
    Tr(𝒜*(P) Q)), ``_latex`` and ``numeric_name`` with ``numeric_args`` (how the JAX printer calls
    it).  ``_eval_transpose`` may return the operator applied to the transposed argument when
    the operator commutes with transposition.
    """

    numeric_name: str = ""

    @property
    def arg(self):
        return self.args[0]

    def with_arg(self, new):
        return type(self)(new, *self.args[1:])

    def adjoint_of(self, p):  # pragma: no cover - subclasses override
        raise TypeError(f"{type(self).__name__} has no adjoint")

    def numeric_args(self) -> tuple:
        return self.args

    def doit(self, **hints):
        arg = self.arg.doit(**hints) if hints.get("deep", True) else self.arg
        return self.with_arg(arg)


class PartialTrace(LinearOperator):
    """tr_n X: for X of size (n d) × (n d) with the outer index of size n,
    (tr_n X)[a, b] = Σ_{h=1}^{n} X[(h, a), (h, b)]  (size d × d).

    Adjoint: Tr(P tr_n Q) = Tr((I_n ⊗ P) Q).
    """

    numeric_name = "partial_trace"

    def __new__(cls, arg, n, label=None):
        arg = sp.sympify(arg)
        n = sp.sympify(n)
        label = sp.Symbol(str(n)) if label is None else sp.sympify(label)
        return sp.Basic.__new__(cls, arg, n, label)

    @property
    def n(self):
        return self.args[1]

    @functools.cached_property
    def shape(self):
        return (self.arg.shape[0] / self.n, self.arg.shape[1] / self.n)

    def adjoint_of(self, p):
        return KronIdentity(p, self.n)

    def doit(self, **hints):
        arg = self.arg.doit(**hints)
        c = _scalar_times_identity(arg)
        if c is not None:  # tr_n(c I_{n d}) = n c I_d
            return (self.n * c) * sp.Identity(arg.shape[0] / self.n)
        return PartialTrace(arg, self.n, self.args[2])

    def numeric_args(self):
        return (self.arg, self.n)

    def _eval_transpose(self):
        return PartialTrace(self.arg.T, self.n, self.args[2])

    def _latex(self, printer):
        return r"\operatorname{tr}_{%s}\!\left(%s\right)" % (printer._print(self.args[2]), printer._print(self.arg))

    def _sympystr(self, printer):
        return "tr_%s(%s)" % (printer._print(self.args[2]), printer._print(self.arg))


class KronIdentity(LinearOperator):
    """I_n ⊗ X (block diagonal, n copies of X; the outer index has size n).

    Adjoint: Tr(P (I_n ⊗ Q)) = Tr((tr_n P) Q).
    """

    numeric_name = "kron_identity"

    def __new__(cls, arg, n):
        return sp.Basic.__new__(cls, sp.sympify(arg), sp.sympify(n))

    @property
    def n(self):
        return self.args[1]

    @functools.cached_property
    def shape(self):
        return (self.arg.shape[0] * self.n, self.arg.shape[1] * self.n)

    def adjoint_of(self, p):
        return PartialTrace(p, self.n)

    def doit(self, **hints):
        arg = self.arg.doit(**hints)
        c = _scalar_times_identity(arg)
        if c is not None:  # I_n ⊗ (c I_d) = c I_{n d}
            return c * sp.Identity(arg.shape[0] * self.n)
        return KronIdentity(arg, self.n)

    def _eval_transpose(self):
        return KronIdentity(self.arg.T, self.n)

    def _eval_inverse(self):
        return KronIdentity(sp.Inverse(self.arg), self.n)

    def _latex(self, printer):
        return r"\left(\mathbb{I}_{%s} \otimes %s\right)" % (printer._print(self.n), printer._print(self.arg))

    def _sympystr(self, printer):
        return "(I_%s ⊗ %s)" % (printer._print(self.n), printer._print(self.arg))


class PDSqrt(MatrixExpr):
    """A^{1/2}, the principal square root of a symmetric positive-definite matrix (not linear)."""

    def __new__(cls, arg):
        arg = sp.sympify(arg)
        # (c M)^{1/2} = √c M^{1/2} (c > 0), (I ⊗ M)^{1/2} = I ⊗ M^{1/2}, (M⁻¹)^{1/2} = (M^{1/2})⁻¹
        if isinstance(arg, sp.MatMul):
            coeff, mats = arg.as_coeff_matrices()
            if coeff != 1 and coeff.is_positive:
                return sp.sqrt(coeff) * PDSqrt(sp.MatMul(*mats) if len(mats) > 1 else mats[0])
        if isinstance(arg, KronIdentity):
            return KronIdentity(PDSqrt(arg.arg), arg.n)
        if isinstance(arg, sp.Inverse):
            return sp.Inverse(PDSqrt(arg.arg))
        if isinstance(arg, sp.Identity):
            return arg
        return sp.Basic.__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]

    @property
    def shape(self):
        return self.arg.shape

    def _eval_transpose(self):
        return PDSqrt(self.arg.T.doit())

    def doit(self, **hints):
        return PDSqrt(self.arg.doit(**hints))

    def _latex(self, printer):
        return r"\left(%s\right)^{1/2}" % printer._print(self.arg)

    def _sympystr(self, printer):
        return "sqrtm(%s)" % printer._print(self.arg)


class UnsupportedExpression(ValueError):
    """An expression the matrix-calculus engine has no differential rule for (names the expression)."""


# ==========================================================================================
# component-form building blocks



def symmetric_components(base: str, n: int, *, prefix: str = "") -> sp.ImmutableMatrix:
    """An n × n symmetric matrix of entry symbols ``<base>_{<prefix>ij}`` (i ≤ j independent).

    Indices are 1-based (1-9, then a, b, ...) and written without separator, e.g. ``u_{112}`` =
    entry (1, 2) of U₁ with ``prefix="1"``; SymPy's LaTeX parser reads such a name back as one
    symbol.
    """
    entries = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            s = sp.Symbol(f"{base}_{{{prefix}{_idx(i)}{_idx(j)}}}", real=True)
            entries[i][j] = entries[j][i] = s
    return sp.ImmutableMatrix(entries)


def _idx(i: int) -> str:
    return str(i + 1) if i < 9 else chr(ord("a") + i - 9)


def _upper(m: sp.ImmutableMatrix) -> tuple:
    n = m.shape[0]
    return tuple(m[i, j] for i in range(n) for j in range(i, n))


def _from_upper(entries: Sequence) -> sp.ImmutableMatrix:
    k = len(entries)
    n = int(round(((8 * k + 1) ** 0.5 - 1) / 2))
    if n * (n + 1) // 2 != k:
        raise ValueError(f"{k} entries are not the upper triangle of a square matrix")
    out = [[None] * n for _ in range(n)]
    it = iter(entries)
    for i in range(n):
        for j in range(i, n):
            out[i][j] = out[j][i] = next(it)
    return sp.ImmutableMatrix(out)


def _pair(n: int, index: int) -> tuple[int, int]:
    it = 0
    for i in range(n):
        for j in range(i, n):
            if it == index:
                return i, j
            it += 1
    raise IndexError(index)


def _n_of(k: int) -> int:
    return int(round(((8 * k + 1) ** 0.5 - 1) / 2))


class InverseEntry(sp.Function):
    """(U⁻¹)_{ij} of the symmetric matrix whose upper-triangle entries are the trailing args.

    ``InverseEntry(i, j, *upper(U))`` (0-based i, j).  Exact derivative with respect to an
    independent entry u_kl: −(V_ik V_lj + V_il V_kj) for k ≠ l, −V_ik V_kj for k = l (V = U⁻¹).
    """

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        pos = argindex - 1
        if pos < 2:
            return sp.S.Zero
        entries = self.args[2:]
        n = _n_of(len(entries))
        k, l = _pair(n, pos - 2)
        i, j = int(self.args[0]), int(self.args[1])

        def v(a, b):
            return InverseEntry(*sorted((a, b)), *entries)

        if k == l:
            return -v(i, k) * v(k, j)
        return -(v(i, k) * v(l, j) + v(i, l) * v(k, j))

    def _latex(self, printer, exp=None):
        n = _n_of(len(self.args) - 2)
        txt = r"\left(U^{-1}\right)_{%s%s}[%d\times%d]" % (_idx(int(self.args[0])), _idx(int(self.args[1])), n, n)
        return txt if exp is None else f"{txt}^{{{exp}}}"


class LogDet(sp.Function):
    """ln det U of the symmetric matrix whose upper-triangle entries are the args.

    Exact derivative: ∂ ln det U / ∂u_kk = (U⁻¹)_kk, ∂/∂u_kl = 2 (U⁻¹)_kl for k ≠ l.
    """

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        n = _n_of(len(self.args))
        k, l = _pair(n, argindex - 1)
        v = InverseEntry(k, l, *self.args)
        return v if k == l else 2 * v


class MatrixFunction(sp.Function):
    """f(U), a scalar function of a symmetric matrix whose gradient is a known symbol matrix.

    ``MatrixFunction(name, gradient_base, *upper(U))``: ∂f/∂u_kk = G_kk, ∂f/∂u_kl = 2 G_kl
    (k ≠ l), with G the symmetric matrix of symbols ``<gradient_base>_{kl}`` — e.g. the data
    term E(U₁) of the attention-path action, whose gradient Ω is computed numerically.
    """

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        pos = argindex - 1
        if pos < 2:
            return sp.S.Zero
        n = _n_of(len(self.args) - 2)
        k, l = _pair(n, pos - 2)
        g = symmetric_components(str(self.args[1]), n)[k, l]
        return g if k == l else 2 * g

    def _latex(self, printer, exp=None):
        txt = printer._print(self.args[0])
        return txt if exp is None else f"{txt}^{{{exp}}}"


def logdet_components(m: sp.ImmutableMatrix) -> sp.Expr:
    """ln det of a symmetric component matrix, as an opaque :class:`LogDet`."""
    return LogDet(*_upper(m))


def inverse_components(m: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """U⁻¹ of a symmetric component matrix, entries as opaque :class:`InverseEntry`."""
    n = m.shape[0]
    up = _upper(m)
    return sp.ImmutableMatrix(n, n, lambda i, j: InverseEntry(*sorted((i, j)), *up))


def inverse_symbols(expr: Any, m: sp.ImmutableMatrix, inv: sp.ImmutableMatrix) -> Any:
    """Replace every ``InverseEntry`` of ``m`` in ``expr`` by the matching symbol of ``inv``."""
    up = _upper(m)
    n = m.shape[0]
    reps = {InverseEntry(*sorted((i, j)), *up): inv[i, j] for i in range(n) for j in range(n)}
    return expr.xreplace(reps)


# ==========================================================================================
# matrix calculus


def _zero_like(expr):
    if isinstance(expr, MatrixExpr):
        return sp.ZeroMatrix(*expr.shape)
    return sp.S.Zero


def _is_matrix(expr) -> bool:
    return isinstance(expr, MatrixExpr) or getattr(expr, "is_Matrix", False)


def differential(expr, x, dx):
    """The differential of ``expr`` (scalar or matrix expression) at X in the direction dX.

    Rules: d(AB) = dA B + A dB, d(A⁻¹) = −A⁻¹ dA A⁻¹, d Tr A = Tr dA, d ln det A = Tr(A⁻¹ dA),
    d det A = det A · Tr(A⁻¹ dA), d 𝒜(A) = 𝒜(dA) for a :class:`LinearOperator`, plus the usual
    scalar rules (sums, products, powers, log, exp, sqrt via power).
    """
    if not expr.has(x):
        return _zero_like(expr)
    if expr == x:
        return dx
    if isinstance(expr, sp.MatAdd):
        return sp.MatAdd(*[differential(a, x, dx) for a in expr.args])
    if isinstance(expr, sp.MatMul):
        args = expr.args
        terms = []
        for k, a in enumerate(args):
            if a.has(x):
                terms.append(sp.MatMul(*args[:k], differential(a, x, dx), *args[k + 1:]))
        return sp.MatAdd(*terms) if len(terms) > 1 else terms[0]
    if isinstance(expr, sp.Inverse):
        a = expr.arg
        return -sp.MatMul(sp.Inverse(a), differential(a, x, dx), sp.Inverse(a))
    if isinstance(expr, sp.MatPow) and expr.exp == -1:
        return differential(sp.Inverse(expr.base), x, dx)
    if isinstance(expr, sp.Transpose):
        return sp.Transpose(differential(expr.arg, x, dx))
    if isinstance(expr, LinearOperator):
        return expr.with_arg(differential(expr.arg, x, dx))
    if isinstance(expr, sp.Trace):
        return sp.Trace(differential(expr.arg, x, dx))
    if isinstance(expr, sp.Determinant):
        a = expr.arg
        return expr * sp.Trace(sp.MatMul(sp.Inverse(a), differential(a, x, dx)))
    if isinstance(expr, sp.log) and isinstance(expr.args[0], sp.Determinant):
        a = expr.args[0].arg
        return sp.Trace(sp.MatMul(sp.Inverse(a), differential(a, x, dx)))
    if isinstance(expr, sp.Add):
        return sp.Add(*[differential(a, x, dx) for a in expr.args])
    if isinstance(expr, sp.Mul):
        args = expr.args
        return sp.Add(*[sp.Mul(*args[:k], differential(a, x, dx), *args[k + 1:]) for k, a in enumerate(args) if a.has(x)])
    if isinstance(expr, sp.Pow) and not expr.exp.has(x):
        b, e = expr.args
        return e * b ** (e - 1) * differential(b, x, dx)
    if isinstance(expr, sp.log):
        return differential(expr.args[0], x, dx) / expr.args[0]
    if isinstance(expr, sp.exp):
        return expr * differential(expr.args[0], x, dx)
    raise UnsupportedExpression(f"no differential rule for {type(expr).__name__}: {expr}")


def _scalar_linear_terms(expr, dx) -> list[tuple[Any, Any]]:
    """Split a scalar expression linear in dX into (coefficient, Trace(M)) pairs."""
    expr = sp.expand(expr)
    out: list[tuple[Any, Any]] = []
    for term in sp.Add.make_args(expr):
        if not term.has(dx):
            continue
        coeff, traces = sp.S.One, []
        for f in sp.Mul.make_args(term):
            if f.has(dx):
                traces.append(f)
            else:
                coeff = coeff * f
        if len(traces) != 1 or not isinstance(traces[0], sp.Trace):
            raise UnsupportedExpression(f"differential term is not linear in a trace: {term}")
        out.append((coeff, traces[0].arg))
    return out


def _grad_of_trace(p, f, dx):
    """G with Tr(P F) = Tr(Gᵀ dX) for F linear in dX (P may be None = identity)."""
    if f == dx:
        return sp.Transpose(p) if p is not None else sp.Identity(dx.shape[0])
    if isinstance(f, sp.Transpose):
        inner = f.arg
        pt = sp.Transpose(p) if p is not None else None
        return _grad_of_trace(pt, inner, dx)
    if isinstance(f, sp.MatAdd):
        return sp.MatAdd(*[_grad_of_trace(p, a, dx) for a in f.args if a.has(dx)])
    if isinstance(f, sp.MatMul):
        coeff, mats = f.as_coeff_matrices()
        k = [i for i, m in enumerate(mats) if m.has(dx)]
        if len(k) != 1:
            raise UnsupportedExpression(f"term is not linear in dX: {f}")
        k = k[0]
        before, inner, after = mats[:k], mats[k], mats[k + 1:]
        parts = list(after) + ([p] if p is not None else []) + list(before)
        newp = sp.MatMul(*parts) if parts else None
        g = _grad_of_trace(newp, inner, dx)
        return coeff * g if coeff != 1 else g
    if isinstance(f, LinearOperator):
        pp = p if p is not None else sp.Identity(f.shape[0])
        return _grad_of_trace(f.adjoint_of(pp), f.arg, dx)
    raise UnsupportedExpression(f"cannot take the gradient through {type(f).__name__}: {f}")


def matrix_gradient(expr, x) -> MatrixExpr:
    """∂F/∂X for a scalar matrix expression F, entries treated as independent, then symmetrised
    when X is a :class:`SymmetricMatrixSymbol`: the D with dF = Tr(Dᵀ dX) (theory convention).
    """
    dx = (SymmetricMatrixSymbol if isinstance(x, SymmetricMatrixSymbol) else sp.MatrixSymbol)(
        "d" + x.name, *x.shape)
    d = differential(expr, x, dx)
    terms = []
    for coeff, m in _scalar_linear_terms(d, dx):
        m = m.expand() if isinstance(m, MatrixExpr) else m
        terms.append(coeff * _grad_of_trace(None, m, dx))
    if not terms:
        return sp.ZeroMatrix(*x.shape)
    g = tidy(sp.MatAdd(*terms))
    if isinstance(x, SymmetricMatrixSymbol):
        gt = tidy(sp.Transpose(g))
        if gt != g:
            g = tidy((g + gt) / 2)
    return g


@functools.lru_cache(maxsize=4096)
def tidy(expr):
    """Push transposes down (symmetric symbols drop them), expand, merge like terms and merge
    sums of the same linear operator, c₁ 𝒜(A) + c₂ 𝒜(B) → 𝒜(c₁ A + c₂ B)."""
    for _ in range(6):
        prev = expr
        if expr.has(sp.Transpose):
            expr = expr.replace(lambda e: isinstance(e, sp.Transpose), lambda e: _transpose(e.arg))
        if isinstance(expr, MatrixExpr):
            expr = expr.expand().doit()
        else:
            expr = expr.doit()
        expr = expr.replace(lambda e: isinstance(e, LinearOperator) and isinstance(e.arg, sp.MatAdd),
                            lambda e: e.with_arg(_merge_operators(e.arg)))
        expr = _merge_operators(expr)
        if expr == prev:
            break
    return expr


def _transpose(a):
    t = sp.Transpose(a).doit()
    return t


def _pull_scalars(op):
    """𝒜(c M) → c 𝒜(M); 𝒜(c₁ M₁ + c₂ M₂) → c₁ 𝒜(M₁ + (c₂/c₁) M₂) when c₂/c₁ is a number."""
    arg = op.arg
    terms = arg.args if isinstance(arg, sp.MatAdd) else (arg,)
    coeffs, bodies = [], []
    for t in terms:
        c, mats = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.S.One, [t])
        coeffs.append(c)
        bodies.append(sp.MatMul(*mats).doit() if len(mats) > 1 else mats[0])
    first = min(range(len(bodies)), key=lambda k: sp.default_sort_key(bodies[k]))
    common = coeffs[first]  # normalise so that the body sorting first has coefficient 1
    if common == 1 or not all((c / common).is_number for c in coeffs):
        return op
    inner = sp.MatAdd(*[(c / common) * b if c != common else b for c, b in zip(coeffs, bodies)]).doit() if len(bodies) > 1 else bodies[0]
    return common * op.with_arg(inner)


def _merge_operators(expr):
    if isinstance(expr, sp.Basic):
        expr = expr.replace(lambda e: isinstance(e, LinearOperator), _pull_scalars)
        expr = expr.doit() if isinstance(expr, MatrixExpr) else expr
    if not isinstance(expr, sp.MatAdd):
        return expr
    groups: dict[Any, list] = {}
    rest = []
    for term in expr.args:
        coeff, mats = (term.as_coeff_matrices() if isinstance(term, sp.MatMul) else (sp.S.One, [term]))
        if len(mats) == 1 and isinstance(mats[0], LinearOperator):
            op = mats[0]
            groups.setdefault((type(op), op.args[1:]), []).append((coeff, op.arg))
        else:
            rest.append(term)
    for (cls, extra), items in groups.items():
        if len(items) == 1:
            c, a = items[0]
            rest.append(c * cls(a, *extra) if c != 1 else cls(a, *extra))
        else:
            inner = sp.MatAdd(*[c * a if c != 1 else a for c, a in items]).doit()
            rest.append(cls(inner, *extra))
    return sp.MatAdd(*rest).doit() if len(rest) > 1 else rest[0]


def _opaque_scalar_gradient(expr, x):
    """∂F/∂x for a scalar symbol x, treating matrix-valued scalars that do not contain x as
    constants (Trace(U), ln det U, ...)."""
    matrix_nodes = {}

    def is_opaque(e):
        return isinstance(e, (sp.Trace, sp.Determinant, MatrixElement)) and not e.has(x)

    for e in sp.preorder_traversal(expr):
        if is_opaque(e):
            matrix_nodes.setdefault(e, sp.Dummy())
    sub = expr.xreplace(matrix_nodes)
    for e in sp.preorder_traversal(sub):
        if isinstance(e, (MatrixExpr, sp.Trace, sp.Determinant)):
            raise UnsupportedExpression(f"scalar order parameter {x} inside a matrix expression: {e}")
    g = sp.diff(sub, x)
    return g.xreplace({v: k for k, v in matrix_nodes.items()})


# ==========================================================================================
# order parameters and conditions


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


def component_gradient(free_energy, m: sp.ImmutableMatrix, simp=None) -> sp.ImmutableMatrix:
    """Symmetric-convention gradient of a scalar F with respect to a component matrix:
    D_kk = ∂F/∂u_kk, D_kl = ½ ∂F/∂u_kl (u_kl the independent entry)."""
    simp = simp or (lambda e: e)
    n = m.shape[0]
    d = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            g = sp.diff(free_energy, m[i, j])
            g = g if i == j else g / 2
            d[i][j] = d[j][i] = simp(g)
    return sp.ImmutableMatrix(d)


def simplify_scalar(expr):
    """The scalar simplification used throughout: expand, collect over common factors and
    cancel rational functions (cheap and predictable; full ``sympy.simplify`` is not used
    because its cost grows quickly with expression size)."""
    if isinstance(expr, MatrixExpr):
        return expr
    e = sp.expand(expr)
    try:
        e = sp.factor_terms(sp.together(e)) if e.has(sp.Pow) else sp.factor_terms(e)
    except Exception:
        pass
    return e


def simplify_matrix(expr, simp=simplify_scalar):
    """Tidy a matrix expression and simplify each term's scalar coefficient."""
    expr = tidy(expr)
    if isinstance(expr, sp.MatAdd):
        terms = []
        for t in expr.args:
            c, mats = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.S.One, [t])
            c = simp(c)
            body = sp.MatMul(*mats).doit() if len(mats) > 1 else mats[0]
            terms.append(c * body if c != 1 else body)
        expr = sp.MatAdd(*terms).doit()
    return expr


# ------------------------------------------------------------------------------------------
# fixed-point forms


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


def _scalar_times_identity(a):
    if isinstance(a, sp.Identity):
        return sp.S.One
    if isinstance(a, sp.MatMul):
        coeff, mats = a.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], sp.Identity):
            return coeff
    return None


# ==========================================================================================
# LaTeX


class _Latex(LatexPrinter):
    """LaTeX printer: Tr of a 1×1 product prints without the trace; Identity as 𝕀_n."""

    def _print_Trace(self, expr):
        arg = expr.arg
        if getattr(arg, "shape", None) == (1, 1):
            return self._print(arg)
        return r"\operatorname{Tr}\left(%s\right)" % self._print(arg)

    def _print_Identity(self, expr):
        return r"\mathbb{I}_{%s}" % self._print(expr.rows)

    def _print_log(self, expr, exp=None):
        a = expr.args[0]
        if isinstance(a, sp.Determinant):
            txt = r"\ln\det %s" % self.parenthesize(a.arg, 1000) if isinstance(a.arg, sp.MatrixSymbol) else \
                r"\ln\det\left(%s\right)" % self._print(a.arg)
            return txt if exp is None else r"\left(%s\right)^{%s}" % (txt, exp)
        return super()._print_log(expr, exp)


def latex(expr, **settings) -> str:
    """LaTeX of an expression with this module's conventions."""
    settings.setdefault("mat_symbol_style", "plain")
    return _Latex(settings).doprint(expr)


def to_latex(conditions: Sequence[Condition], *, key: str, title: str,
             definitions: Sequence[tuple[str, str]] = (), free_energy: Any = None,
             free_energy_lhs: str = "F", notes: Sequence[str] = ()) -> str:
    """A standalone LaTeX fragment: header comment, symbol definitions, the free energy, then
    one numbered equation per stationarity condition and per fixed-point form.

    ``definitions``: (LaTeX symbol, meaning) pairs.  Requires ``amsmath`` and ``amssymb``.
    """
    lines = [f"% {title}", "% generated by statmech_attn derivations (SymPy); needs amsmath, amssymb", ""]
    lines.append(r"\paragraph{Symbols.}")
    lines.append(r"\begin{itemize}")
    for sym, meaning in definitions:
        lines.append(rf"  \item ${sym}$: {meaning}")
    for c in conditions:
        lines.append(rf"  \item ${latex(c.parameter.symbol) if c.parameter.kind != 'components' else c.parameter.name}$: {c.parameter.description}")
    lines.append(r"\end{itemize}")
    if free_energy is not None:
        lines += ["", r"\paragraph{Free energy.}", r"\begin{equation}", rf"  \label{{eq:{key}:free-energy}}",
                  rf"  {free_energy_lhs} = {latex(free_energy)}", r"\end{equation}"]
    lines += ["", r"\paragraph{Stationarity conditions.}"]
    for c in conditions:
        lab = _label(c.parameter.label)
        if c.parameter.kind == "components":
            m = c.parameter.symbol
            n = m.shape[0]
            for i in range(n):
                for j in range(i, n):
                    lines += [r"\begin{equation}", rf"  \label{{eq:{key}:{lab}-{_idx(i)}{_idx(j)}}}",
                              rf"  {latex(c.equation[i, j])} = 0", r"\end{equation}"]
            continue
        lines += [r"\begin{equation}", rf"  \label{{eq:{key}:{lab}}}", rf"  {latex(c.equation)} = 0", r"\end{equation}"]
        if c.fixed_point is not None:
            lines += [r"\begin{equation}", rf"  \label{{eq:{key}:{lab}-fixed-point}}",
                      rf"  {latex(c.parameter.symbol)} = {latex(c.fixed_point)}", r"\end{equation}"]
    for n in notes:
        lines += ["", f"% {n}"]
    for c in conditions:
        if c.note:
            lines.append(f"% {c.parameter.label}: {c.note}")
    return "\n".join(lines) + "\n"


def _label(s: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in s).strip("-") or "q"


# ==========================================================================================
# JAX callables


def _pd_inv(m):
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl

    return jsl.cho_solve((jnp.linalg.cholesky(m), True), jnp.eye(m.shape[-1], dtype=m.dtype))


def _sqrtm_pd(m):
    import jax.numpy as jnp

    w, v = jnp.linalg.eigh((m + m.T) / 2)
    return (v * jnp.sqrt(w)) @ v.T


def _partial_trace(m, n):
    import jax.numpy as jnp

    n = int(n)
    d = m.shape[0] // n
    return jnp.einsum("hahb->ab", m.reshape(n, d, n, d))


def _kron_identity(m, n):
    import jax.numpy as jnp

    return jnp.kron(jnp.eye(int(n), dtype=m.dtype), m)


def _jax_functions() -> dict[str, Callable]:
    import jax.numpy as jnp

    return {
        "inv": _pd_inv,
        "sqrtm": _sqrtm_pd,
        "partial_trace": _partial_trace,
        "kron_identity": _kron_identity,
        "trace": jnp.trace,
        "eye": lambda n, dtype=None: jnp.eye(int(n), dtype=dtype or jnp.float64),
        "zeros": jnp.zeros,
        "array": jnp.asarray,
        "matmul": jnp.matmul,
        "transpose": jnp.transpose,
        "log": jnp.log,
        "exp": jnp.exp,
        "sqrt": jnp.sqrt,
        "abs": jnp.abs,
        "logdet": lambda m: 2.0 * jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(m)))),
        "det": jnp.linalg.det,
        "float64": jnp.float64,
    }


JAX_FUNCTIONS_NAMES = ("inv", "sqrtm", "partial_trace", "kron_identity", "trace", "eye", "zeros", "array",
                       "matmul", "transpose", "log", "exp", "sqrt", "abs", "logdet", "det", "float64")
"""Names the generated code may call; :func:`jax_functions` maps each to its JAX function
(``inv`` → Cholesky-based positive-definite inverse, ``sqrtm`` → eigh square root)."""

_ARRAY_METHODS = frozenset({"dot", "T"})


class JaxCodePrinter(JaxPrinter):
    """SymPy's JAX printer with unqualified names from :data:`JAX_FUNCTIONS_NAMES` and rules for
    Trace, Inverse, Identity, :class:`LinearOperator`, :class:`PDSqrt`."""

    def __init__(self, settings=None, operators: Mapping[str, str] | None = None):
        s = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False}
        s.update(settings or {})
        super().__init__(s)

    def _print_Trace(self, expr):
        return f"trace({self._print(expr.arg)})"

    def _print_Inverse(self, expr):
        return f"inv({self._print(expr.arg)})"

    def _print_MatPow(self, expr):
        if expr.exp == -1:
            return f"inv({self._print(expr.base)})"
        return super()._print_MatPow(expr)

    def _print_Identity(self, expr):
        return f"eye({self._print(expr.rows)})"

    def _print_ZeroMatrix(self, expr):
        return f"zeros(({self._print(expr.rows)}, {self._print(expr.cols)}))"

    def _print_PDSqrt(self, expr):
        return f"sqrtm({self._print(expr.arg)})"

    def _print_LinearOperator(self, expr):
        args = ", ".join(self._print(a) for a in expr.numeric_args())
        return f"{expr.numeric_name}({args})"

    def _print_PartialTrace(self, expr):
        return self._print_LinearOperator(expr)

    def _print_KronIdentity(self, expr):
        return self._print_LinearOperator(expr)

    def _print_log(self, expr):
        a = expr.args[0]
        if isinstance(a, sp.Determinant):
            return f"logdet({self._print(a.arg)})"
        return f"log({self._print(a)})"

    def _print_Determinant(self, expr):
        return f"det({self._print(expr.arg)})"

    def _print_ImmutableDenseMatrix(self, expr):
        rows = ", ".join("[" + ", ".join(self._print(expr[i, j]) for j in range(expr.cols)) + "]" for i in range(expr.rows))
        return f"array([{rows}])"

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix
    _print_Matrix = _print_ImmutableDenseMatrix


def jax_functions(extra: Mapping[str, Callable] | None = None) -> dict[str, Callable]:
    """The explicit name → JAX function mapping handed to ``lambdify`` (plus ``extra``)."""
    m = _jax_functions()
    m.update(extra or {})
    return m


def called_names(source: str) -> set[str]:
    """Names of all functions called by generated source (``f(...)``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute) and node.func.attr not in _ARRAY_METHODS:
                names.add(ast.unparse(node.func))
    return names


def check_jax_coverage(source: str, mapping: Mapping[str, Callable], allowed: Iterable[str] = ()) -> None:
    """Raise ``RuntimeError`` naming every function the generated source calls that has no JAX
    counterpart in ``mapping`` (``allowed``: extra names, e.g. the generated function itself)."""
    missing = sorted(called_names(source) - set(mapping) - set(allowed) - {"_lambdifygenerated"})
    if missing:
        raise RuntimeError(f"generated code calls functions without a JAX counterpart: {', '.join(missing)}")


def jax_function(args: Sequence[Any], expr: Any, *, extra: Mapping[str, Callable] | None = None,
                 printer: JaxCodePrinter | None = None) -> Callable:
    """``lambdify(args, expr)`` to JAX with the explicit mapping :func:`jax_functions`.

    ``args`` may nest (lists of symbols are unpacked from sequences).  The generated source is
    kept as ``fn.source`` and checked with :func:`check_jax_coverage` before returning.
    """
    mapping = jax_functions(extra)
    fn = sp.lambdify(args, expr, modules=[mapping], printer=printer or JaxCodePrinter(), cse=True, docstring_limit=0)
    src = inspect.getsource(fn)
    check_jax_coverage(src, mapping)
    fn.source = src
    return fn


# ==========================================================================================
# on-disk cache


def cache_dir() -> Path:
    """``$STATMECH_ATTN_CACHE`` if set, else ``~/.cache/statmech_attn/derivations``."""
    env = os.environ.get("STATMECH_ATTN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "statmech_attn" / "derivations"


def cache_key(problem: Mapping[str, Any], sources: Sequence[Any] = ()) -> str:
    """SHA-256 of the problem description (JSON, sorted keys), the SymPy version, this helper's
    version and the source text of ``sources`` (modules or functions building the derivation)."""
    h = hashlib.sha256()
    h.update(json.dumps(problem, sort_keys=True, default=str).encode())
    h.update(sp.__version__.encode())
    h.update(HELPER_VERSION.encode())
    h.update(Path(__file__).read_bytes())
    for s in sources:
        h.update(inspect.getsource(s).encode())
    return h.hexdigest()[:32]


def cached(problem: Mapping[str, Any], build: Callable[[], Any], *, sources: Sequence[Any] = (),
           use_cache: bool = True) -> tuple[Any, bool]:
    """``build()`` once per problem; later calls load the pickled result.

    Returns (result, hit) with ``hit`` True when the result came from the cache.  The file is
    ``cache_dir() / "<theory>-<key>.pkl"`` (``theory`` from ``problem`` if present).
    """
    key = cache_key(problem, sources)
    path = cache_dir() / f"{problem.get('theory', 'derivation')}-{key}.pkl"
    if use_cache and path.exists():
        try:
            with open(path, "rb") as f:
                return pickle.load(f), True
        except Exception:
            pass  # unreadable entry (other SymPy, truncated): recompute
    result = build()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except (OSError, pickle.PicklingError):
            pass  # a read-only cache never breaks a derivation
    return result, False


class Timer:
    """Context manager recording elapsed seconds in ``.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False
