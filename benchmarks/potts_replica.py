"""Benchmark: the replica α-curve (theory/potts.md §7) — JAX cubature solver vs a NumPy Monte-Carlo reference.

Settings (C = 3, ρ = 1, α log-spaced from 0.05 to 20): ``sym`` — check 5, U = 2I − (2/3)11ᵀ, λ = 0.1
(the detailed table); ``nonsym`` — a non-symmetric colour matrix, λ = 0.1; ``ridge1`` — U of check 5
with λ = 1; ``nonsym_ridge1`` — both (``--cases`` picks).

- **solver**: :func:`statmech_attn.potts.replica.replica_curve` with the command line's defaults
  (product Gauss–Hermite rule, n = 24 nodes per dimension for ξ and ζ, Newton on the fixed-point
  residual, continuation in one ``lax.scan``, **the cubature certificate included**: every point's
  ``cubature_change``, the relative change of (m, q, V) at the fixed point of the rule with ⌈1.5n⌉
  nodes, solved after the curve from each point's solution and Jacobian); compiled once by a first
  call (its time is reported), then timed (best of ``--repeats``).  Also without the certificate
  (``cubature_check=False``) and with ``solver = "broyden"``, for comparison.
- **baseline**: the same equations (13)–(14) written here in NumPy with K = 20 000 Gaussian samples
  (ξ, ζ) (common random numbers), the proximal map by vectorised Newton (warm-started), damped
  fixed-point iteration (damping 0.5) to the same residual 1e-10.  It runs on every
  ``--mc-every``-th α; as in a continuation sweep each of those points starts from the solution at
  its neighbouring α (the cubature reference there, which is within the Monte-Carlo error of the
  Monte-Carlo solution) with the proximal points of that neighbour; its time per point times the
  number of points is the baseline curve time (stated in the table).
- **accuracy**: max relative error of (m, q, V) against a high-order cubature (n = 64 per dimension;
  its own change from n = 48 is printed) at the same α.

The target (issue 19): the 100-point curve, certificate included, ≥ 100× the Monte-Carlo curve, in
every setting.  Times are CPU seconds of this process pinned to one core (XLA on one thread, NumPy's
BLAS on one thread), which other jobs on a shared machine do not distort as they do wall-clock time.

    python benchmarks/potts_replica.py [--quick] [--points 100] [--mc-every 10] [--cases sym,nonsym,ridge1,nonsym_ridge1]
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse
import math
import time

import numpy as np

import statmech_attn  # noqa: F401  (float64)
from statmech_attn.potts import replica as R

CLOCK = time.process_time
U_SYM = 2 * np.eye(3) - (2 / 3) * np.ones((3, 3))
U_NONSYM = np.array([[1.2, -0.5, -0.3], [-0.9, 1.1, 0.2], [0.1, -0.7, 0.9]])
CASES = {"sym": (U_SYM, 0.1), "nonsym": (U_NONSYM, 0.1), "ridge1": (U_SYM, 1.0), "nonsym_ridge1": (U_NONSYM, 1.0)}
TARGET = 100.0


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


def timed_curve(setting: R.ReplicaSetting, alphas: np.ndarray, solver: str, repeats: int,
                check: bool = True) -> tuple[list[dict], float, float]:
    """(records, first call incl. compilation, best of ``repeats`` compiled calls) in seconds."""
    t0 = CLOCK()
    R.replica_curve(setting, alphas, solver=solver, cubature_check=check)
    first = CLOCK() - t0
    best, recs = math.inf, []
    for _ in range(repeats):
        t0 = CLOCK()
        recs = R.replica_curve(setting, alphas, solver=solver, cubature_check=check)
        best = min(best, CLOCK() - t0)
    return recs, first, best


def mc_curve_time(setting: R.ReplicaSetting, alphas: np.ndarray, ref: np.ndarray, idx: list[int], samples: int):
    """The Monte-Carlo baseline on the points ``idx``, each from its neighbour's reference solution:
    (curve time = time per point × points, per-point errors vs ``ref``, iterations, residuals)."""
    mc = MonteCarloReference(setting, K=samples)
    t_mc, err_mc, its, res_mc = 0.0, [], [], []
    for i in idx:
        x0 = ref[i - 1].copy()
        mc.z = None
        mc.map(x0, float(alphas[i - 1]))  # proximal points of the neighbour (untimed), as in a sweep
        t0 = CLOCK()
        x, k, res = mc.solve(float(alphas[i]), x0)
        t_mc += CLOCK() - t0
        its.append(k)
        res_mc.append(res)
        err_mc.append(float(rel_err(x, ref[i])))
    return t_mc / len(idx) * len(alphas), err_mc, its, res_mc


def main() -> None:
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 α points, Monte Carlo on 2 of them")
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--mc-every", type=int, default=10)
    ap.add_argument("--order", type=int, default=24, help="Gauss–Hermite nodes per dimension of the solver (ξ)")
    ap.add_argument("--teacher-order", type=int, default=None, help="nodes per dimension for ζ (default: the setting's)")
    ap.add_argument("--repeats", type=int, default=3, help="compiled solver runs; the best is reported")
    ap.add_argument("--samples", type=int, default=20_000, help="Monte-Carlo samples K")
    ap.add_argument("--cases", default="sym,nonsym,ridge1,nonsym_ridge1", help="settings to run: " + ", ".join(CASES))
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of CPU seconds")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    n_pts, every = (20, 10) if args.quick else (args.points, args.mc_every)
    alphas = np.geomspace(0.05, 20.0, n_pts)
    idx = list(range(max(1, every - 1), n_pts, every))
    summary = []
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        U, lam = CASES[case]
        setting = R.ReplicaSetting.from_colour_matrix(U, teacher_norm=1.0, ridge=lam, cubature_order=args.order,
                                                      cubature_order_teacher=args.teacher_order)
        recs, t_first, t_solver = timed_curve(setting, alphas, "newton", args.repeats, check=True)
        _, _, t_nocheck = timed_curve(setting, alphas, "newton", args.repeats, check=False)
        ref = state(R.replica_curve(setting.replace(cubature_order=64, cubature_order_teacher=64), alphas,
                                    cubature_check=False))
        err_solver = rel_err(state(recs), ref)
        mc_curve, err_mc, its, res_mc = mc_curve_time(setting, alphas, ref, idx, args.samples)
        change = np.array([r["cubature_change"] for r in recs])
        speedup = mc_curve / t_solver
        summary.append((case, lam, t_solver, t_nocheck, t_first, mc_curve, speedup, mc_curve / t_nocheck, change.max(),
                        err_solver.max(), max(err_mc), all(r["converged"] for r in recs)))
        if case != "sym":
            continue
        recs_b, _, t_broyden = timed_curve(setting, alphas, "broyden", args.repeats, check=False)
        ref48 = state(R.replica_curve(setting.replace(cubature_order=48, cubature_order_teacher=48), alphas,
                                      cubature_check=False))
        err_broyden = rel_err(state(recs_b), ref)
        rows = [
            ("α points (0.05 … 20, log-spaced)", f"{n_pts}"),
            (f"solver rule: ξ {setting.rules()[0].kind} n={setting.cubature_order} ({setting.rules()[0].size} nodes), "
             f"ζ n={setting.teacher_order} ({setting.rules()[1].size} nodes); certificate ⌈1.5n⌉ = "
             f"{math.ceil(1.5 * setting.cubature_order)}", ""),
            ("newton: max residual / all converged", f"{max(r['residual'] for r in recs):.1e} / {all(r['converged'] for r in recs)}"),
            ("newton: iterations per point (mean)", f"{np.mean([r['iterations'] for r in recs]):.2f}"),
            ("newton: first call incl. compilation (s)", f"{t_first:.2f}"),
            ("newton: curve time with the certificate (command line default), compiled (s)", f"{t_solver:.3f}"),
            ("newton: curve time without the certificate, compiled (s)", f"{t_nocheck:.3f}"),
            ("certificate: cubature_change max / median over the curve", f"{change.max():.1e} / {np.median(change):.1e}"),
            ("broyden (no certificate): max residual / iterations per point / curve time (s)",
             f"{max(r['residual'] for r in recs_b):.1e} / {np.mean([r['iterations'] for r in recs_b]):.2f} / {t_broyden:.3f}"),
            (f"Monte Carlo (K = {args.samples}): points run / time per point (s)", f"{len(idx)} / {mc_curve / n_pts:.2f}"),
            ("Monte Carlo: max residual / damped iterations per point (mean)", f"{max(res_mc):.1e} / {np.mean(its):.0f}"),
            ("Monte Carlo: curve time = per point × points (s)", f"{mc_curve:.1f}"),
            ("SPEED-UP newton with the certificate (compiled) = MC curve / solver curve", f"{speedup:.0f}x"),
            ("speed-up newton without the certificate", f"{mc_curve / t_nocheck:.0f}x"),
            ("speed-up newton incl. compilation", f"{mc_curve / t_first:.0f}x"),
            ("speed-up broyden (compiled, no certificate)", f"{mc_curve / t_broyden:.0f}x"),
            ("reference n=64: max rel. change of (m,q,V) from n=48", f"{rel_err(ref48, ref).max():.1e}"),
            (f"max rel. error of (m,q,V) vs n=64: solver, all {n_pts} points", f"{err_solver.max():.1e}"),
            (f"max rel. error of (m,q,V) vs n=64: solver, the {len(idx)} MC points", f"{float(np.max(err_solver[idx])):.1e}"),
            ("max rel. error of (m,q,V) vs n=64: broyden, all points", f"{err_broyden.max():.1e}"),
            (f"max rel. error of (m,q,V) vs n=64: Monte Carlo, {len(idx)} points", f"{max(err_mc):.1e}"),
        ]
        w = max(len(a) for a, _ in rows)
        print(f"potts replica α-curve benchmark (C = 3, ρ = 1, λ = 0.1; {'wall' if args.wall else 'CPU'} seconds, one core)")
        for a, b in rows:
            print(f"  {a:<{w}}  {b}")
        print(flush=True)
    print(f"{'setting':<14} {'λ':>4} {'curve_s':>8} {'no_cert_s':>9} {'first_s':>8} {'MC_curve_s':>10} {'speed-up':>8}"
          f" {'(no cert)':>9} {'max_change':>10} {'err_vs_n64':>10} {'err_MC':>8} {'converged':>9} {'≥100x':>5}")
    for (case, lam, t, t0, tf, mc, sp, sp0, ch, e, emc, conv) in summary:
        print(f"{case:<14} {lam:>4g} {t:>8.3f} {t0:>9.3f} {tf:>8.2f} {mc:>10.1f} {sp:>7.0f}x {sp0:>8.0f}x {ch:>10.1e}"
              f" {e:>10.1e} {emc:>8.1e} {str(conv):>9} {'yes' if sp >= TARGET else 'no':>5}")


if __name__ == "__main__":
    main()
