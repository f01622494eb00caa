"""Benchmark: second-order (Newton) solver vs the Adam baseline on the bundled HMM task.

For each size (P, L, H) it reports
- Newton's time to residual ≤ 1e-9 (compile excluded: each solver is run once to compile, then timed),
- Adam's time to reach the same action (S ≤ S_newton + rtol |S_newton|, rtol = --action-rtol,
  default 1e-10), capped by --adam-steps, at its best learning rate among --adam-lrs (scanned at
  P = 100 and 500; P = 2000 reuses the best rate found at P = 500 for the same L, H),
- the ratio t_adam / t_newton (a lower bound, marked '>', when Adam hit its cap),
- the cost split of one Newton iteration: kernel build + Cholesky + whitening (shared with Adam's
  gradient), the energy Hessian, and one full derivative evaluation (value, gradient, Hessian in θ).
and times a 100-point α-sweep at P = 500, L = 2, H = 2 (one compiled program).

Times are CPU seconds of this process (``time.process_time``), pinned to one core with XLA
restricted to one thread, i.e. the cost on one core, which a machine shared with other jobs does not distort as it does
wall-clock time; ``--wall`` reports wall-clock seconds instead.

Run: python benchmarks/paths_solver.py [--quick]   (--quick: n_features 40, 10 tokens, P ∈ {100, 500})
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
if hasattr(os, "sched_setaffinity"):  # one core: XLA's CPU runtime still starts helper threads, which must not spread
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import statmech_attn.paths as sp
from statmech_attn.paths._action import energy_factors
from statmech_attn.paths._solve import _theta_value_grad_hess, energy_hessian_from, layout_of, pack

CLOCK = time.process_time

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
    jax.block_until_ready(jax.tree_util.tree_leaves(fn()))  # compile
    t0 = CLOCK()
    for _ in range(repeat):
        out = fn()
        jax.block_until_ready(jax.tree_util.tree_leaves(out))
    return (CLOCK() - t0) / repeat, out


def cost_split(problem: sp.PathsProblem, U) -> dict[str, float]:
    a = problem.arrays
    hyper = problem.model.hyper()
    T = jnp.asarray(problem.model.temperature)
    layout = layout_of(problem.model.heads)
    theta = pack(U, layout)
    factors = jax.jit(energy_factors)
    hess = jax.jit(energy_hessian_from)
    derivs = jax.jit(_theta_value_grad_hess, static_argnums=3)
    t_f, f = timed(lambda: factors(U[0], a, T), 3)
    t_h, _ = timed(lambda: hess(f), 2)
    t_d, _ = timed(lambda: derivs(theta, a, hyper, layout), 2)
    return {"factors": t_f, "hessian": t_h, "derivs": t_d}


def adam_run(pr: sp.PathsProblem, target: float, lr: float, steps: int):
    return timed(lambda: sp.solve(pr, solver="adam", tol=1e-12, max_steps=steps, throw=False, target_action=target,
                                  learning_rate=lr))


def main() -> None:
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--adam-lrs", default="0.01,0.03,0.1", help="Adam learning rates to scan (best one is used)")
    ap.add_argument("--sizes", default=None, help="comma-separated P values (default 100,500,2000; quick 100,500)")
    ap.add_argument("--sweep-points", type=int, default=100)
    ap.add_argument("--action-rtol", type=float, default=1e-10)
    ap.add_argument("--wall", action="store_true", help="report wall-clock instead of CPU seconds")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    sizes = [int(v) for v in args.sizes.split(",")] if args.sizes else ([100, 500] if args.quick else [100, 500, 2000])
    lrs = [float(v) for v in args.adam_lrs.split(",")]
    adam_steps = args.adam_steps or (5_000 if args.quick else 20_000)
    n_features, tokens = (40, 10) if args.quick else (200, 30)
    unit = "wall" if args.wall else "CPU"
    print(f"times in {unit} seconds; XLA_FLAGS={os.environ.get('XLA_FLAGS')}")
    print(f"{'P':>5} {'L':>2} {'H':>2} {'P_eff':>6} {'newton_s':>9} {'it':>3} {'adam_s':>9} {'adam_it':>8} {'lr':>5} {'ratio':>9}"
          f" {'dS_rel':>9} {'factors_s':>9} {'hess_s':>8} {'derivs_s':>8}")
    best_lr: dict[tuple[int, int], float] = {}
    for P in sizes:
        for (L, H) in [(1, 2), (1, 4), (2, 2), (2, 4)]:
            pr = make(P, L, H, n_features, tokens)
            t_n, sol = timed(lambda: sp.solve(pr, tol=1e-9))
            target = sol.action + args.action_rtol * abs(sol.action)
            scan = [best_lr[(L, H)]] if (P > 500 and (L, H) in best_lr) else lrs
            runs = [(lr,) + adam_run(pr, target, lr, adam_steps) for lr in scan]
            runs.sort(key=lambda r: (r[2].action > target, r[1]))
            lr, t_a, adam = runs[0]
            best_lr[(L, H)] = lr
            reached = adam.action <= target
            ratio = t_a / t_n
            split = cost_split(pr, sol.value.U)
            print(f"{P:>5} {L:>2} {H:>2} {pr.arrays.xt.shape[0]:>6} {t_n:>9.3f} {sol.iterations:>3} {t_a:>9.3f}"
                  f" {adam.iterations:>8} {lr:>5.2g} {('' if reached else '>') + f'{ratio:.1f}':>9}"
                  f" {(adam.action - sol.action) / abs(sol.action):>9.1e} {split['factors']:>9.4f}"
                  f" {split['hessian']:>8.4f} {split['derivs']:>8.4f}", flush=True)
    pr = make(500, 2, 2, n_features, tokens)
    alphas = np.geomspace(0.05, 20.0, args.sweep_points)
    t0 = CLOCK()
    sols = sp.sweep(pr, alphas)
    t_first = CLOCK() - t0
    t_s, sols = timed(lambda: sp.sweep(pr, alphas))
    n_ok = sum(s.converged for s in sols)
    print(f"\nα-sweep, {len(alphas)} points, P=500, L=2, H=2: {t_first:.2f} s including compilation, {t_s:.2f} s compiled"
          f" ({unit}); {n_ok}/{len(alphas)} converged, max residual {max(s.residual for s in sols):.1e},"
          f" mean Newton iterations {np.mean([s.iterations for s in sols]):.1f}")


if __name__ == "__main__":
    main()
