"""Matrix symbols and linear operators of the matrix form.

A :class:`SymmetricMatrixSymbol` is a ``MatrixSymbol`` that knows Xᵀ = X.  **Linear operators**
on matrices carry their adjoint under ⟨A, B⟩ = Tr(Aᵀ B) (which is all matrix calculus needs):
:class:`PartialTrace` (tr_n, contract the outer index of size n), :class:`KronIdentity` (I_n ⊗ X,
its adjoint) and subclasses of :class:`LinearOperator` that a theory defines (the attention-path
kernel K(U) = Σ_i X̃_i U X̃_iᵀ is one).  :class:`PDSqrt` is the principal square root of a
positive-definite matrix (used by closed-form fixed points).
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions import MatrixExpr


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


def _scalar_times_identity(a):
    if isinstance(a, sp.Identity):
        return sp.S.One
    if isinstance(a, sp.MatMul):
        coeff, mats = a.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], sp.Identity):
            return coeff
    return None
