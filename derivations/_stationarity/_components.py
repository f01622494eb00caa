"""Component-form building blocks: symmetric matrices of entry symbols and opaque functions.

An explicit symmetric ``ImmutableMatrix`` of entry symbols (:func:`symmetric_components`) is
differentiated entry by entry.  ``log det`` and the inverse of such a matrix are written with the
opaque functions :class:`LogDet` and :class:`InverseEntry` whose exact derivatives
(∂ ln det U/∂U_kl = (U⁻¹)_lk, ∂U⁻¹ = −U⁻¹ dU U⁻¹) are built in, so large matrices do not blow up
into explicit determinants; a function of a matrix whose gradient is known only numerically (an
energy term fed by data) is a :class:`MatrixFunction`.
"""

from __future__ import annotations

from typing import Any, Sequence

import sympy as sp


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


def _entry_after_two(args: tuple, argindex: int) -> tuple[int, int, int] | None:
    """For a function whose first two args are labels and the rest the upper triangle of an n×n
    symmetric matrix: (n, k, l) of the entry u_kl that argument ``argindex`` (1-based) is, or None
    for a label."""
    pos = argindex - 1
    if pos < 2:
        return None
    n = _n_of(len(args) - 2)
    return (n, *_pair(n, pos - 2))


class InverseEntry(sp.Function):
    """(U⁻¹)_{ij} of the symmetric matrix whose upper-triangle entries are the trailing args.

    ``InverseEntry(i, j, *upper(U))`` (0-based i, j).  Exact derivative with respect to an
    independent entry u_kl: −(V_ik V_lj + V_il V_kj) for k ≠ l, −V_ik V_kj for k = l (V = U⁻¹).
    """

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        entry = _entry_after_two(self.args, argindex)
        if entry is None:
            return sp.S.Zero
        _, k, l = entry
        entries = self.args[2:]
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
        entry = _entry_after_two(self.args, argindex)
        if entry is None:
            return sp.S.Zero
        n, k, l = entry
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
