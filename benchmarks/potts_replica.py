"""Benchmark: the replica α-curve (theory/potts.md §7) — JAX cubature solver vs a NumPy Monte-Carlo reference.

Setting of check 5 (C = 3, U = 2I − (2/3)11ᵀ, ρ = 1, λ = 0.1), α log-spaced from 0.05 to 20.

- **solver**: :func:`statmech_attn.potts.replica.replica_curve` (Gauss–Hermite product cubature, n nodes per
  dimension, Newton on the fixed-point residual, continuation in one ``lax.scan``); timed after a first
  (compiling) call, compile time reported separately.
- **baseline**: the same equations (13)–(14) written here in NumPy with K = 20 000 Gaussian samples
  (ξ, ζ) (common random numbers), the proximal map by vectorised Newton (warm-started), damped fixed-point
  iteration (damping 0.5) per α from the previous α's solution, to the same residual 1e-10.  It is run on
  every ``--mc-every``-th α and its time per point is extrapolated to the whole curve (stated in the table).
- **accuracy**: both against a high-order cubature reference (n = 48 per dimension) at the same α.

    python benchmarks/potts_replica.py [--quick] [--points 100] [--mc-every 10]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import statmech_attn  # noqa: F401  (float64)
from statmech_attn.potts import replica as R


def softmax(t: np.ndarray) -> np.ndarray:
    t = t - t.max(axis=-1, keepdims=True)
    e = np.exp(t)
    return e / e.sum(axis=-1, keepdims=True)


class MonteCarloReference:
    """(13)–(14) by Monte Carlo: K fixed samples (ξ, ζ) ~ N(0, I_r)², NumPy."""

    def __init__(self, setting: R.ReplicaSetting, K: int = 20_000, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.B = setting.range_basis
        self.C, self.r = self.B.shape
        self.rho, self.lam = setting.teacher_norm, setting.ridge
        self.xi, self.zeta = rng.standard_normal((2, K, self.r))
        self.z = None  # warm start of the proximal points (K, C, r)

    def prox(self, omega: np.ndarray, V: float) -> np.ndarray:
        B, C, r = self.B, self.C, self.r
        z = np.repeat(omega[:, None, :], C, axis=1) if self.z is None else self.z.copy()
        E = np.eye(C)
        for _ in range(100):
            p = softmax(z @ B.T)  # (K, C, C): row y = softmax(B z_y)
            g = (z - omega[:, None, :]) / V + (p - E) @ B
            D = p[..., :, None] * np.eye(C) - p[..., :, None] * p[..., None, :]
            H = np.eye(r) / V + B.T @ D @ B
            step = np.linalg.solve(H, g[..., None])[..., 0]
            step /= np.maximum(1.0, np.linalg.norm(step, axis=-1, keepdims=True) / 2.0)
            z = z - step
            if np.max(np.abs(step)) < 1e-13:
                break
        self.z = z
        return z

    def map(self, x: np.ndarray, alpha: float) -> np.ndarray:
        m, q, V = x
        B, C, r = self.B, self.C, self.r
        omega = math.sqrt(q) * self.xi
        u = (m / math.sqrt(q)) * self.xi + math.sqrt(max(self.rho - m * m / q, 0.0)) * self.zeta
        ps = softmax(u @ B.T)  # (K, C)
        z = self.prox(omega, V)
        f = (z - omega[:, None, :]) / V  # (K, C, r)
        grad = ps[:, :, None] * (np.eye(C)[None] - ps[:, None, :])  # p*_y (e_y − p*)  (K, y, c)
        m_hat = alpha * np.mean(np.einsum("kyr,cr,kyc->k", f, B, grad))
        q_hat = alpha * np.mean(np.einsum("ky,kyr->k", ps, f * f))
        p = softmax(z @ B.T)
        D = p[..., :, None] * np.eye(C) - p[..., :, None] * p[..., None, :]
        A = np.eye(r) + V * B.T @ D @ B
        tr = np.trace(np.linalg.inv(A), axis1=-2, axis2=-1)
        V_hat = alpha * np.mean(np.sum(ps * (r - tr) / V, axis=1))
        den = self.lam + V_hat
        return np.array([self.rho * m_hat / den, (self.rho * m_hat ** 2 + q_hat) / den ** 2, 1 / den])

    def solve(self, alpha: float, x0: np.ndarray, tol: float = 1e-10, max_steps: int = 5000) -> tuple[np.ndarray, int]:
        x = x0.copy()
        for k in range(max_steps):
            Fx = self.map(x, alpha)
            if np.max(np.abs(Fx - x)) <= tol:
                return x, k
            x = 0.5 * x + 0.5 * Fx
        return x, max_steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 α points, Monte Carlo on 2 of them")
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--mc-every", type=int, default=10)
    ap.add_argument("--order", type=int, default=24, help="Gauss–Hermite nodes per dimension of the solver")
    args = ap.parse_args()
    n_pts, every = (20, 10) if args.quick else (args.points, args.mc_every)
    U = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))
    setting = R.ReplicaSetting.from_colour_matrix(U, teacher_norm=1.0, ridge=0.1, cubature_order=args.order)
    alphas = np.geomspace(0.05, 20.0, n_pts)

    t0 = time.perf_counter()
    R.replica_curve(setting, alphas, cubature_check=False)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    recs = R.replica_curve(setting, alphas, cubature_check=False)
    t_solver = time.perf_counter() - t0
    ref = R.replica_curve(setting.replace(cubature_order=48), alphas, cubature_check=False)
    x_sol = np.array([[r["m"], r["q"], r["V"]] for r in recs])
    x_ref = np.array([[r["m"], r["q"], r["V"]] for r in ref])
    err_solver = np.max(np.abs(x_sol - x_ref) / np.abs(x_ref), axis=1)

    mc = MonteCarloReference(setting)
    idx = list(range(0, n_pts, every))
    x = np.array([0.01, 0.02, 1 / setting.ridge])
    t_mc, err_mc, its = 0.0, [], []
    for i in idx:
        t0 = time.perf_counter()
        x, k = mc.solve(float(alphas[i]), x)
        t_mc += time.perf_counter() - t0
        its.append(k)
        err_mc.append(float(np.max(np.abs(x - x_ref[i]) / np.abs(x_ref[i]))))
    mc_per_point = t_mc / len(idx)
    mc_curve = mc_per_point * n_pts

    rows = [
        ("α points (0.05 … 20, log)", f"{n_pts}"),
        ("solver: residual max / all converged", f"{max(r['residual'] for r in recs):.1e} / {all(r['converged'] for r in recs)}"),
        ("solver: Newton iterations per point (mean)", f"{np.mean([r['iterations'] for r in recs]):.1f}"),
        ("solver: first call incl. compilation (s)", f"{t_first:.2f}"),
        ("solver: curve time, compiled (s)", f"{t_solver:.3f}"),
        (f"Monte Carlo (K = 20000): time per point, {len(idx)} points (s)", f"{mc_per_point:.2f}"),
        ("Monte Carlo: damped iterations per point (mean)", f"{np.mean(its):.0f}"),
        ("Monte Carlo: curve time, extrapolated (s)", f"{mc_curve:.1f}"),
        ("speed-up (compiled) = MC curve / solver curve", f"{mc_curve / t_solver:.0f}x"),
        ("speed-up incl. compilation", f"{mc_curve / t_first:.0f}x"),
        (f"max rel. error of (m,q,V) vs n=48 cubature: solver n={args.order}", f"{err_solver.max():.1e}"),
        ("max rel. error of (m,q,V) vs n=48 cubature: Monte Carlo", f"{max(err_mc):.1e}"),
    ]
    w = max(len(a) for a, _ in rows)
    print("potts replica α-curve benchmark (C = 3, ρ = 1, λ = 0.1)")
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")


if __name__ == "__main__":
    main()
