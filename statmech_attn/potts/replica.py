"""Replica-symmetric theory of one row of factored attention (docs/theories/potts.md).

Teacher–student setting (§7.1): M = αN labelled contexts X^μ ∈ R^{C×N} with columns N(0, Σ), labels
y^μ ~ softmax(X^μ w*/√N), ‖w*‖²/N = ρ, estimator ŵ = argmin Σ_μ CE(y^μ, X^μ w/√N) + (λ/2)‖w‖².
Order parameters (§7.2): m = ŵ·w*/N, q = ‖ŵ‖²/N, V, and conjugates m̂, q̂, V̂.

Numerics (§7.4–7.5).  Everything is computed on range(Σ): with Σ = Q Λ Qᵀ and rank r, the logits are
t = B x with B = Q_r Λ_r^{1/2} (C×r) and x ∈ R^r; the null space of Σ drops out.  Expectations over
ξ (student field) and ζ (teacher noise) use fixed product Gauss–Hermite rules (:mod:`._cubature`);
the proximal map (11) is a damped Newton solve vectorised over nodes and labels (r×r systems by an
unrolled Cholesky factorisation, warm-started from the previous evaluation's proximal points), with an
implicit-function JVP so that the fixed-point map can be differentiated; the saddle point is found by
damped fixed-point iteration, by Newton's method on the fixed-point residual or by Broyden's method
(with a damped fixed-point fallback step).  An α-curve runs as one ``lax.scan`` with continuation
(secant predictor in ln α; compiled once per rule size and chunk length).

Modules: :mod:`._replica_setting` (the setting, Σ, the cubature rules, the state),
:mod:`._proximal` (the proximal map (11) and its implicit derivative), :mod:`._replica_equations`
(the map (13)–(14), observables, Φ), :mod:`._replica_solve` (the solvers, the α-curve),
:mod:`._replica_limits` (the closed-form limits (15)–(16)); this module re-exports the public names.

Public API: :class:`ReplicaSetting`, :class:`ReplicaState`, :func:`colour_covariance`,
:func:`solve`, :func:`observables`, :func:`replica_curve`, :func:`replica_solutions`, :func:`fixed_point_map`,
:func:`proximal_map`, :func:`alpha_to_zero_limit`, :func:`large_ridge_limit`.
"""

from __future__ import annotations

from ._proximal import proximal_map as proximal_map
from ._replica_equations import fixed_point_map as fixed_point_map
from ._replica_equations import observables as observables
from ._replica_limits import alpha_to_zero_limit as alpha_to_zero_limit
from ._replica_limits import large_ridge_limit as large_ridge_limit
from ._replica_setting import ReplicaSetting as ReplicaSetting
from ._replica_setting import ReplicaState as ReplicaState
from ._replica_setting import colour_covariance as colour_covariance
from ._replica_solve import OBSERVABLES as OBSERVABLES
from ._replica_solve import POINT_KEYS as POINT_KEYS
from ._replica_solve import replica_curve as replica_curve
from ._replica_solve import replica_solutions as replica_solutions
from ._replica_solve import solve as solve

__all__ = [
    "ReplicaSetting",
    "ReplicaState",
    "colour_covariance",
    "solve",
    "observables",
    "replica_curve",
    "replica_solutions",
    "fixed_point_map",
    "proximal_map",
    "alpha_to_zero_limit",
    "large_ridge_limit",
    "OBSERVABLES",
    "POINT_KEYS",
]
