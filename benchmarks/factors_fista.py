"""Non-negative FISTA (JAX, vmapped over tokens) vs scikit-learn ``sparse_encode(positive=True)``.

Both solve ½|x − Φα|² + λ|α|₁, α ⪰ 0 (scikit-learn's ``alpha`` equals λ: it divides by n_features
internally).  "Equal objective": FISTA's KKT tolerance is tightened until its total objective is
within ``--rtol`` of scikit-learn's (lasso_cd with tol 1e-8), then both are timed (warm).  Reports
codes per second and the ratio FISTA / scikit-learn.

``python benchmarks/factors_fista.py [--quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.decomposition import sparse_encode

import statmech_attn  # noqa: F401  (float64)
from statmech_attn.factors import sparse_codes


def _objective(x, phi, a, lam):
    return 0.5 * np.sum((x - a @ phi.T) ** 2) + lam * np.sum(a)


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rtol", type=float, default=1e-7, help="objective agreement required")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sizes = [(32, 64, 1000)] if args.quick else [(32, 64, 2000), (64, 128, 4000), (128, 256, 4000)]
    lam = 0.3
    rng = np.random.default_rng(args.seed)
    print(f"{'d':>4} {'K':>4} {'tokens':>7} {'FISTA codes/s':>14} {'sklearn codes/s':>16} {'ratio':>7} "
          f"{'rel. obj. diff':>15} {'FISTA tol':>10}")
    for d, k, m in sizes:
        phi = rng.standard_normal((d, k))
        phi /= np.linalg.norm(phi, axis=0)
        x = rng.standard_normal((m, d)) + 0.5
        t_sk, a_sk = _best(lambda: sparse_encode(x, phi.T, algorithm="lasso_cd", alpha=lam, positive=True,
                                                 max_iter=10000), 2)
        o_sk = _objective(x, phi, a_sk, lam)
        for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9):
            sol = sparse_codes(x, phi, lam, tol=tol, max_steps=20000, throw=False)  # compiles once per shape
            if sol.action <= o_sk * (1 + args.rtol):
                break
        t_f, sol = _best(lambda: sparse_codes(x, phi, lam, tol=tol, max_steps=20000, throw=False), 3)
        rel = (sol.action - o_sk) / o_sk
        print(f"{d:>4} {k:>4} {m:>7} {m / t_f:>14.0f} {m / t_sk:>16.0f} {t_sk / t_f:>7.2f} {rel:>15.2e} {tol:>10.0e}")


if __name__ == "__main__":
    main()
