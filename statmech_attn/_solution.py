"""The solver contract shared by every order-parameter solver (docs/architecture.md).

``solve(problem, *, solver=..., max_steps=..., tol=..., throw=True) -> Solution``.

A :class:`Solution` is an immutable pytree whose only leaves are in ``value`` (the order
parameters); the diagnostics ride along as static data.  ``result`` says *why* the solver stopped,
``residual`` is the max-norm of the stationarity equations at ``value`` (never a step size).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from types import MappingProxyType
from typing import Any, Generic, Mapping, TypeVar

import jax

T = TypeVar("T")


class Result(str, enum.Enum):
    """Why a solver stopped."""

    converged = "converged"
    max_steps = "max_steps"
    nonfinite = "nonfinite"
    not_a_minimum = "not_a_minimum"
    diverged = "diverged"

    def __str__(self) -> str:  # so f-strings and JSON show the plain word
        return self.value


@dataclasses.dataclass(frozen=True, eq=False)
class Solution(Generic[T]):
    """Outcome of an order-parameter solver.

    Attributes:
        value: the order parameters (a named structure documented by the solver).
        result: why the solver stopped (:class:`Result`).
        residual: max-norm of the stationarity equations at ``value``.
        iterations: number of solver iterations taken.
        action: the free energy / objective at ``value``.
        stats: further diagnostics (wall time, smallest Hessian eigenvalue, damping, ...).
    """

    value: T
    result: Result
    residual: float
    iterations: int
    action: float
    stats: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "result", Result(self.result))
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))

    @property
    def converged(self) -> bool:
        """True when ``result`` is ``converged``."""
        return self.result is Result.converged

    def replace(self, **changes: Any) -> "Solution[T]":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        """The diagnostics as plain Python numbers (no ``value``)."""
        out: dict[str, Any] = {
            "converged": self.converged,
            "result": self.result.value,
            "residual": float(self.residual),
            "iterations": int(self.iterations),
            "action": float(self.action),
        }
        out.update({k: v for k, v in self.stats.items()})
        return out


def _flatten(sol: Solution) -> tuple[tuple[Any], tuple]:
    aux = (sol.result, sol.residual, sol.iterations, sol.action, tuple(sorted(sol.stats.items(), key=lambda kv: kv[0])))
    return (sol.value,), aux


def _unflatten(aux: tuple, children: tuple[Any]) -> Solution:
    result, residual, iterations, action, stats = aux
    return Solution(children[0], result, residual, iterations, action, dict(stats))


jax.tree_util.register_pytree_node(Solution, _flatten, _unflatten)


class SolverError(RuntimeError):
    """A solver did not converge (raised when ``throw=True``); carries the :class:`Solution`."""

    def __init__(self, solution: Solution, message: str | None = None):
        self.solution = solution
        res = solution.residual
        res_txt = f"{res:.3e}" if isinstance(res, float) and math.isfinite(res) else str(res)
        super().__init__(
            message
            or f"solver stopped with result '{solution.result.value}' after {solution.iterations} "
            f"iterations (residual {res_txt})"
        )
