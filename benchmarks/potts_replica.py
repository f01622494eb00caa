"""Benchmark: the replica α-curve (theory/potts.md §7) — JAX cubature solver vs a NumPy Monte-Carlo reference.

Setting of check 5 (C = 3, U = 2I − (2/3)11ᵀ, ρ = 1, λ = 0.1), α log-spaced from 0.05 to 20.

- **solver**: :func:`statmech_attn.potts.replica.replica_curve` with the config defaults (product
  Gauss–Hermite rule, n = 24 nodes per dimension for ξ and ζ, Newton on the fixed-point residual,
  continuation in one ``lax.scan``); compiled once by a first call (its time is reported), then timed
  (best of ``--repeats``).  The same with ``solver = "broyden"`` for comparison.
- **baseline**: the same equations (13)–(14) written here in NumPy with K = 20 000 Gaussian samples
  (ξ, ζ) (common random numbers), the proximal map by vectorised Newton (warm-started), damped
  fixed-point iteration (damping 0.5) to the same residual 1e-10.  It runs on every
  ``--mc-every``-th α; as in a continuation sweep each of those points starts from the solution at
  its neighbouring α (the cubature reference there, which is within the Monte-Carlo error of the
  Monte-Carlo solution) with the proximal points of that neighbour; its time per point times the
  number of points is the baseline curve time (stated in the table).
- **accuracy**: max relative error of (m, q, V) against a high-order cubature (n = 64 per dimension;
  its own change from n = 48 is printed) at the same α.

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

    def solve(self, alpha: float, x0: np.ndarray, tol: float = 1e-10, max_steps: int = 5000) -> tuple[np.ndarray, int, float]:
        """Damped iteration; returns (x, iterations, residual)."""
        x = x0.copy()
        res = math.inf
        for k in range(max_steps):
            Fx = self.map(x, alpha)
            res = float(np.max(np.abs(Fx - x)))
            if res <= tol:
                return x, k, res
            x = 0.5 * x + 0.5 * Fx
        return x, max_steps, res


def state(recs: list[dict]) -> np.ndarray:
    return np.array([[r["m"], r["q"], r["V"]] for r in recs])


def rel_err(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.max(np.abs(x - ref) / np.abs(ref), axis=-1)


def timed_curve(setting: R.ReplicaSetting, alphas: np.ndarray, solver: str, repeats: int) -> tuple[list[dict], float, float]:
    """(records, first call incl. compilation, best of ``repeats`` compiled calls) in seconds."""
    t0 = time.perf_counter()
    R.replica_curve(setting, alphas, solver=solver, cubature_check=False)
    first = time.perf_counter() - t0
    best, recs = math.inf, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        recs = R.replica_curve(setting, alphas, solver=solver, cubature_check=False)
        best = min(best, time.perf_counter() - t0)
    return recs, first, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 α points, Monte Carlo on 2 of them")
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--mc-every", type=int, default=10)
    ap.add_argument("--order", type=int, default=24, help="Gauss–Hermite nodes per dimension of the solver (ξ)")
    ap.add_argument("--teacher-order", type=int, default=None, help="nodes per dimension for ζ (default: the setting's)")
    ap.add_argument("--repeats", type=int, default=3, help="compiled solver runs; the best is reported")
    ap.add_argument("--samples", type=int, default=20_000, help="Monte-Carlo samples K")
    args = ap.parse_args()
    n_pts, every = (20, 10) if args.quick else (args.points, args.mc_every)
    U = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))
    setting = R.ReplicaSetting.from_colour_matrix(U, teacher_norm=1.0, ridge=0.1, cubature_order=args.order,
                                                  cubature_order_teacher=args.teacher_order)
    alphas = np.geomspace(0.05, 20.0, n_pts)

    recs, t_first, t_solver = timed_curve(setting, alphas, "newton", args.repeats)
    recs_b, t_first_b, t_broyden = timed_curve(setting, alphas, "broyden", args.repeats)
    ref = state(R.replica_curve(setting.replace(cubature_order=64, cubature_order_teacher=64), alphas,
                                cubature_check=False))
    ref48 = state(R.replica_curve(setting.replace(cubature_order=48, cubature_order_teacher=48), alphas,
                                  cubature_check=False))
    err_solver = rel_err(state(recs), ref)
    err_broyden = rel_err(state(recs_b), ref)

    mc = MonteCarloReference(setting, K=args.samples)
    idx = list(range(max(1, every - 1), n_pts, every))
    t_mc, err_mc, its, res_mc = 0.0, [], [], []
    for i in idx:
        x0 = ref[i - 1].copy()
        mc.z = None
        mc.map(x0, float(alphas[i - 1]))  # proximal points of the neighbour (untimed), as in a sweep
        t0 = time.perf_counter()
        x, k, res = mc.solve(float(alphas[i]), x0)
        t_mc += time.perf_counter() - t0
        its.append(k)
        res_mc.append(res)
        err_mc.append(float(rel_err(x, ref[i])))
    mc_per_point = t_mc / len(idx)
    mc_curve = mc_per_point * n_pts
    err_solver_at_mc = float(np.max(err_solver[idx]))

    rows = [
        ("α points (0.05 … 20, log-spaced)", f"{n_pts}"),
        (f"solver rule: ξ {setting.rules()[0].kind} n={setting.cubature_order} ({setting.rules()[0].size} nodes), "
         f"ζ n={setting.teacher_order} ({setting.rules()[1].size} nodes)", ""),
        ("newton: max residual / all converged", f"{max(r['residual'] for r in recs):.1e} / {all(r['converged'] for r in recs)}"),
        ("newton: iterations per point (mean)", f"{np.mean([r['iterations'] for r in recs]):.2f}"),
        ("newton: first call incl. compilation (s)", f"{t_first:.2f}"),
        ("newton: curve time, compiled (s)", f"{t_solver:.3f}"),
        ("broyden: max residual / iterations per point / curve time (s)",
         f"{max(r['residual'] for r in recs_b):.1e} / {np.mean([r['iterations'] for r in recs_b]):.2f} / {t_broyden:.3f}"),
        (f"Monte Carlo (K = {args.samples}): points run / time per point (s)", f"{len(idx)} / {mc_per_point:.2f}"),
        ("Monte Carlo: max residual / damped iterations per point (mean)", f"{max(res_mc):.1e} / {np.mean(its):.0f}"),
        ("Monte Carlo: curve time = per point × points (s)", f"{mc_curve:.1f}"),
        ("SPEED-UP newton (compiled) = MC curve / solver curve", f"{mc_curve / t_solver:.0f}x"),
        ("speed-up newton incl. compilation", f"{mc_curve / t_first:.0f}x"),
        ("speed-up broyden (compiled)", f"{mc_curve / t_broyden:.0f}x"),
        ("reference n=64: max rel. change of (m,q,V) from n=48", f"{rel_err(ref48, ref).max():.1e}"),
        (f"max rel. error of (m,q,V) vs n=64: solver, all {n_pts} points", f"{err_solver.max():.1e}"),
        (f"max rel. error of (m,q,V) vs n=64: solver, the {len(idx)} MC points", f"{err_solver_at_mc:.1e}"),
        ("max rel. error of (m,q,V) vs n=64: broyden, all points", f"{err_broyden.max():.1e}"),
        (f"max rel. error of (m,q,V) vs n=64: Monte Carlo, {len(idx)} points", f"{max(err_mc):.1e}"),
    ]
    w = max(len(a) for a, _ in rows)
    print("potts replica α-curve benchmark (C = 3, ρ = 1, λ = 0.1)")
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")


if __name__ == "__main__":
    main()
