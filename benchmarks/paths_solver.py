"""Benchmark: second-order (Newton) solver vs the Adam baseline on the bundled HMM task.

For each size (P, L, H) it reports
- Newton's time to residual ≤ 1e-9 (compile excluded: each solver is run once to compile, then timed;
  a solve of a few ms is the mean over enough repeats to fill ~0.2 s),
- Adam's time to the same tolerance (residual ≤ 1e-9) and to the same action (S ≤ S_newton +
  rtol |S_newton|, rtol = --action-rtol, default 1e-12: twelve digits), both from one run capped by
  --adam-steps, each at Adam's best learning rate among --adam-lrs (scanned at P = 100 and 500;
  P = 2000 reuses the best rates found at P = 500 for the same L, H),
- the ratios t_adam / t_newton (lower bounds, marked '>', when Adam hit its cap),
- ratio_ad: the same Adam on jax.value_and_grad of the action instead of the package's closed-form
  gradient (what a research script runs; identical iterates, so its time is its per-step time times
  the package Adam's steps to the target action) over Newton's time,
- the cost split of one Newton iteration: kernel build, Cholesky of K + T I, whitening C⁻¹X̃ (these
  three are also the whole of Adam's gradient), the energy Hessian, and one full derivative
  evaluation (value, gradient, Hessian in θ).
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
import optax

import statmech_attn.paths as sp
from statmech_attn.paths._action import energy_factors, energy_gradient_x_from, training_kernel, uses_prekernels
from statmech_attn.paths._hessian import _theta_value_grad_hess, energy_gradient_hessian_x_from
from statmech_attn.paths._param import _action_x, _initial_theta, layout_of, pack_np, theta_to_x

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
    """Seconds of each part of one Newton iteration at U: kernel build, Cholesky of K + T I, the rest
    of the energy gradient (whitening z = C⁻¹X̃, or G = (K + T I)⁻¹ with stored pair kernels) — these
    three are Adam's gradient —, the energy Hessian, and the whole derivative evaluation."""
    a = problem.arrays
    hyper = problem.model.hyper()
    T = jnp.asarray(problem.model.temperature)
    layout = layout_of(problem.model.heads)
    theta = pack_np([np.asarray(u) for u in U], layout)
    p = a.xt.shape[0]
    kern = jax.jit(training_kernel)
    chol = jax.jit(lambda k: jnp.linalg.cholesky(k + T * jnp.eye(k.shape[0])))
    factors = jax.jit(energy_factors)
    grad = jax.jit(energy_gradient_x_from)
    hess = jax.jit(energy_gradient_hessian_x_from)
    derivs = jax.jit(_theta_value_grad_hess, static_argnums=3)
    t_k, K = timed(lambda: kern(U[0], a), 3)
    t_c, C = timed(lambda: chol(K), 3)
    t_f, f = timed(lambda: factors(U[0], a, T), 3)
    t_g, _ = timed(lambda: grad(f, a), 3)
    t_h, _ = timed(lambda: hess(f, a), 2)
    t_d, _ = timed(lambda: derivs(theta, a, hyper, layout), 2)
    return {"kernel": t_k, "cholesky": t_c, "whiten": max(t_f - t_k - t_c, 0.0) + t_g, "hessian": t_h, "derivs": t_d,
            "prekernels": uses_prekernels(a)}


def autodiff_adam_step(pr: sp.PathsProblem, lr: float, steps: int = 50) -> float:
    """Seconds per step of Adam on jax.value_and_grad of the action (autodiff through the Cholesky), as
    a research script would write it: same parametrisation, same iterates as the package's Adam (the
    gradient is the same function), so its time to a target is this times the package Adam's steps."""
    layout = layout_of(pr.model.heads)
    hyper = pr.model.hyper()
    theta0 = _initial_theta(pr, None, layout)
    opt = optax.adam(lr)
    vg = jax.value_and_grad(lambda t, a, h: _action_x(theta_to_x(t, layout), a, h, layout))

    @jax.jit
    def run(theta, arrays, hyper):
        def body(_, c):
            t, s = c
            _, g = vg(t, arrays, hyper)
            u, s = opt.update(g, s)
            return optax.apply_updates(t, u), s
        return jax.lax.fori_loop(0, steps, body, (theta, opt.init(theta)))

    t, _ = timed(lambda: run(theta0, pr.arrays, hyper))
    return t / steps


def adam_run(pr: sp.PathsProblem, target: float, lr: float, steps: int):
    """Adam run to residual ≤ 1e-9, recording the first iteration whose action is ≤ target."""
    return timed(lambda: sp.solve(pr, solver="adam", tol=1e-9, max_steps=steps, throw=False, target_action=target,
                                  stop_at_target=False, learning_rate=lr))


def adam_times(t: float, sol) -> tuple[float, float, bool, bool]:
    """(time to residual ≤ 1e-9, time to the target action, reached?, reached?) of one Adam run.

    Adam's iterations all cost the same, so the time to the target action is the run's time times
    the fraction of its iterations spent before the target was first met."""
    hit = sol.stats["iterations_to_target_action"]
    reached_res = sol.residual <= 1e-9
    reached_act = hit >= 0
    t_act = t * (hit + 1) / max(sol.iterations, 1) if reached_act else t
    return t, t_act, reached_res, reached_act


def main() -> None:
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--adam-lrs", default="0.01,0.03,0.1", help="Adam learning rates to scan (best one is used)")
    ap.add_argument("--sizes", default=None, help="comma-separated P values (default 100,500,2000; quick 100,500)")
    ap.add_argument("--skip", default="", help="cells to leave out, as P:L:H separated by commas (e.g. 2000:2:4)")
    ap.add_argument("--sweep-points", type=int, default=100)
    ap.add_argument("--action-rtol", type=float, default=1e-12)
    ap.add_argument("--wall", action="store_true", help="report wall-clock instead of CPU seconds")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    sizes = [int(v) for v in args.sizes.split(",")] if args.sizes else ([100, 500] if args.quick else [100, 500, 2000])
    lrs = [float(v) for v in args.adam_lrs.split(",")]
    skip = {c.strip() for c in args.skip.split(",") if c.strip()}
    adam_steps = args.adam_steps or (5_000 if args.quick else 20_000)
    n_features, tokens = (40, 10) if args.quick else (200, 30)
    unit = "wall" if args.wall else "CPU"
    print(f"times in {unit} seconds (one core); XLA_FLAGS={os.environ.get('XLA_FLAGS')}")
    print("ratio_ad: the same Adam run on an autodiff gradient of the action (a research script's Adam), time to the"
          " same action / Newton's")
    print(f"ratio_res: Adam's time to residual ≤ 1e-9 / Newton's; ratio_S: Adam's time to S ≤ S_newton + {args.action_rtol:g}|S_newton|"
          f" / Newton's; each at Adam's best learning rate ('>' : Adam did not get there in {adam_steps} steps)")
    print(f"{'P':>5} {'L':>2} {'H':>2} {'P_eff':>6} {'newton_s':>9} {'it':>3} {'adam_res_s':>10} {'lr':>5} {'ratio_res':>9}"
          f" {'adam_S_s':>9} {'lr':>5} {'ratio_S':>8} {'ratio_ad':>8} {'kernel_s':>8} {'chol_s':>8} {'whiten_s':>8} {'hess_s':>8} {'derivs_s':>8} {'pre':>4}")
    best_lr: dict[tuple[int, int], tuple[float, ...]] = {}
    for P in sizes:
        for (L, H) in [(1, 2), (1, 4), (2, 2), (2, 4)]:
            if f"{P}:{L}:{H}" in skip:
                print(f"{P:>5} {L:>2} {H:>2}  skipped (--skip)", flush=True)
                continue
            pr = make(P, L, H, n_features, tokens)
            t_n, sol = timed(lambda: sp.solve(pr, tol=1e-9))
            if t_n < 0.05:  # a few ms: the mean of enough repeats to fill ~0.2 s
                t_n, sol = timed(lambda: sp.solve(pr, tol=1e-9), repeat=max(2, int(0.2 / max(t_n, 1e-4))))
            target = sol.action + args.action_rtol * abs(sol.action)
            scan = best_lr[(L, H)] if (P > 500 and (L, H) in best_lr) else lrs
            runs, adam_hits = [], {}
            for lr in scan:
                t, adam = adam_run(pr, target, lr, adam_steps)
                runs.append((lr,) + adam_times(t, adam))
                adam_hits[lr] = adam.stats["iterations_to_target_action"]
            lr_r, t_r, ok_r, _, _ = min(runs, key=lambda r: (not r[3], r[1]))
            lr_s, _, t_s, _, ok_s = min(runs, key=lambda r: (not r[4], r[2]))
            best_lr[(L, H)] = tuple(sorted({lr_r, lr_s}))
            split = cost_split(pr, sol.value.U)
            t_ad = autodiff_adam_step(pr, lr_s) * (adam_hits[lr_s] + 1) if ok_s else float("nan")
            print(f"{P:>5} {L:>2} {H:>2} {pr.arrays.xt.shape[0]:>6} {t_n:>9.3f} {sol.iterations:>3} {t_r:>10.3f} {lr_r:>5.2g}"
                  f" {('' if ok_r else '>') + f'{t_r / t_n:.1f}':>9} {t_s:>9.3f} {lr_s:>5.2g}"
                  f" {('' if ok_s else '>') + f'{t_s / t_n:.1f}':>8} {t_ad / t_n:>8.1f} {split['kernel']:>8.4f} {split['cholesky']:>8.4f}"
                  f" {split['whiten']:>8.4f} {split['hessian']:>8.4f} {split['derivs']:>8.4f} {'yes' if split['prekernels'] else 'no':>4}",
                  flush=True)
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
