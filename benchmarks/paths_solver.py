"""Benchmark: second-order (Newton) solver vs the Adam baseline on the bundled HMM task.

For each size (P, L, H) it reports
- Newton's time to residual ≤ 1e-9 (compile excluded: each solver is run once to compile, then timed),
- Adam's time to reach the same action (S ≤ S_newton + rtol |S_newton|, rtol = --action-rtol,
  default 1e-10), capped by --adam-steps,
- the ratio t_adam / t_newton (a lower bound, marked '>', when Adam hit its cap),
- the cost split of one Newton iteration: kernel build, Cholesky of K + T I, energy Hessian;
and times a 100-point α-sweep at P = 500, L = 2, H = 2 (one compiled program).

Run: python benchmarks/paths_solver.py [--quick]   (--quick: P ∈ {100, 500}, fewer Adam steps)
Pin one core for the sweep target with: taskset -c 0 python benchmarks/paths_solver.py
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import statmech_attn.paths as sp
from statmech_attn.paths._kernels import renormalised_kernel
from statmech_attn.paths._solve import energy_hessian

HEADS = {
    (1, 2): (("same_token", "blank"),),
    (1, 4): (("same_token", "different_token", "uniform", "blank"),),
    (2, 2): (("same_token", "blank"), ("uniform", "blank")),
    (2, 4): (("same_token", "different_token", "uniform", "blank"), ("uniform", "blank", "same_token", "blank")),
}


def make(P: int, L: int, H: int, n_features: int, tokens: int) -> sp.PathsProblem:
    task = sp.HMMTask(n_features=n_features, tokens=tokens, n_train=P, n_test=0, layer_heads=HEADS[(L, H)])
    data = sp.hmm_task(task)
    model = sp.PathsModel(heads=task.heads, readout="last", sigma2_layers=(1.0,) * L, widths=(float(P),) * L,
                          width_readout=float(P), temperature=0.01)
    return sp.problem_from_data(model, data)


def timed(fn, repeat: int = 1):
    fn()  # compile
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    jax.block_until_ready(jax.tree_util.tree_leaves(out))
    return (time.perf_counter() - t0) / repeat, out


def cost_split(problem: sp.PathsProblem, U1) -> dict[str, float]:
    a = problem.arrays
    T = problem.model.temperature
    kern = jax.jit(renormalised_kernel)
    chol = jax.jit(lambda k: jnp.linalg.cholesky(k + T * jnp.eye(k.shape[0])))
    hess = jax.jit(energy_hessian)
    t_k, K = timed(lambda: kern(U1, a.xt), 3)
    t_c, _ = timed(lambda: chol(K), 3)
    t_h, _ = timed(lambda: hess(U1, a, jnp.asarray(T)), 1)
    return {"kernel": t_k, "cholesky": t_c, "hessian": t_h}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--sweep-points", type=int, default=100)
    ap.add_argument("--action-rtol", type=float, default=1e-10)
    args = ap.parse_args()
    sizes = [100, 500] if args.quick else [100, 500, 2000]
    adam_steps = args.adam_steps or (5_000 if args.quick else 50_000)
    n_features, tokens = (40, 10) if args.quick else (200, 30)
    print(f"{'P':>5} {'L':>2} {'H':>2} {'P_eff':>6} {'newton_s':>9} {'it':>3} {'adam_s':>9} {'adam_it':>8} {'ratio':>9}"
          f" {'dS_rel':>9} {'kernel_s':>9} {'chol_s':>8} {'hess_s':>8}")
    for P in sizes:
        for (L, H) in [(1, 2), (1, 4), (2, 2), (2, 4)]:
            pr = make(P, L, H, n_features, tokens)
            t_n, sol = timed(lambda: sp.solve(pr, tol=1e-9))
            target = sol.action + args.action_rtol * abs(sol.action)
            t_a, adam = timed(lambda: sp.solve(pr, solver="adam", tol=1e-12, max_steps=adam_steps, throw=False,
                                               target_action=target))
            reached = adam.action <= target
            ratio = t_a / t_n
            split = cost_split(pr, sol.value.U[0])
            print(f"{P:>5} {L:>2} {H:>2} {pr.arrays.xt.shape[0]:>6} {t_n:>9.3f} {sol.iterations:>3} {t_a:>9.3f}"
                  f" {adam.iterations:>8} {('' if reached else '>') + f'{ratio:.1f}':>9}"
                  f" {(adam.action - sol.action) / abs(sol.action):>9.1e} {split['kernel']:>9.4f}"
                  f" {split['cholesky']:>8.4f} {split['hessian']:>8.4f}")
    pr = make(500, 2, 2, n_features, tokens)
    alphas = np.geomspace(0.05, 20.0, args.sweep_points)
    t0 = time.perf_counter()
    sols = sp.sweep(pr, alphas)
    t_first = time.perf_counter() - t0
    t_s, sols = timed(lambda: sp.sweep(pr, alphas))
    n_ok = sum(s.converged for s in sols)
    print(f"\nα-sweep, {len(alphas)} points, P=500, L=2, H=2: {t_first:.2f} s including compilation, {t_s:.2f} s compiled;"
          f" {n_ok}/{len(alphas)} converged, max residual {max(s.residual for s in sols):.1e}")


if __name__ == "__main__":
    main()
