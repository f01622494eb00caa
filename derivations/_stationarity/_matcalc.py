"""Matrix calculus: differentials, gradients with respect to (symmetric) matrices, tidying.

Gradients with respect to a symmetric matrix follow one convention everywhere: the matrix D
with D_kl = ∂F/∂X_kl treating all N² entries as independent and then symmetrised,
(D + Dᵀ)/2.  In components this is ∂F/∂u_kk on the diagonal and ½ ∂F/∂u_kl off it (u_kl the
independent entry).  It equals the symmetrised gradient of a numeric F(X) from JAX autodiff.
Matrix form: the rule Tr(P dX) ↦ ∂/∂X = Pᵀ applied to the differential (:func:`matrix_gradient`).
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp
from sympy.matrices.expressions import MatrixExpr
from sympy.matrices.expressions.matexpr import MatrixElement

from ._operators import LinearOperator, SymmetricMatrixSymbol, UnsupportedExpression


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
