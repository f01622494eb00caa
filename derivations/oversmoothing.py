"""The oversmoothing spectrum, derived with SymPy (docs/theories/oversmoothing.md).

* :func:`kronecker_identity` — for symbolic diagonalisable 2×2 A = P D_A P⁻¹ and H = Q D_H Q⁻¹,
  I + Hᵀ ⊗ A = S (I + D_H ⊗ D_A) S⁻¹ with S = Q⁻ᵀ ⊗ P (mixed-product rule, checked exactly), so
  its eigenvalues are 1 + λ_i(A) λ_j(H) with modes u_i w_jᵀ.
* :func:`uniform_mixing_ratio` — for A = (1 − a) I + (a/n) 11ᵀ and H = h I one layer maps
  LFC ↦ (1 + h) LFC and HFC ↦ (1 + (1 − a) h) HFC, so HFC/LFC changes by the factor
  q = (1 + (1 − a) h) / (1 + h) per layer; derived from the layer map for symbolic n.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

__all__ = ["kronecker_identity", "UniformMixing", "uniform_mixing_ratio", "latex_summary"]


@functools.lru_cache(maxsize=1)
def kronecker_identity() -> bool:
    """True when I + Hᵀ ⊗ A is similar to diag(1 + λ_i(A) λ_j(H)) for generic diagonalisable 2×2 A, H.

    With A = P D_A P⁻¹ and H = Q D_H Q⁻¹ (symbolic P, Q, eigenvalues), the mixed-product rule gives
    Hᵀ ⊗ A = S (D_H ⊗ D_A) S⁻¹ with S = Q⁻ᵀ ⊗ P and S⁻¹ = Qᵀ ⊗ P⁻¹; SymPy checks both products
    entry by entry, so the eigenvalues are the diagonal 1 + λ_i(A) λ_j(H) and the eigenvectors
    (columns of S, i.e. vec(u_i w_jᵀ)) are the matrix modes u_i w_jᵀ.
    """
    p = sp.Matrix(2, 2, sp.symbols("p0:4"))
    q = sp.Matrix(2, 2, sp.symbols("q0:4"))
    la = sp.symbols("la1 la2")
    lh = sp.symbols("lh1 lh2")
    d_a, d_h = sp.diag(*la), sp.diag(*lh)
    a = p * d_a * p.inv()
    h = q * d_h * q.inv()
    s_mat = sp.kronecker_product(q.inv().T, p)
    s_inv = sp.kronecker_product(q.T, p.inv())
    inverse_ok = all(sp.simplify(e) == 0 for e in (s_mat * s_inv - sp.eye(4)))
    similar = all(sp.simplify(e) == 0
                  for e in (s_mat * sp.kronecker_product(d_h, d_a) * s_inv - sp.kronecker_product(h.T, a)))
    diag = sp.eye(4) + sp.kronecker_product(d_h, d_a)
    expected = [1 + la[i] * lh[j] for j in range(2) for i in range(2)]
    return bool(inverse_ok and similar and all(sp.expand(diag[k, k] - expected[k]) == 0 for k in range(4)))


@dataclasses.dataclass(frozen=True)
class UniformMixing:
    """Per-layer factors of the uniform-mixing stack.

    Attributes:
        lfc_factor: 1 + h.   hfc_factor: 1 + (1 − a) h.   ratio_factor: q = hfc/lfc.
        verified: the layer map applied to a symbolic LFC and HFC gives exactly these factors.
    """

    a: sp.Symbol
    h: sp.Symbol
    lfc_factor: sp.Expr
    hfc_factor: sp.Expr
    ratio_factor: sp.Expr
    verified: bool


@functools.lru_cache(maxsize=1)
def uniform_mixing_ratio(n: int = 3) -> UniformMixing:
    """Derive the LFC and HFC growth of one layer for A = (1−a)I + (a/n)11ᵀ, H = hI (n tokens, d = 1)."""
    a, h = sp.symbols("a h", real=True)
    ones = sp.ones(n, n)
    big_a = (1 - a) * sp.eye(n) + a / n * ones
    x = sp.Matrix(sp.symbols(f"x0:{n}"))
    lfc = ones * x / n
    hfc = x - lfc
    step = lambda v: v + big_a * v * h
    lfc_f = sp.simplify((step(lfc))[0] / lfc[0])
    hfc_f = sp.simplify((step(hfc))[0] / hfc[0])
    ok = (sp.simplify(step(lfc) - (1 + h) * lfc) == sp.zeros(n, 1)
          and sp.simplify(step(hfc) - (1 + (1 - a) * h) * hfc) == sp.zeros(n, 1))
    return UniformMixing(a, h, lfc_f, hfc_f, sp.simplify(hfc_f / lfc_f), bool(ok))


def latex_summary() -> str:
    """LaTeX lines for ``statmech-attn derive oversmoothing``."""
    u = uniform_mixing_ratio()
    k = kronecker_identity()
    return "\n".join([
        r"\mathrm{vec}(X_{\ell+1}) = (I + H^\top \otimes A)\,\mathrm{vec}(X_\ell)",
        r"\operatorname{spec}(I + H^\top\otimes A) = \{1 + \lambda_i(A)\lambda_j(H)\}"
        + (r"\quad\text{(verified for generic } 2\times 2\text{)}" if k else r"\quad\text{(NOT verified)}"),
        r"A = (1-a)I + \tfrac{a}{n}\mathbf{1}\mathbf{1}^\top,\ H = hI:\quad "
        r"\mathrm{LFC} \mapsto \left(" + sp.latex(u.lfc_factor) + r"\right)\mathrm{LFC},\quad \mathrm{HFC} \mapsto \left("
        + sp.latex(u.hfc_factor) + r"\right)\mathrm{HFC}",
        r"\frac{\mathrm{HFC}}{\mathrm{LFC}}(L) = \frac{\mathrm{HFC}}{\mathrm{LFC}}(0)\left(" + sp.latex(u.ratio_factor)
        + r"\right)^L" + (r"\quad\text{(verified)}" if u.verified else r"\quad\text{(NOT verified)}"),
    ])
