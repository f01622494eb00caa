"""Log-sum-exp attention, derived with SymPy (docs/theories/energy.md).

* :func:`log_partition_derivation` builds A_β(θ) = β⁻¹ log Σ_j exp(β θ·k_j) from symbols for n
  keys in d dimensions, differentiates it (``sympy.diff``) and proves the closed forms

      ∇A = Σ_j p_j k_j,      ∇²A = β (Σ_j p_j k_j k_jᵀ − m mᵀ),      p_j = e^{β θ·k_j} / Σ_l e^{β θ·k_l},

  by simplifying the difference to zero.  The closed forms are emitted as LaTeX and as lambdified
  callables ``(theta, keys, beta) -> array`` (NumPy or JAX).
* :func:`two_token_derivation` derives the self-attention update of the pair x_{1,2} = ±r e_1:
  x_1' = r (1 + η tanh(β r²)) e_1 (and x_2' = −x_1'), and the layer norm of the result in d = 2,
  LN(x_1') = (1, −1), of norm √2 = √d whatever r, β, η.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import sympy as sp

__all__ = ["LogPartitionDerivation", "log_partition_derivation", "TwoTokenDerivation", "two_token_derivation",
           "latex_summary"]


@dataclasses.dataclass(frozen=True)
class LogPartitionDerivation:
    """Symbolic A_β(θ), its derivatives, and their closed forms for n keys in d dimensions.

    Attributes:
        theta, keys, beta: the symbols (θ a d-vector, keys an n×d matrix, β).
        log_partition: A_β(θ).
        gradient, hessian: ``sympy.diff`` of A (d-vector, d×d matrix).
        gradient_closed, hessian_closed: Σ p_j k_j and β(Σ p_j k_j k_jᵀ − m mᵀ).
        verified: the differences simplified to zero.
        gradient_fn, hessian_fn: lambdified closed forms ``(theta, keys, beta) -> array``.
    """

    theta: sp.Matrix
    keys: sp.Matrix
    beta: sp.Symbol
    log_partition: sp.Expr
    gradient: sp.Matrix
    hessian: sp.Matrix
    gradient_closed: sp.Matrix
    hessian_closed: sp.Matrix
    verified: bool
    gradient_fn: Callable
    hessian_fn: Callable


@functools.lru_cache(maxsize=8)
def log_partition_derivation(n: int = 3, d: int = 2, module: str = "numpy") -> LogPartitionDerivation:
    """Derive ∇A and ∇²A for ``n`` keys in ``d`` dimensions; ``module`` is the lambdify target."""
    beta = sp.Symbol("beta", positive=True)
    theta = sp.Matrix(sp.symbols(f"theta0:{d}", real=True))
    keys = sp.Matrix(n, d, lambda j, a: sp.Symbol(f"k{j}_{a}", real=True))
    scores = [beta * (keys.row(j) * theta)[0, 0] for j in range(n)]
    z = sum(sp.exp(s) for s in scores)
    a_expr = sp.log(z) / beta
    grad = sp.Matrix([sp.diff(a_expr, t) for t in theta])
    hess = sp.Matrix(d, d, lambda a, b: sp.diff(grad[a], theta[b]))
    p = [sp.exp(s) / z for s in scores]
    m = sum((p[j] * keys.row(j).T for j in range(n)), sp.zeros(d, 1))
    second = sum((p[j] * keys.row(j).T * keys.row(j) for j in range(n)), sp.zeros(d, d))
    hess_closed = beta * (second - m * m.T)
    # both sides are rational functions of the exponentials: put over a common denominator and cancel
    verified = all(sp.cancel(sp.together(e)) == 0 for e in list(grad - m) + list(hess - hess_closed))
    args = (list(theta), [list(keys.row(j)) for j in range(n)], beta)
    modules = "jax" if module == "jax" else "numpy"
    g_fn = sp.lambdify(args, m.T, modules=modules)
    h_fn = sp.lambdify(args, hess_closed, modules=modules)

    def gradient_fn(theta_v, keys_v, beta_v):
        return g_fn(list(theta_v), [list(r) for r in keys_v], beta_v)[0]

    def hessian_fn(theta_v, keys_v, beta_v):
        return h_fn(list(theta_v), [list(r) for r in keys_v], beta_v)

    return LogPartitionDerivation(theta, keys, beta, a_expr, grad, hess, m, hess_closed, verified,
                                  gradient_fn, hessian_fn)


@dataclasses.dataclass(frozen=True)
class TwoTokenDerivation:
    """The update of two tokens ±r e_1 by one self-attention layer (q = k = v = x).

    Attributes:
        r, beta, eta: symbols.
        update: x_1' · e_1 after simplification (= r (1 + η tanh(β r²))).
        closed_form: r (1 + η tanh(β r²)).
        verified: ``update − closed_form`` simplified to zero.
        after_layer_norm: LN(x_1') for d = 2 (γ = 1, b = 0, population variance): (1, −1).
        update_fn: lambdified ``(r, beta, eta) -> x_1'·e_1``.
    """

    r: sp.Symbol
    beta: sp.Symbol
    eta: sp.Symbol
    update: sp.Expr
    closed_form: sp.Expr
    verified: bool
    after_layer_norm: sp.Matrix
    update_fn: Callable


@functools.lru_cache(maxsize=1)
def two_token_derivation() -> TwoTokenDerivation:
    """Derive x_1' for x_{1,2} = ±r e_1 from the softmax definition, then its layer norm in d = 2."""
    r, beta, eta = sp.symbols("r beta eta", positive=True)
    x = [sp.Matrix([r, 0]), sp.Matrix([-r, 0])]
    scores = [beta * (x[0].T * xj)[0, 0] for xj in x]
    z = sum(sp.exp(s) for s in scores)
    new = x[0] + eta * sum((sp.exp(s) / z * xj for s, xj in zip(scores, x)), sp.zeros(2, 1))
    closed = r * (1 + eta * sp.tanh(beta * r**2))
    update = sp.simplify(new[0])
    verified = sp.simplify((update - closed).rewrite(sp.exp)) == 0 and new[1] == 0
    # layer norm of the token x_1' = (closed, 0) in d = 2 (closed > 0: r, β, η > 0)
    mu = closed / 2
    centred = sp.Matrix([closed - mu, 0 - mu])
    std = sp.sqrt((centred[0] ** 2 + centred[1] ** 2) / 2)
    ln = sp.simplify(centred / std)
    return TwoTokenDerivation(r, beta, eta, update, closed, bool(verified), ln,
                              sp.lambdify((r, beta, eta), closed, modules="numpy"))


def latex_summary() -> str:
    """The derived equations as LaTeX lines (for ``statmech-attn derive energy``)."""
    d = log_partition_derivation(2, 2)
    t = two_token_derivation()
    lines = [
        r"A_\beta(\theta) = \frac{1}{\beta}\log\sum_j e^{\beta\,\theta\cdot k_j}",
        r"\text{for } n = 2, d = 2:\quad A_\beta(\theta) = " + sp.latex(d.log_partition),
        r"\nabla A(\theta) = \sum_j p_j k_j,\quad p_j = \frac{e^{\beta\theta\cdot k_j}}{\sum_l e^{\beta\theta\cdot k_l}}"
        + (r"\quad\text{(verified by sympy.diff)}" if d.verified else r"\quad\text{(NOT verified)}"),
        r"\nabla^2 A(\theta) = \beta\Big(\sum_j p_j k_j k_j^\top - m m^\top\Big) \succeq 0,\quad m = \nabla A",
        r"A(\theta + \eta\nabla A) \ge A(\theta) + \eta\,|\nabla A(\theta)|^2",
        r"x_{1,2} = \pm r e_1:\quad x_1' = " + sp.latex(t.closed_form) + r"\, e_1"
        + (r"\quad\text{(verified)}" if t.verified else r"\quad\text{(NOT verified)}"),
        r"\mathrm{LN}(x_1') = " + sp.latex(t.after_layer_norm.T) + r",\quad |\mathrm{LN}(x_1')| = \sqrt{2} = \sqrt{d}",
    ]
    return "\n".join(lines)
