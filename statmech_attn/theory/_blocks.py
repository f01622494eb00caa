"""Numeric building blocks that may appear inside a SymPy free energy.

Each block is an unevaluated SymPy expression that knows its own derivatives, so the stationarity
conditions of a free energy that contains it are derived symbolically like any other term; the
numbers are computed when the theory is compiled to JAX (:mod:`._compile`).

- :class:`GaussianExpectation` — E_ξ[f(ξ)] over ξ ~ N(0, I_r) (Gauss–Hermite product rule);
  d/ds E[f] = E[∂f/∂s] (differentiation under the integral).
- :class:`MoreauEnvelope` — M(ω, V) = min_z [‖z − ω‖²/(2V) + ℓ(z)] of a user-given loss ℓ;
  envelope theorem: ∂M/∂ω = (ω − z*)/V, ∂M/∂V = −‖z* − ω‖²/(2V²), ∂M/∂θ = ∂ℓ/∂θ(z*).
- :class:`Proximal` — component i of z* = prox_{Vℓ}(ω) (solved by Newton when compiled);
  for a scalar z the implicit-function derivative dz*/ds = −(∂g/∂s)/(∂g/∂z) with
  g = (z − ω)/V + ℓ'(z) is symbolic too.
- :class:`SpectralMean` / :class:`SpectralSum` — (1/P) Σ_i f(ω_i, t_i) or Σ_i f(...) over a
  spectrum given as arrays (``Theory.spectrum``): traces and log-determinants of functions of a
  covariance, e.g. log det(λ + V̂Ω) = Σ_i log(λ + V̂ω_i).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = [
    "GaussianExpectation",
    "MoreauEnvelope",
    "Proximal",
    "SpectralMean",
    "SpectralSum",
    "BLOCKS",
    "gaussian_expectation",
    "moreau_envelope",
    "proximal",
    "spectral_mean",
    "spectral_sum",
    "log_det",
]


def _symbols(z: Any) -> tuple[sp.Symbol, ...]:
    zs = tuple(z) if isinstance(z, (list, tuple, sp.Tuple)) else (z,)
    for s in zs:
        if not isinstance(s, sp.Symbol):
            raise TypeError(f"expected SymPy symbols, got {s!r}")
    return zs


def _exprs(w: Any) -> tuple[sp.Expr, ...]:
    return tuple(sp.sympify(v) for v in (w if isinstance(w, (list, tuple, sp.Tuple)) else (w,)))


class _Block(sp.Expr):
    is_commutative = True


class GaussianExpectation(_Block):
    """E_ξ[integrand] over ξ = (ξ_1..ξ_r) ~ N(0, I_r); args ``(integrand, variables, order)``.

    ``order`` is the number of Gauss–Hermite nodes per dimension (0: the theory's
    ``cubature_order``).
    """

    def __new__(cls, integrand: Any, variables: Any, order: Any = 0) -> sp.Expr:
        integrand = sp.sympify(integrand)
        variables = sp.Tuple(*_symbols(variables))
        if not integrand.has(*variables):
            return integrand  # E[c] = c
        return sp.Expr.__new__(cls, integrand, variables, sp.Integer(int(order)))

    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[1])

    @property
    def order(self) -> int:
        return int(self.args[2])

    @property
    def free_symbols(self) -> set:
        return self.integrand.free_symbols - set(self.variables)

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        return GaussianExpectation(self.integrand.diff(s), self.variables, self.order)

    def _latex(self, printer: Any) -> str:
        sub = ",".join(printer._print(v) for v in self.variables)
        return r"\mathbb{E}_{" + sub + r"}\left[" + printer._print(self.integrand) + r"\right]"

    def _sympystr(self, printer: Any) -> str:
        sub = ",".join(printer._print(v) for v in self.variables)
        return f"E_{{{sub}}}[{printer._print(self.integrand)}]"


class _ProximalProblem(_Block):
    """The arguments (loss, z, omega, V) of a proximal problem, from position ``_at`` of ``args``."""

    _at = 0

    @property
    def loss(self) -> sp.Expr:
        return self.args[self._at]

    @property
    def z(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[self._at + 1])

    @property
    def omega(self) -> tuple[sp.Expr, ...]:
        return tuple(self.args[self._at + 2])

    @property
    def V(self) -> sp.Expr:
        return self.args[self._at + 3]

    @property
    def free_symbols(self) -> set:
        out = self.loss.free_symbols - set(self.z)
        for w in self.omega:
            out |= w.free_symbols
        return out | self.V.free_symbols


class MoreauEnvelope(_ProximalProblem):
    """M = min_z [‖z − ω‖²/(2V) + ℓ(z)]; args ``(loss, z, omega, V)`` (z symbols, omega expressions)."""

    def __new__(cls, loss: Any, z: Any, omega: Any, V: Any) -> sp.Expr:
        zs, ws = _symbols(z), _exprs(omega)
        if len(zs) != len(ws):
            raise ValueError("z and omega must have the same length")
        return sp.Expr.__new__(cls, sp.sympify(loss), sp.Tuple(*zs), sp.Tuple(*ws), sp.sympify(V))

    def prox(self) -> list[sp.Expr]:
        """The components of the proximal point z*."""
        return [Proximal(i, *self.args) for i in range(len(self.z))]

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        zs = self.prox()
        V = self.V
        out = sp.Integer(0)
        for zi, wi in zip(zs, self.omega):
            out += (wi - zi) / V * wi.diff(s)
        out -= sum(((zi - wi) ** 2 for zi, wi in zip(zs, self.omega)), sp.Integer(0)) / (2 * V ** 2) * V.diff(s)
        if s not in self.z:
            out += self.loss.diff(s).xreplace(dict(zip(self.z, zs)))
        return out

    def _latex(self, printer: Any) -> str:
        w = ",".join(printer._print(v) for v in self.omega)
        return (r"\mathcal{M}_{" + printer._print(self.V) + r"}\left[" + printer._print(self.loss) + r"\right]("
                + w + ")")

    def _sympystr(self, printer: Any) -> str:
        w = ", ".join(printer._print(v) for v in self.omega)
        z = ", ".join(printer._print(v) for v in self.z)
        return f"Moreau[{printer._print(self.loss)}; {z}]({w}; V={printer._print(self.V)})"


class Proximal(_ProximalProblem):
    """Component ``index`` of z* = argmin_z [‖z − ω‖²/(2V) + ℓ(z)]; args ``(index, loss, z, omega, V)``."""

    def __new__(cls, index: Any, loss: Any, z: Any, omega: Any, V: Any) -> sp.Expr:
        zs, ws = _symbols(z), _exprs(omega)
        return sp.Expr.__new__(cls, sp.Integer(int(index)), sp.sympify(loss), sp.Tuple(*zs), sp.Tuple(*ws),
                               sp.sympify(V))

    _at = 1

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def key(self) -> tuple:
        """What identifies the proximal problem (shared by its components)."""
        return self.args[1:]

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr | None:
        if len(self.z) != 1:
            return None  # vector case: left unevaluated (JAX differentiates it implicitly)
        z, w, V = self.z[0], self.omega[0], self.V
        zs = self
        lp = self.loss.diff(z)
        dg_dz = (1 / V + lp.diff(z)).xreplace({z: zs})
        dg_ds = -w.diff(s) / V - (zs - w) * V.diff(s) / V ** 2
        if s != z:
            dg_ds += lp.diff(s).xreplace({z: zs})
        return -dg_ds / dg_dz

    def _latex(self, printer: Any) -> str:
        w = ",".join(printer._print(v) for v in self.omega)
        sub = f"_{{{self.index}}}" if len(self.z) > 1 else ""
        return (r"\mathrm{prox}_{" + printer._print(self.V) + r"\,[" + printer._print(self.loss) + r"]}(" + w + ")"
                + sub)

    def _sympystr(self, printer: Any) -> str:
        w = ", ".join(printer._print(v) for v in self.omega)
        sub = f"[{self.index}]" if len(self.z) > 1 else ""
        return f"prox[{printer._print(self.loss)}]({w}; V={printer._print(self.V)}){sub}"


class SpectralMean(_Block):
    """(1/P) Σ_i f(v_i) over the spectrum arrays named like ``variables``; args ``(f, variables)``."""

    _word = "mean"

    def __new__(cls, expr: Any, variables: Any) -> sp.Expr:
        return sp.Expr.__new__(cls, sp.sympify(expr), sp.Tuple(*_symbols(variables)))

    @property
    def expr(self) -> sp.Expr:
        return self.args[0]

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[1])

    @property
    def free_symbols(self) -> set:
        return self.expr.free_symbols - set(self.variables)

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        return type(self)(self.expr.diff(s), self.variables)

    def _latex(self, printer: Any) -> str:
        op = r"\frac{1}{P}\sum_{i}" if self._word == "mean" else r"\sum_{i}"
        body = printer._print(self.expr.xreplace({v: sp.Symbol(f"{v.name}_i") for v in self.variables}))
        return op + r"\left[" + body + r"\right]"

    def _sympystr(self, printer: Any) -> str:
        sub = ",".join(v.name for v in self.variables)
        return f"{self._word}_{{{sub}}}[{printer._print(self.expr)}]"


class SpectralSum(SpectralMean):
    """Σ_i f(v_i) over the spectrum arrays (a trace; with f = log g, log det g)."""

    _word = "sum"


BLOCKS = (GaussianExpectation, MoreauEnvelope, Proximal, SpectralMean)


def gaussian_expectation(integrand: Any, *variables: sp.Symbol, order: int = 0) -> sp.Expr:
    """E_ξ[integrand] over independent standard Gaussians ``variables`` (Gauss–Hermite, ``order`` nodes
    per dimension; 0: the theory's ``cubature_order``)."""
    return GaussianExpectation(integrand, variables, order)


def moreau_envelope(loss: Any, z: Any, omega: Any, V: Any) -> sp.Expr:
    """M_V(ω) = min_z [‖z − ω‖²/(2V) + loss(z)]; ``z`` a symbol (or a list: a vector z), ``omega`` alike."""
    return MoreauEnvelope(loss, z, omega, V)


def proximal(loss: Any, z: Any, omega: Any, V: Any) -> sp.Expr | list[sp.Expr]:
    """z* = argmin_z [‖z − ω‖²/(2V) + loss(z)]: one expression for a scalar z, a list for a vector z."""
    zs = _symbols(z)
    out = [Proximal(i, loss, zs, omega, V) for i in range(len(zs))]
    return out[0] if not isinstance(z, (list, tuple, sp.Tuple)) else out


def spectral_mean(expr: Any, *variables: sp.Symbol) -> sp.Expr:
    """(1/P) Σ_i expr(v_i): ``variables`` name arrays of ``Theory.spectrum`` (all of length P)."""
    return SpectralMean(expr, variables)


def spectral_sum(expr: Any, *variables: sp.Symbol) -> sp.Expr:
    """Σ_i expr(v_i) over ``Theory.spectrum`` (a trace of a function of the covariance)."""
    return SpectralSum(expr, variables)


def log_det(expr: Any, variable: sp.Symbol, *, normalised: bool = True) -> sp.Expr:
    """(1/P) log det g(Ω) = (1/P) Σ_i log g(ω_i) (``normalised=False``: without the 1/P)."""
    f = SpectralMean if normalised else SpectralSum
    return f(sp.log(sp.sympify(expr)), (variable,))


def block_nodes(expr: sp.Expr) -> list[sp.Expr]:
    """Every block in ``expr`` (nested ones included)."""
    return [a for a in sp.preorder_traversal(expr) if isinstance(a, BLOCKS)]


def symbol_names(expr: sp.Expr) -> set[str]:
    """Names of the free symbols of ``expr``."""
    return {s.name for s in expr.free_symbols}

