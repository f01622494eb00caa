"""Attention-path saddle-point equations, derived with SymPy (docs/theories/paths.md).

For an architecture (L layers, H_ℓ heads per layer, a readout) this module builds the action

    S(U) = [ E(U₁) + S_ent(U_a, U_L, …, U₁) ] / N_max
    E     = ln det(K(U₁) + T I_P) + Yᵀ (K(U₁) + T I_P)⁻¹ Y,      K(U₁) = Σ_i X̃_i U₁ X̃_iᵀ
    S_ent = N_a (U_a/σ_a² − ln U_a) + N_L (Tr U_L/(U_a σ_L²) − ln det U_L + H_L ln U_a)
          + Σ_{ℓ<L} N_ℓ ( Tr(U_{ℓ+1}⁻¹ tr_{h_ℓ} U_ℓ)/σ_ℓ² − ln det U_ℓ + H_ℓ ln det U_{ℓ+1} )

from symbols and derives ∂S/∂U_ℓ = 0 (ℓ = 1..L) and ∂S/∂U_a = 0 in two forms:

* **matrix form** — U_ℓ are symmetric ``MatrixSymbol``s whose sizes are products of symbolic
  head counts H_ℓ; trace, log-determinant, inverse, the partial trace over a layer's head index
  and the kernel map K(·) are explicit operations, differentiated by matrix calculus
  (:mod:`statmech_attn.derivations._stationarity`).  Each condition is brought to a fixed-point form: U₁ =
  [(I ⊗ U₂⁻¹)/σ₁² + Ω(U₁)/N₁]⁻¹ (linear in U₁⁻¹, Ω evaluated at the iterate), and for ℓ ≥ 2 the
  positive-definite root of the matrix quadratic U A U + c U + Q = 0 (closed form with matrix
  square roots), U_a the positive root of its quadratic.
* **component form** — for the concrete (L, H): every independent entry u_{ℓij} of U_ℓ is a
  symbol and SymPy differentiates the scalar action entry by entry; ln det and the inverse are
  opaque functions with their exact derivative rules (so an 8×8 U₁ does not expand into a
  40320-term determinant), and the data term E(U₁) is an opaque function whose gradient is the
  symbol matrix Ω (computed numerically from the matrix-form expression).

The readout (mean / first / last token) changes only the path-augmented inputs X̃ (§3), not
the action's form; it is part of the cache key and stated in the output.  Derivations are cached
on disk as JSON (:func:`statmech_attn.derivations._stationarity.cached`), keyed by (L, heads, readout,
form).

Numbers: :func:`numeric` turns a derivation into JAX callables over the same order-parameter
structure as :mod:`statmech_attn.paths` (U a tuple, layer 1 first): the gradient of the action,
the fixed-point map U ↦ F(U), the readout closed form U_a(U_L) and Ω(U₁) (built in
:mod:`statmech_attn.derivations._paths_numeric`, re-exported here).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Sequence

import sympy as sp

from . import _stationarity as st
from ._paths_numeric import NUMERIC_OPERATORS as NUMERIC_OPERATORS
from ._paths_numeric import NumericPaths as NumericPaths
from ._paths_numeric import numeric as numeric
from ._stationarity import (
    LinearOperator,
    OrderParameter,
    PartialTrace,
    SymmetricMatrixSymbol,
)

READOUTS: tuple[str, ...] = ("mean", "first", "last")
FORMS: tuple[str, ...] = ("matrix", "components")
_READOUT_TEXT = {
    "mean": r"average pooling, $a^{L,h}_s = \frac{1}{S}\sum_t A^{L,h}_{st}$",
    "first": r"first token, $a^{L,h}_s = A^{L,h}_{s1}$",
    "last": r"last token, $a^{L,h}_s = A^{L,h}_{sS}$",
}


def _input_error(param: str, value: Any, allowed: str) -> Exception:
    from statmech_attn.errors import InputError

    return InputError(param, value, allowed)


@dataclasses.dataclass(frozen=True)
class Architecture:
    """The part of the model that shapes the equations: heads (H_1, …, H_L) and the readout."""

    heads: tuple[int, ...]
    readout: str = "last"

    def __post_init__(self) -> None:
        heads = tuple(self.heads)
        if len(heads) == 0:
            raise _input_error("layers", 0, "must be >= 1 (at least one attention layer)")
        for h in heads:
            if not isinstance(h, int) or isinstance(h, bool) or h < 1:
                raise _input_error("heads", list(heads), "every head count must be an integer >= 1")
        object.__setattr__(self, "heads", heads)
        if self.readout not in READOUTS:
            raise _input_error("readout", self.readout, "must be one of 'mean', 'first', 'last'")

    @property
    def n_layers(self) -> int:
        return len(self.heads)

    @property
    def path_dims(self) -> tuple[int, ...]:
        """(D_1, …, D_L), D_ℓ = H_ℓ ⋯ H_L."""
        return tuple(math.prod(self.heads[l:]) for l in range(self.n_layers))

    @property
    def key(self) -> str:
        return f"paths-L{self.n_layers}-H{'x'.join(map(str, self.heads))}-{self.readout}"


# ------------------------------------------------------------------------------------------
# the kernel map and its adjoint


class PathKernel(LinearOperator):
    """K(U) = Σ_{i=1}^{N₀} X̃_i U X̃_iᵀ (P × P), X̃_i = X̃[:, i, :] ∈ R^{P×H_tot}.

    Adjoint: Tr(M K(U)) = Tr(K*(M) U) with K*(M) = Σ_i X̃_iᵀ M X̃_i (:class:`PathKernelAdjoint`).
    """

    numeric_name = "path_kernel"

    def __new__(cls, arg, xt, p):
        return sp.Basic.__new__(cls, sp.sympify(arg), xt, sp.sympify(p))

    @property
    def shape(self):
        return (self.args[2], self.args[2])

    def adjoint_of(self, m):
        return PathKernelAdjoint(m, self.args[1], self.arg.shape[0])

    def numeric_args(self):
        return (self.arg, self.args[1])

    def _eval_transpose(self):
        return PathKernel(self.arg.T, self.args[1], self.args[2])

    def _latex(self, printer):
        x = printer._print(self.args[1])
        return r"\sum_{i=1}^{N_0} %s_i %s %s_i^{\top}" % (x, printer._print(self.arg), x)

    def _sympystr(self, printer):
        return "K(%s)" % printer._print(self.arg)


class PathKernelAdjoint(LinearOperator):
    """K*(M) = Σ_{i=1}^{N₀} X̃_iᵀ M X̃_i (H_tot × H_tot), the adjoint of :class:`PathKernel`."""

    numeric_name = "path_kernel_adjoint"

    def __new__(cls, arg, xt, d):
        return sp.Basic.__new__(cls, sp.sympify(arg), xt, sp.sympify(d))

    @property
    def shape(self):
        return (self.args[2], self.args[2])

    def adjoint_of(self, m):
        return PathKernel(m, self.args[1], self.arg.shape[0])

    def numeric_args(self):
        return (self.arg, self.args[1])

    def _eval_transpose(self):
        return PathKernelAdjoint(self.arg.T, self.args[1], self.args[2])

    def _latex(self, printer):
        x = printer._print(self.args[1])
        return r"\sum_{i=1}^{N_0} %s_i^{\top} \left(%s\right) %s_i" % (x, printer._print(self.arg), x)

    def _sympystr(self, printer):
        return "K*(%s)" % printer._print(self.arg)


# ------------------------------------------------------------------------------------------
# symbols


@dataclasses.dataclass(frozen=True)
class Symbols:
    """The scalar and matrix symbols of the action (paper notation).

    widths N_ℓ (``N``), N_a, prior standard deviations σ_ℓ, σ_a (variances σ² appear squared),
    temperature T, N_max, readout order parameter U_a, number of examples P, head counts H_ℓ
    (symbols in matrix form), labels Y (P × 1), path-augmented inputs X̃ (``xt``).
    """

    N: tuple
    N_a: sp.Symbol
    sigma: tuple
    sigma_a: sp.Symbol
    T: sp.Symbol
    N_max: sp.Symbol
    U_a: sp.Symbol
    P: sp.Symbol
    H: tuple
    Y: sp.MatrixSymbol
    xt: sp.Symbol

    @classmethod
    def make(cls, L: int, heads: Sequence[Any]) -> "Symbols":
        pos = dict(positive=True)
        P = sp.Symbol("P", integer=True, positive=True)
        return cls(
            N=tuple(sp.Symbol(f"N_{l}", **pos) for l in range(1, L + 1)),
            N_a=sp.Symbol("N_a", **pos),
            sigma=tuple(sp.Symbol(f"sigma_{l}", **pos) for l in range(1, L + 1)),
            sigma_a=sp.Symbol("sigma_a", **pos),
            T=sp.Symbol("T", **pos),
            N_max=sp.Symbol("N_max", **pos),
            U_a=sp.Symbol("U_a", **pos),
            P=P,
            H=tuple(heads),
            Y=sp.MatrixSymbol("Y", P, 1),
            xt=sp.Symbol("Xtilde"),
        )


# ------------------------------------------------------------------------------------------
# the derivation


@dataclasses.dataclass(frozen=True)
class PathsDerivation:
    """Result of :func:`derive_paths`.

    Attributes:
        architecture: heads and readout.
        form: ``matrix`` or ``components``.
        symbols: the :class:`Symbols`.
        U: the order-parameter symbols, layer 1 first (MatrixSymbols or component matrices).
        inverse: component form: the symbol matrices v_ℓ standing for U_ℓ⁻¹ (else empty).
        omega: component form: the symbol matrix Ω (energy gradient); matrix form: the derived
            expression Ω(U₁) = ∂E/∂U₁.
        free_energy: the action S.
        conditions: one :class:`~statmech_attn.derivations._stationarity.Condition` per U_ℓ (layer 1 first),
            then U_a.
        abbreviations: (expression, symbol, meaning) used in the LaTeX output.
        seconds: wall time of the derivation when it was computed.
        cache_hit: True when loaded from the on-disk cache.
    """

    architecture: Architecture
    form: str
    symbols: Symbols
    U: tuple
    inverse: tuple
    omega: Any
    free_energy: Any
    conditions: tuple
    abbreviations: tuple
    seconds: float
    cache_hit: bool = False

    @property
    def readout_condition(self):
        return self.conditions[-1]

    def latex(self) -> str:
        """The standalone LaTeX fragment (symbols, action, numbered conditions, fixed points)."""
        a = self.architecture
        sy = self.symbols
        title = (f"Attention-path saddle-point equations: L = {a.n_layers}, heads = {list(a.heads)}, "
                 f"readout = {a.readout}, {self.form} form")
        defs = [
            (r"P", "number of training examples"),
            (r"Y \in \mathbb{R}^{P}", "training labels"),
            (r"\tilde{X}_i \in \mathbb{R}^{P \times H_{\mathrm{tot}}}",
             r"path-augmented inputs, $\tilde{X}^{\mu}_{i\pi} = \sqrt{\sigma_0^2/(N_0 H_{\mathrm{tot}})}\sum_s x^{\mu}_{is} a^{\pi}_s$, "
             r"$i = 1..N_0$, paths $\pi = (h_1..h_L)$ with $h_1$ slowest; readout: " + _READOUT_TEXT[a.readout]),
            (r"T", "temperature (likelihood variance)"),
            (r"N_{\ell},\ N_{a}", r"input width of layer $\ell$, readout width; $N_{max} = \max(N_1..N_L, N_a)$"),
            (r"\sigma_{\ell}^2,\ \sigma_{a}^2", r"prior variances of the value weights of layer $\ell$ and of the readout"),
            (r"H_{\ell}", "heads of layer $\\ell$: " + ", ".join(f"$H_{{{l + 1}}} = {h}$" for l, h in enumerate(a.heads))),
            (r"\operatorname{tr}_{h_\ell}", r"partial trace over the head index $h_\ell$ (the outer index of $U_\ell$)"),
            (r"\mathbb{I}_n \otimes M", r"block-diagonal matrix with $n$ copies of $M$ (Kronecker product, head index outer)"),
        ]
        if self.form == "components":
            defs += [
                (r"u_{\ell i j}", r"independent entry $(i, j)$ of $U_\ell$ ($i \le j$; $u_{\ell ji} = u_{\ell ij}$)"),
                (r"v_{\ell i j}", r"entry $(i, j)$ of $U_\ell^{-1}$"),
                (r"E(U_1)", r"$\ln\det(K + T\mathbb{I}_P) + Y^\top (K + T \mathbb{I}_P)^{-1} Y$, $K = \sum_i \tilde X_i U_1 \tilde X_i^\top$"),
                (r"\Omega_{ij}", r"entry $(i, j)$ of $\Omega = \partial E/\partial U_1$ (matrix form of the same derivation)"),
            ]
        for expr, sym, meaning in self.abbreviations:
            defs.append((f"{st.latex(sym)} = {st.latex(self._definition(expr, sym))}", meaning))
        conds = [dataclasses.replace(c, equation=_abbreviate(c.equation, self.abbreviations),
                                     fixed_point=_abbreviate(c.fixed_point, self.abbreviations)) for c in self.conditions]
        notes = [
            "Conditions are N_max * dS/dq = 0; matrix derivatives are symmetrised, d/dU_kl treating U_kl, U_lk as one entry.",
            "U_a is eliminated in closed form; by the envelope theorem dS/dU_L = partial S/partial U_L at U_a(U_L).",
        ]
        if self.form == "matrix":
            fe, fe_abbrev = self.free_energy, self.abbreviations
        else:  # the component action holds opaque ln det / inverse functions: show the matrix form
            md = derive_paths(a.heads, a.readout, form="matrix")
            fe, fe_abbrev = md.free_energy, md.abbreviations
            notes.append("The free energy is shown in matrix form; the conditions differentiate it entry by entry.")
        return st.to_latex(conds, key=a.key, title=title, definitions=defs,
                           free_energy=_abbreviate(fe, fe_abbrev), free_energy_lhs="S", notes=notes)

    def _definition(self, expr, sym):
        """The right-hand side of an abbreviation, written with the other abbreviations; an
        operator sum is shown with a positive outer sign (K*(−A) → −K*(A) flipped back)."""
        rhs = _abbreviate(expr, self.abbreviations, skip=sym)
        if isinstance(rhs, sp.MatMul):
            coeff, mats = rhs.as_coeff_matrices()
            if coeff == -1 and len(mats) == 1 and isinstance(mats[0], LinearOperator):
                op = mats[0]
                inner = op.arg.args if isinstance(op.arg, sp.MatAdd) else (op.arg,)
                rhs = op.with_arg(sp.MatAdd(*[-t for t in inner], evaluate=False) if len(inner) > 1 else -inner[0])
        return rhs

    def text(self) -> str:
        """Plain-text (SymPy ``pretty``) rendering of the conditions and fixed-point forms."""
        a = self.architecture
        out = [f"attention paths: L = {a.n_layers}, heads = {list(a.heads)}, readout = {a.readout}, {self.form} form",
               f"derived in {self.seconds:.2f} s" + (" (loaded from cache)" if self.cache_hit else ""), ""]
        for expr, sym, meaning in self.abbreviations:
            out.append(f"{sym} = {sp.sstr(self._definition(expr, sym))}    ({meaning})")
        if self.abbreviations:
            out.append("")
        for c in self.conditions:
            name = c.parameter.label
            if self.form == "components" and c.parameter.kind == "components":
                m = c.parameter.symbol
                for i in range(m.shape[0]):
                    for j in range(i, m.shape[0]):
                        out.append(f"N_max dS/d{m[i, j]}: {sp.sstr(c.equation[i, j])} = 0")
            else:
                out.append(f"N_max dS/d{name} = 0:")
                out.append(sp.pretty(_abbreviate(c.equation, self.abbreviations), use_unicode=True, wrap_line=False))
            if c.fixed_point is not None:
                out.append(f"fixed-point form: {name} =")
                out.append(sp.pretty(_abbreviate(c.fixed_point, self.abbreviations), use_unicode=True, wrap_line=False))
            if c.note:
                out.append(f"  [{c.note}]")
            out.append("")
        return "\n".join(out)


def _abbreviate(expr, abbreviations, skip=None):
    if expr is None:
        return None
    for full, sym, _ in abbreviations:
        if sym == skip:
            continue
        reps = {full: sym}
        if isinstance(full, sp.MatMul):  # c·𝒜(M): also replace the bare 𝒜(M) by sym / c
            coeff, mats = full.as_coeff_matrices()
            if len(mats) == 1:
                reps[mats[0]] = sym / coeff
        new = expr.xreplace(reps)
        if new != expr:
            expr = new.doit() if isinstance(new, sp.matrices.expressions.MatrixExpr) else new
    return expr


def derive_paths(heads: Sequence[int], readout: str = "last", *, form: str = "matrix",
                 use_cache: bool = True) -> PathsDerivation:
    """Derive the saddle-point equations of the architecture (cached on disk).

    Raises ``InputError`` for no layer, a head count < 1, an unknown readout or form.
    """
    arch = Architecture(tuple(heads), readout)
    if form not in FORMS:
        raise _input_error("form", form, "must be 'matrix' or 'components'")
    problem = {"theory": "paths", "heads": list(arch.heads), "readout": arch.readout, "form": form}
    builder = _derive_matrix if form == "matrix" else _derive_components
    result, hit = st.cached(problem, functools.partial(builder, arch), sources=[_module_self()],
                            types=_CACHE_TYPES, use_cache=use_cache)
    return dataclasses.replace(result, cache_hit=hit)


_CACHE_TYPES = (Architecture, Symbols, PathsDerivation, PathKernel, PathKernelAdjoint)


def _module_self():
    import sys

    return sys.modules[__name__]


def _entropy_matrix(U, sy: Symbols, Hs) -> Any:
    L = len(U)
    s = sy.N_a * (sy.U_a / sy.sigma_a**2 - sp.log(sy.U_a))
    s += sy.N[-1] * (sp.Trace(U[-1]) / (sy.U_a * sy.sigma[-1] ** 2) - sp.log(sp.Determinant(U[-1])) + Hs[-1] * sp.log(sy.U_a))
    for l in range(L - 1):
        pt = PartialTrace(U[l], Hs[l], sp.Symbol(f"h_{l + 1}"))
        s += sy.N[l] * (sp.Trace(sp.Inverse(U[l + 1]) * pt) / sy.sigma[l] ** 2 - sp.log(sp.Determinant(U[l]))
                        + Hs[l] * sp.log(sp.Determinant(U[l + 1])))
    return s


def _energy_matrix(u1, sy: Symbols):
    a = PathKernel(u1, sy.xt, sy.P) + sy.T * sp.Identity(sy.P)
    return sp.log(sp.Determinant(a)) + sp.Trace(sy.Y.T * sp.Inverse(a) * sy.Y)


def _derive_matrix(arch: Architecture) -> PathsDerivation:
    with st.Timer() as t:
        L = arch.n_layers
        Hs = tuple(sp.Symbol(f"H_{l}", integer=True, positive=True) for l in range(1, L + 1))
        sy = Symbols.make(L, Hs)
        U = tuple(SymmetricMatrixSymbol(f"U_{l + 1}", sp.Mul(*Hs[l:]), sp.Mul(*Hs[l:])) for l in range(L))
        energy = _energy_matrix(U[0], sy)
        S = (energy + _entropy_matrix(U, sy, Hs)) / sy.N_max
        params = [OrderParameter(U[l], _u_description(l, L), f"U_{l + 1}") for l in range(L)]
        params.append(OrderParameter(sy.U_a, r"readout order parameter, $\approx \|a\|^2/N_a$", "U_a"))
        conds = st.derive(S, params, normalisation=sy.N_max)
        omega = st.matrix_gradient(energy, U[0])
        g = sp.Inverse(PathKernel(U[0], sy.xt, sy.P) + sy.T * sp.Identity(sy.P))
        G = sp.MatrixSymbol("G", sy.P, sy.P)
        Om = SymmetricMatrixSymbol("Omega", U[0].shape[0], U[0].shape[0])
        K = sp.MatrixSymbol("K", sy.P, sy.P)
        # Ω as it appears in the U₁ condition (same operator, sign normalised for display)
        omega_display = next((t for t in (conds[0].equation.args if isinstance(conds[0].equation, sp.MatAdd) else ())
                              if isinstance(t, PathKernelAdjoint)), omega)
        abbreviations = (
            (omega_display, Om, r"$\partial E/\partial U_1$, the energy gradient (depends on $U_1$ through $G$)"),
            (g, G, r"$(K + T \mathbb{I}_P)^{-1}$"),
            (PathKernel(U[0], sy.xt, sy.P), K, r"renormalised kernel $K(U_1)$"),
        )
    return PathsDerivation(arch, "matrix", sy, U, (), omega, S, conds, abbreviations, t.seconds)


def _u_description(l: int, L: int) -> str:
    return (rf"order parameter of layer {l + 1}: overlap of the partial effective weights over partial paths "
            rf"$(h_{{{l + 1}}}, \dots, h_{{{L}}})$, symmetric positive definite")


def _derive_components(arch: Architecture) -> PathsDerivation:
    with st.Timer() as t:
        L = arch.n_layers
        hs = arch.heads
        dims = arch.path_dims
        sy = Symbols.make(L, hs)
        U = tuple(st.symmetric_components("u", d, prefix=str(l + 1)) for l, d in enumerate(dims))
        V = tuple(st.symmetric_components("v", d, prefix=str(l + 1)) for l, d in enumerate(dims))
        Uinv = tuple(st.inverse_components(u) for u in U)
        omega = st.symmetric_components(r"\Omega", dims[0])
        energy = st.MatrixFunction(sp.Symbol("E(U_1)"), sp.Symbol(r"\Omega"), *st._upper(U[0]))
        s = sy.N_a * (sy.U_a / sy.sigma_a**2 - sp.log(sy.U_a))
        s += sy.N[-1] * (U[-1].trace() / (sy.U_a * sy.sigma[-1] ** 2) - st.logdet_components(U[-1]) + hs[-1] * sp.log(sy.U_a))
        for l in range(L - 1):
            d = dims[l + 1]
            pt = sp.Matrix(d, d, lambda a, b: sum(U[l][h * d + a, h * d + b] for h in range(hs[l])))
            tr = sum(Uinv[l + 1][a, b] * pt[b, a] for a in range(d) for b in range(d))
            s += sy.N[l] * (tr / sy.sigma[l] ** 2 - st.logdet_components(U[l]) + hs[l] * st.logdet_components(U[l + 1]))
        S = (energy + s) / sy.N_max
        params = [OrderParameter(U[l], _u_description(l, L), f"U_{l + 1}") for l in range(L)]
        params.append(OrderParameter(sy.U_a, r"readout order parameter, $\approx \|a\|^2/N_a$", "U_a"))
        conds = st.derive(S, params, normalisation=sy.N_max)

        def sub(e):
            if e is None:
                return None
            for u, v in zip(U, V):
                e = st.inverse_symbols(e, u, v)
            return e

        conds = tuple(dataclasses.replace(c, gradient=sub(c.gradient), equation=sub(c.equation), fixed_point=sub(c.fixed_point))
                      for c in conds)
    return PathsDerivation(arch, "components", sy, U, V, omega, S, conds, (), t.seconds)
