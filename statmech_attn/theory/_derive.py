"""Stationarity conditions of a free energy and their fixed-point forms (SymPy).

Conditions: ∂Φ/∂x_i = 0 for every order parameter x_i.  Fixed-point forms: for each condition the
variables it can be solved for — by ``sympy.solve`` where the condition is closed-form, and by linear
isolation x = −b/a (a = ∂c/∂x free of x) where x enters the condition only outside the numeric
blocks — then a matching of conditions to variables (each variable isolated from exactly one
condition, preferring a condition other than its own derivative, as in replica equations where
∂Φ/∂m̂ = 0 gives m).  The fixed-point map is one Gauss–Seidel sweep in the order of the order parameters.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sympy as sp

from ._blocks import block_nodes
from .spec import Theory

__all__ = ["Derivation", "derive_theory"]


@dataclasses.dataclass(frozen=True, eq=False)
class Derivation:
    """What SymPy derived from a theory.

    Attributes:
        conditions: {x: ∂Φ/∂x} (each = 0 at a solution).
        fixed_point: {x: F_x} with x = F_x solved from one condition each (None if no matching
            was found); or the theory's own ``equations``.
        fixed_point_source: {x: name of the condition it was isolated from} (or ``"equations"``).
    """

    theory: Theory
    conditions: dict[str, sp.Expr]
    fixed_point: dict[str, sp.Expr] | None
    fixed_point_source: dict[str, str]

    def text(self) -> str:
        """The free energy, the conditions and the fixed-point forms, as plain text."""
        t = self.theory
        lines = [f"theory {t.name}", "", f"free energy  Phi = {sp.sstr(t.free_energy)}", "",
                 "stationarity conditions (each = 0):"]
        for k, c in self.conditions.items():
            lines.append(f"  dPhi/d{k} = {sp.sstr(c)}")
        if self.fixed_point is not None:
            lines += ["", "fixed-point form:"]
            for k, f in self.fixed_point.items():
                lines.append(f"  {k} = {sp.sstr(f)}    [from {self.fixed_point_source[k]}]")
        else:
            lines += ["", "fixed-point form: none (no variable could be isolated from every condition)"]
        return "\n".join(lines)

    def latex(self) -> str:
        """The same as LaTeX (an ``align*`` block per part)."""
        t = self.theory
        sym = {k: sp.latex(sp.Symbol(k)) for k in t.order_names}
        out = [r"\begin{align*}", r"\Phi &= " + sp.latex(t.free_energy), r"\end{align*}", r"\begin{align*}"]
        rows = [r"\frac{\partial\Phi}{\partial " + sym[k] + "} &= " + sp.latex(c) + " = 0"
                for k, c in self.conditions.items()]
        out.append(" \\\\\n".join(rows))
        out.append(r"\end{align*}")
        if self.fixed_point is not None:
            out.append(r"\begin{align*}")
            out.append(" \\\\\n".join(sym[k] + " &= " + sp.latex(f) for k, f in self.fixed_point.items()))
            out.append(r"\end{align*}")
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every expression as text and LaTeX."""
        return {
            "theory": self.theory.name,
            "free_energy": {"text": sp.sstr(self.theory.free_energy), "latex": sp.latex(self.theory.free_energy)},
            "conditions": {k: {"text": sp.sstr(c), "latex": sp.latex(c)} for k, c in self.conditions.items()},
            "fixed_point": None if self.fixed_point is None else {
                k: {"text": sp.sstr(f), "latex": sp.latex(f), "from": self.fixed_point_source[k]}
                for k, f in self.fixed_point.items()},
        }


def _isolate(cond: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """x = F from cond = 0 when cond can be solved for x (uniquely, F free of x), else None."""
    if x not in cond.free_symbols:
        return None
    if any(x in b.free_symbols for b in block_nodes(cond)):
        return None  # x inside an expectation or a proximal map: not isolable
    blocks = block_nodes(cond)
    if blocks:  # linear isolation around the blocks
        a = sp.diff(cond, x)
        if x in a.free_symbols or a == 0:
            return None
        b = cond.xreplace({x: sp.Integer(0)})
        return sp.simplify(-b / a) if not block_nodes(b) else -b / a
    try:
        sols = sp.solve(cond, x, dict=False)
    except (NotImplementedError, ValueError, TypeError):
        return None
    sols = [s for s in sols if x not in s.free_symbols]
    return sols[0] if len(sols) == 1 else None


def _match(options: dict[str, list[str]], names: list[str]) -> dict[str, str] | None:
    """A perfect matching condition -> variable (augmenting paths); None if there is none."""
    owner: dict[str, str] = {}

    def assign(cond: str, seen: set[str]) -> bool:
        for var in options[cond]:
            if var in seen:
                continue
            seen.add(var)
            if var not in owner or assign(owner[var], seen):
                owner[var] = cond
                return True
        return False

    for cond in names:
        if not assign(cond, set()):
            return None
    return {cond: var for var, cond in owner.items()}


def derive_theory(theory: Theory) -> Derivation:
    """∂Φ/∂x for every order parameter, and the fixed-point forms (see the module docstring)."""
    names = list(theory.order_names)
    syms = {k: sp.Symbol(k) for k in names}
    phi = theory.free_energy
    conditions = {k: sp.diff(phi, syms[k]) for k in names}
    if theory.equations is not None:
        return Derivation(theory, conditions, dict(theory.equations), {k: "equations" for k in names})
    solved: dict[tuple[str, str], sp.Expr] = {}
    options: dict[str, list[str]] = {}
    for c in names:
        cond = conditions[c]
        opts = []
        # prefer isolating another variable (x from ∂Φ/∂x̂), then the condition's own
        for v in [v for v in names if v != c] + [c]:
            f = _isolate(cond, syms[v])
            if f is not None:
                solved[(c, v)] = f
                opts.append(v)
        options[c] = opts
    match = _match(options, names)
    if match is None:
        return Derivation(theory, conditions, None, {})
    by_var = {v: c for c, v in match.items()}
    fixed = {v: solved[(by_var[v], v)] for v in names}
    return Derivation(theory, conditions, fixed, {v: f"dPhi/d{by_var[v]}" for v in names})
