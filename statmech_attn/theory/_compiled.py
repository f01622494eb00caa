"""A theory compiled to jitted JAX functions of (x, c): x the order parameters, c the controls.

Compiled once per (theory, cubature scale); every control value is a traced argument, so a solve at
another point, or a sweep chunk of the same length, reuses the compiled code.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._compile import Evaluator
from ._derive import Derivation, derive_theory
from ._newton import admissible, solve_loop
from .spec import Theory

__all__ = ["Compiled", "compiled", "derivation"]


@functools.lru_cache(maxsize=32)
def derivation(theory: Theory) -> Derivation:
    """The (cached) :class:`Derivation` of a theory."""
    return derive_theory(theory)


class Compiled:
    """The jitted pieces of one theory at one cubature scale.

    ``G(x, c)``: the residual solved for — ∂Φ/∂x (derived), or x − F(x) when the theory gives its
    own ``equations``; ``FP(x, c)``: one Gauss–Seidel sweep of the fixed-point form (or None).
    """

    def __init__(self, theory: Theory, order_scale: float = 1.0):
        self.theory = theory
        self.order_scale = order_scale
        self.derivation = derivation(theory)
        ev = Evaluator(theory.spectrum, theory.cubature_order, order_scale)
        self.evaluator = ev
        xn, cn = theory.order_names, theory.control_names
        conds = [self.derivation.conditions[k] for k in xn]
        fixed = self.derivation.fixed_point
        explicit = theory.equations is not None
        self.explicit = explicit
        self.has_fixed_point = fixed is not None
        obs = [o.expr for o in theory.observables]

        def env(x: jax.Array, c: jax.Array) -> dict[str, Any]:
            e = {n: x[i] for i, n in enumerate(xn)}
            e.update({n: c[j] for j, n in enumerate(cn)})
            return e

        def phi(x: jax.Array, c: jax.Array) -> jax.Array:
            return ev(theory.free_energy, env(x, c))

        def stack(vals: list) -> jax.Array:
            return jnp.stack([jnp.asarray(v, jnp.float64) for v in vals])

        def grad(x: jax.Array, c: jax.Array) -> jax.Array:
            return stack(ev.values(conds, env(x, c), {}))

        def F(x: jax.Array, c: jax.Array) -> jax.Array:  # Jacobi: every equation at the same x
            return stack(ev.values([fixed[k] for k in xn], env(x, c), {}))

        stages = _stages(fixed, xn) if fixed is not None else []

        def FP(x: jax.Array, c: jax.Array) -> jax.Array:
            """Gauss–Seidel in declaration order, by stages of variables whose equations do not
            involve each other (each stage evaluated at once)."""
            y = x
            for stage in stages:
                vals = ev.values([fixed[xn[i]] for i in stage], env(y, c), {})
                y = y.at[jnp.asarray(stage)].set(stack(vals))
            return y

        def G(x: jax.Array, c: jax.Array) -> jax.Array:
            return x - F(x, c) if explicit else grad(x, c)

        def observables(x: jax.Array, c: jax.Array) -> jax.Array:
            if not obs:
                return jnp.zeros((0,))
            return stack(ev.values(obs, env(x, c), {}))

        self.phi, self.grad, self.G = phi, grad, G
        self.FP = FP if fixed is not None else None
        self.observables = observables
        self.lower = np.array([p.lower for p in theory.order_parameters], dtype=np.float64)
        self.upper = np.array([p.upper for p in theory.order_parameters], dtype=np.float64)
        self.point = jax.jit(self._point, static_argnames=("method", "stability"))
        self.curve = jax.jit(self._curve, static_argnames=("method", "along", "stability", "log_scale"))
        self.G_jit = jax.jit(G)
        self.phi_jit = jax.jit(phi)
        self.grad_jit = jax.jit(grad)
        self.FP_jit = jax.jit(FP) if fixed is not None else None

    # -- one point -------------------------------------------------------------------------------

    def _certificate(self, x: jax.Array, c: jax.Array, stability: bool) -> dict[str, jax.Array]:
        n = x.shape[0]
        out: dict[str, jax.Array] = {"phi": self.phi(x, c), "observables": self.observables(x, c)}
        if self.FP is not None:
            out["fp_residual"] = jnp.max(jnp.abs(self.FP(x, c) - x))
        if not stability:
            return out
        H = jax.jacfwd(self.grad)(x, c)
        out["hessian_eigenvalues"] = jnp.linalg.eigvalsh(0.5 * (H + H.T))
        if self.explicit:
            J = jax.jacfwd(self.G)(x, c)
            ev = jnp.linalg.eigvals(J)
            order = jnp.argsort(ev.real)
            out["jacobian_eigenvalues"] = ev.real[order]
            out["jacobian_eigenvalues_imag"] = ev.imag[order]
        else:
            out["jacobian_eigenvalues"] = out["hessian_eigenvalues"]
            out["jacobian_eigenvalues_imag"] = jnp.zeros(n)
        return out

    def _point(self, x0: jax.Array, c: jax.Array, tol: jax.Array, max_steps: jax.Array, damping: jax.Array,
               method: str, stability: bool = True) -> tuple:
        x, g, r, k, nfp = solve_loop(self.G, self.FP, x0, c, jnp.asarray(self.lower), jnp.asarray(self.upper),
                                     tol, max_steps, damping, method)
        return x, r, k, nfp, self._certificate(x, c, stability)

    # -- a sweep chunk ---------------------------------------------------------------------------

    def _curve(self, x0: jax.Array, cs: jax.Array, tol: jax.Array, max_steps: jax.Array, damping: jax.Array,
               method: str, along: int, stability: bool = True, log_scale: bool = False) -> tuple:
        """Every row of ``cs`` (increasing along column ``along``) in one ``lax.scan``.  Each point
        starts from the secant prediction through the two previous converged solutions (linear in
        the swept parameter s, or in ln s with ``log_scale``), from the previous solution when only
        one exists or the prediction is not admissible, else from ``x0``."""
        lo, hi = jnp.asarray(self.lower), jnp.asarray(self.upper)

        def step(carry: tuple, c: jax.Array) -> tuple:
            x_prev, x_pp, s_prev, s_pp, have, have_pp = carry
            s = jnp.log(c[along]) if log_scale else c[along]
            slope = (x_prev - x_pp) / jnp.where(s_prev != s_pp, s_prev - s_pp, 1.0)
            x_pred = x_prev + slope * (s - s_prev)
            use_pred = have & have_pp & (s_prev != s_pp) & admissible(x_pred, lo, hi)
            start = jnp.where(use_pred, x_pred, jnp.where(have, x_prev, x0))
            x, g, r, k, nfp = solve_loop(self.G, self.FP, start, c, lo, hi, tol, max_steps, damping, method)
            good = (r <= tol) & admissible(x, lo, hi)
            carry = (jnp.where(good, x, x_prev), jnp.where(good, x_prev, x_pp), jnp.where(good, s, s_prev),
                     jnp.where(good, s_prev, s_pp), have | good, jnp.where(good, have, have_pp))
            return carry, (x, r, k, nfp, self._certificate(x, c, stability))

        inf = jnp.asarray(-jnp.inf)
        init = (x0, x0, inf, inf, jnp.asarray(False), jnp.asarray(False))
        _, out = jax.lax.scan(step, init, cs)
        return out


def _stages(fixed: dict, names: tuple[str, ...]) -> list[list[int]]:
    """Consecutive runs of variables (declaration order) none of whose equations uses another of the run."""
    stages: list[list[int]] = []
    current: list[int] = []
    for i, k in enumerate(names):
        used = {s.name for s in fixed[k].free_symbols}
        if any(names[j] in used for j in current):
            stages.append(current)
            current = []
        current.append(i)
    stages.append(current)
    return stages


@functools.lru_cache(maxsize=16)
def compiled(theory: Theory, order_scale: float = 1.0) -> Compiled:
    """The (cached) :class:`Compiled` of a theory."""
    return Compiled(theory, order_scale)


def fixed_point_map(theory: Theory) -> Callable | None:  # pragma: no cover - convenience
    return compiled(theory).FP_jit
