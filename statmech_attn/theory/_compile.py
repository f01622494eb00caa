"""SymPy → JAX: evaluate a free energy (closed-form parts and numeric blocks) inside jitted code.

A block-free expression is compiled with ``sympy.lambdify(..., modules="jax")``.  An expression that
contains blocks (:mod:`._blocks`) has each outermost block replaced by a placeholder symbol, the rest
lambdified, and every block evaluated numerically:

- Gaussian expectation: E f(ξ) ≈ Σ_k w_k f(x_k), the integrand vmapped over the pruned Gauss–Hermite
  product rule (:mod:`._cubature`); blocks nest (an expectation inside an expectation is vmapped inside).
- proximal point / Moreau envelope: z* = argmin_z ‖z − ω‖²/(2V) + ℓ(z) by damped Newton with
  backtracking (a step is accepted on Armijo's test or when it shrinks the gradient), stopping when the step is below 1e-14 (1 + ‖z‖_∞); its JVP is the implicit
  function derivative ż = −H⁻¹ ġ, H = I/V + ∇²ℓ(z*), g = (z − ω)/V + ∇ℓ(z), and the primal inside
  the rule is the same custom-JVP function, so derivatives of any order are implicit;
  M = ‖z* − ω‖²/(2V) + ℓ(z*).  Components of one proximal problem share one solve.
- spectral mean / sum: the summand vmapped over the spectrum arrays.

Values are looked up by symbol *name* in an environment ``{name: value}``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..errors import InputError
from ._blocks import BLOCKS, GaussianExpectation, MoreauEnvelope, Proximal, SpectralMean, SpectralSum
from ._cubature import gauss_hermite

__all__ = ["Evaluator"]

_PROX_TOL = 1e-14
_PROX_MAX_STEPS = 100
_LINE_SEARCH_MIN = 2.0 ** -30
# functions that SymPy's JAX printer leaves to Python's math module
_SPECIAL = {
    "erf": jax.scipy.special.erf,
    "erfc": jax.scipy.special.erfc,
    "erfinv": jax.scipy.special.erfinv,
    "loggamma": jax.scipy.special.gammaln,
    "gamma": lambda x: jnp.exp(jax.scipy.special.gammaln(x)),
    "polygamma": jax.scipy.special.polygamma,
    "digamma": jax.scipy.special.digamma,
    "Heaviside": lambda x, h0=0.5: jnp.heaviside(x, h0),
}


def _outer_blocks(expr: sp.Expr) -> list[sp.Expr]:
    """Blocks of ``expr`` not nested inside another block, in a fixed order."""
    found: list[sp.Expr] = []

    def walk(e: sp.Basic) -> None:
        if isinstance(e, BLOCKS):
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return found


class Evaluator:
    """Evaluates SymPy expressions with numeric blocks on JAX values.

    Args:
        spectrum: arrays named by the symbols of spectral means/sums.
        cubature_order: nodes per dimension of an expectation whose own order is 0.
        order_scale: every expectation uses ⌈scale · n⌉ nodes per dimension (the accuracy check).
    """

    def __init__(self, spectrum: Mapping[str, np.ndarray], cubature_order: int, order_scale: float = 1.0):
        self.spectrum = {k: np.asarray(v, dtype=np.float64) for k, v in spectrum.items()}
        self.cubature_order = int(cubature_order)
        self.order_scale = float(order_scale)
        self._lambdified: dict[sp.Expr, tuple[Callable[..., Any], list[str], list[sp.Expr]]] = {}
        self._prox_fns: dict[tuple, Callable[..., Any]] = {}

    # -- rules -----------------------------------------------------------------------------------

    def order_of(self, node: GaussianExpectation) -> int:
        n = node.order or self.cubature_order
        return int(math.ceil(self.order_scale * n - 1e-9))

    def rule(self, node: GaussianExpectation) -> tuple[jax.Array, jax.Array]:
        x, w = gauss_hermite(self.order_of(node), len(node.variables))
        return jnp.asarray(x), jnp.asarray(w)

    # -- evaluation ------------------------------------------------------------------------------

    def __call__(self, expr: sp.Expr, env: Mapping[str, Any], memo: dict | None = None) -> jax.Array:
        return self.value(expr, env, {} if memo is None else memo)

    def values(self, exprs: list[sp.Expr], env: Mapping[str, Any], memo: dict) -> list[jax.Array]:
        """Several expressions at once: their Gaussian expectations over the same variables and rule
        share one vmapped pass over the nodes (and so one proximal solve per node and problem)."""
        groups: dict[tuple, list[GaussianExpectation]] = {}
        for e in exprs:
            for b in _outer_blocks(e):
                if isinstance(b, GaussianExpectation) and b not in memo:
                    key = (b.variables, self.order_of(b))
                    if b not in groups.setdefault(key, []):
                        groups[key].append(b)
        for (variables, _), blocks in groups.items():
            if len(blocks) > 1:
                res = self._expectations(blocks, env)
                for i, b in enumerate(blocks):
                    memo[b] = res[i]
        return [self.value(e, env, memo) for e in exprs]

    def _expectations(self, blocks: list[GaussianExpectation], env: Mapping[str, Any]) -> jax.Array:
        """E over one rule of every block's integrand (same variables and order), stacked."""
        nodes, weights = self.rule(blocks[0])
        names = [v.name for v in blocks[0].variables]
        integrands = [b.integrand for b in blocks]

        def at(x: jax.Array) -> jax.Array:
            inner = dict(env)
            inner.update({n: x[i] for i, n in enumerate(names)})
            return jnp.stack([jnp.asarray(v, jnp.float64) for v in self.values(integrands, inner, {})])

        return weights @ jax.vmap(at)(nodes)

    def value(self, expr: sp.Expr, env: Mapping[str, Any], memo: dict) -> jax.Array:
        if expr in memo:
            return memo[expr]
        if isinstance(expr, BLOCKS):
            out = self._block(expr, env, memo)
        else:
            fn, names, blocks = self._compiled(expr)
            vals = [self.value(b, env, memo) for b in blocks]
            try:
                args = [env[n] for n in names]
            except KeyError as e:
                raise InputError("free_energy", e.args[0], "is a free symbol with no value "
                                 "(not an order parameter, control parameter or integration variable)") from None
            out = fn(*args, *vals)
        out = jnp.asarray(out, dtype=jnp.float64) if not isinstance(out, jax.Array) else out
        memo[expr] = out
        return out

    def _compiled(self, expr: sp.Expr) -> tuple[Callable[..., Any], list[str], list[sp.Expr]]:
        hit = self._lambdified.get(expr)
        if hit is not None:
            return hit
        if expr.has(sp.Derivative):
            raise InputError("free_energy", str(expr)[:60], "contains an unevaluated derivative (a derivative of a "
                             "vector proximal map is not available symbolically)")
        blocks = _outer_blocks(expr)
        holders = [sp.Symbol(f"_block_{i}") for i in range(len(blocks))]
        body = expr.xreplace(dict(zip(blocks, holders))) if blocks else expr
        syms = sorted((s for s in body.free_symbols if s not in holders), key=lambda s: s.name)
        fn = sp.lambdify(syms + holders, body, modules=[_SPECIAL, "jax"])
        hit = (fn, [s.name for s in syms], blocks)
        self._lambdified[expr] = hit
        return hit

    def _block(self, node: sp.Expr, env: Mapping[str, Any], memo: dict) -> jax.Array:
        if isinstance(node, GaussianExpectation):
            return self._expectations([node], env)[0]
        if isinstance(node, SpectralMean):
            names = [v.name for v in node.variables]
            missing = [n for n in names if n not in self.spectrum]
            if missing:
                raise InputError(f"spectrum.{missing[0]}", "missing", "a spectral mean/sum needs this array in "
                                 "Theory.spectrum")
            arrays = [jnp.asarray(self.spectrum[n]) for n in names]
            expr = node.expr

            def term(*vals: jax.Array) -> jax.Array:
                inner = dict(env)
                inner.update(dict(zip(names, vals)))
                return self.value(expr, inner, {})

            terms = jax.vmap(term)(*arrays)
            return jnp.sum(terms) if isinstance(node, SpectralSum) else jnp.mean(terms)
        if isinstance(node, (MoreauEnvelope, Proximal)):
            loss, zs, omegas, V = (node.loss, node.z, node.omega, node.V)
            key = ("prox", loss, tuple(zs), tuple(omegas), V)
            params = sorted(loss.free_symbols - set(zs), key=lambda s: s.name)
            pvals = jnp.stack([jnp.asarray(self.value(p, env, memo), jnp.float64) for p in params]) if params \
                else jnp.zeros((0,))
            w = jnp.stack([jnp.asarray(self.value(o, env, memo), jnp.float64) for o in omegas])
            Vv = jnp.asarray(self.value(V, env, memo), jnp.float64)
            if key not in memo:
                memo[key] = self.prox_fn(loss, tuple(zs), tuple(p.name for p in params))(w, Vv, pvals)
            z = memo[key]
            if isinstance(node, Proximal):
                return z[node.index]
            lossf = self._loss_fn(loss, tuple(zs), tuple(p.name for p in params))
            return jnp.sum((z - w) ** 2) / (2 * Vv) + lossf(z, pvals)
        raise TypeError(type(node).__name__)  # pragma: no cover

    # -- proximal maps ---------------------------------------------------------------------------

    def _loss_fn(self, loss: sp.Expr, zs: tuple, pnames: tuple[str, ...]) -> Callable[[jax.Array, jax.Array], jax.Array]:
        znames = [z.name for z in zs]

        def lossf(z: jax.Array, p: jax.Array) -> jax.Array:
            env = {n: z[i] for i, n in enumerate(znames)}
            env.update({n: p[j] for j, n in enumerate(pnames)})
            return self.value(loss, env, {})

        return lossf

    def prox_fn(self, loss: sp.Expr, zs: tuple, pnames: tuple[str, ...]) -> Callable[..., jax.Array]:
        """prox(ω, V, p) = argmin_z ‖z − ω‖²/(2V) + ℓ(z; p), with the implicit-function JVP."""
        key = (loss, zs, pnames)
        if key in self._prox_fns:
            return self._prox_fns[key]
        lossf = self._loss_fn(loss, zs, pnames)
        gradf = jax.grad(lossf)
        hessf = jax.hessian(lossf)
        r = len(zs)
        eye = np.eye(r)

        def objective(z: jax.Array, w: jax.Array, V: jax.Array, p: jax.Array) -> jax.Array:
            return jnp.sum((z - w) ** 2) / (2 * V) + lossf(z, p)

        def newton(w: jax.Array, V: jax.Array, p: jax.Array) -> jax.Array:
            def body(state: tuple) -> tuple:
                k, z, _ = state
                g = (z - w) / V + gradf(z, p)
                d = -jnp.linalg.solve(eye / V + hessf(z, p), g)
                f0 = objective(z, w, V, p)
                decrement = -(g @ d)
                slack = 8 * jnp.finfo(z.dtype).eps * jnp.abs(f0)

                gnorm = jnp.sum(g * g)

                def measures(zt: jax.Array) -> tuple[jax.Array, jax.Array]:
                    gt = (zt - w) / V + gradf(zt, p)
                    return objective(zt, w, V, p), jnp.sum(gt * gt)

                def rejected(ls: tuple) -> jax.Array:
                    # accepted: Armijo on the objective, or (near the minimum, where the objective's
                    # round-off hides the decrease) a smaller gradient
                    t, f, gt = ls
                    armijo = f <= f0 - 1e-4 * t * decrement + slack
                    near = decrement < 1e-8 * (1 + jnp.abs(f0))  # round-off may hide the decrease
                    smaller_gradient = near & (gt <= (1 - 0.5 * t) ** 2 * gnorm)
                    ok = jnp.isfinite(f) & (armijo | smaller_gradient)
                    return ~ok & (t > _LINE_SEARCH_MIN)

                def halve(ls: tuple) -> tuple:
                    t = 0.5 * ls[0]
                    return (t, *measures(z + t * d))

                t, _, _ = jax.lax.while_loop(rejected, halve, (jnp.ones((), z.dtype), *measures(z + d)))
                t = jnp.where(decrement < 1e-20 * (1 + jnp.abs(f0)), 1.0, t)
                # converged when the full Newton step is negligible (a short damped step is not)
                return k + 1, z + t * d, jnp.max(jnp.abs(d))

            def cond(state: tuple) -> jax.Array:
                k, z, step = state
                return (k < _PROX_MAX_STEPS) & (step > _PROX_TOL * (1 + jnp.max(jnp.abs(z))))

            _, z, _ = jax.lax.while_loop(cond, body, (0, w, jnp.asarray(jnp.inf, w.dtype)))
            return z

        @jax.custom_jvp
        def prox(w: jax.Array, V: jax.Array, p: jax.Array) -> jax.Array:
            return newton(w, V, p)

        @prox.defjvp
        def prox_jvp(primals: tuple, tangents: tuple) -> tuple:
            w, V, p = primals
            z = prox(w, V, p)  # the custom-JVP function again: higher derivatives stay implicit

            def g(w_: jax.Array, V_: jax.Array, p_: jax.Array) -> jax.Array:
                return (z - w_) / V_ + gradf(z, p_)

            _, gdot = jax.jvp(g, primals, tangents)
            return z, -jnp.linalg.solve(eye / V + hessf(z, p), gdot)

        self._prox_fns[key] = prox
        return prox
