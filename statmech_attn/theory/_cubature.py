"""Gauss–Hermite rules for expectations over standard Gaussian vectors.

``E f(ξ) ≈ Σ_k w_k f(x_k)`` with ξ ~ N(0, I_r): the tensor product of the n-point probabilists'
Gauss–Hermite rule (exact for polynomials of degree ≤ 2n − 1 in each coordinate).  Nodes whose
product weight is below ``prune`` times the largest weight are dropped (with the default 1e-18 the
dropped mass is far below the round-off of the sums).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

__all__ = ["gauss_hermite"]


@functools.lru_cache(maxsize=64)
def gauss_hermite(n: int, r: int, prune: float = 1e-18) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (K, r) and weights (K,) of the pruned product rule with n nodes per dimension.

    E f(ξ) ≈ Σ_k w_k f(x_k), weights normalised to Σ_k w_k = 1 (weight e^{-x²/2}/√(2π) per axis).
    """
    x, w = hermegauss(int(n))
    w = w / w.sum()
    grids = np.meshgrid(*([x] * r), indexing="ij")
    wgrids = np.meshgrid(*([w] * r), indexing="ij")
    nodes = np.stack([g.reshape(-1) for g in grids], axis=-1)
    weights = np.prod(np.stack([g.reshape(-1) for g in wgrids], axis=-1), axis=-1)
    keep = weights >= prune * weights.max()
    nodes, weights = nodes[keep], weights[keep]
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights
