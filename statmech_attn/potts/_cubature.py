"""Deterministic rules for expectations over standard Gaussian vectors (replica theory, §7.5).

``E f(ξ) ≈ Σ_k w_k f(x_k)`` with ξ ~ N(0, I_r).  The nodes are fixed once per rule: the solver never
draws fresh random numbers.

- :func:`gauss_hermite_product`: tensor product of the n-point probabilists' Gauss–Hermite rule
  (exact for polynomials of degree ≤ 2n − 1 in each coordinate).  Nodes whose product weight is
  below ``prune`` times the largest weight are dropped (their total weight is reported; with the
  default 1e-18 the dropped mass is far below double-precision round-off of the sums).
- :func:`sobol_normal`: a scrambled Sobol point set with fixed seed mapped through the normal
  quantile function, equal weights (quasi-Monte-Carlo fallback for large dimension r).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

__all__ = ["GaussRule", "gauss_hermite_product", "sobol_normal", "gaussian_rule", "largest_product_order"]


@dataclasses.dataclass(frozen=True, eq=False)
class GaussRule:
    """A cubature rule for ξ ~ N(0, I_r).

    Attributes:
        nodes: (K, r) points.
        weights: (K,) positive weights summing to 1.
        kind: ``"gauss_hermite"`` or ``"sobol"``.
        order: nodes per dimension (Gauss–Hermite) or the number of points (Sobol).
        dropped_weight: total weight of pruned nodes (0 for Sobol).
    """

    nodes: np.ndarray
    weights: np.ndarray
    kind: str
    order: int
    dropped_weight: float = 0.0

    @property
    def size(self) -> int:
        """Number of nodes K."""
        return int(self.weights.shape[0])


def gauss_hermite_product(n: int, r: int, *, prune: float = 1e-18) -> GaussRule:
    """Product Gauss–Hermite rule (probabilists' weight e^{-x²/2}/√(2π)) with n nodes per dimension."""
    x, w = hermegauss(n)
    w = w / w.sum()
    if r == 0:
        return GaussRule(np.zeros((1, 0)), np.ones(1), "gauss_hermite", n)
    grids = np.meshgrid(*([x] * r), indexing="ij")
    wgrids = np.meshgrid(*([w] * r), indexing="ij")
    nodes = np.stack([g.reshape(-1) for g in grids], axis=-1)
    weights = np.prod(np.stack([g.reshape(-1) for g in wgrids], axis=-1), axis=-1)
    keep = weights >= prune * weights.max()
    dropped = float(weights[~keep].sum())
    return GaussRule(nodes[keep], weights[keep], "gauss_hermite", n, dropped)


def sobol_normal(k: int, r: int, *, seed: int = 0) -> GaussRule:
    """Scrambled Sobol points (fixed ``seed``) mapped to N(0, I_r), equal weights 1/k."""
    from scipy.special import ndtri  # SciPy only where a rule is too large for Gauss–Hermite
    from scipy.stats import qmc

    sampler = qmc.Sobol(d=max(r, 1), scramble=True, seed=seed)
    u = sampler.random(k)[:, :r]
    u = np.clip(u, 1e-16, 1 - 1e-16)
    return GaussRule(ndtri(u), np.full(k, 1.0 / k), "sobol", k)


def gaussian_rule(n: int, r: int, *, max_nodes: int = 40_000, seed: int = 0) -> GaussRule:
    """Gauss–Hermite product rule when it has at most ``max_nodes`` nodes, else Sobol with ``max_nodes`` points."""
    if n ** r <= 4 * max_nodes:
        rule = gauss_hermite_product(n, r)
        if rule.size <= max_nodes:
            return rule
    return sobol_normal(max_nodes, r, seed=seed)


def largest_product_order(r: int, max_nodes: int, n_max: int) -> int:
    """The largest n ≤ ``n_max`` (at least 2) whose pruned product rule in r dimensions has at most
    ``max_nodes`` nodes."""
    n = max(2, n_max)
    while n > 2 and (n ** r > 4 * max_nodes or gauss_hermite_product(n, r).size > max_nodes):
        n -= 1
    return n
