"""Benchmark: the package's paths Newton solver against optimistix's solvers on the same problem (issue 19).

Why the saddle-point Newton loop of ``statmech_attn.paths`` (``_newton.py``) is hand-written rather
than an optimistix solver: on the bundled hidden-Markov task (``examples/paths_hmm.toml``, L = 2,
H = 2, P = ``--sizes``) it runs, from the same start (the GP point) and on the same closed-form
action and gradient over the Cholesky parametrisation θ,

- ``package``: ``statmech_attn.paths.solve`` (Levenberg–Marquardt-damped Newton, exact Hessian with
  the energy block in closed form, backtracking, chord steps);
- ``optx.Newton``: ``optimistix.root_find`` of ∂S/∂θ = 0 (its Jacobian, the Hessian, by forward-mode
  autodiff of the closed-form gradient; undamped);
- ``optx.BFGS``: ``optimistix.minimise`` of S(θ) (quasi-Newton, gradient by autodiff);
- ``optx.LevenbergMarquardt``: ``optimistix.least_squares`` of the residual ∂S/∂θ.

and reports, per solver: the first call (trace and compile included) and the warm call (median of
``--repeat``), both wall seconds; the steps; the final residual max|∂S/∂U| (the package's
convergence criterion, 1e-10 in the config) and the final action minus the package's.  optimistix
stops on its own Cauchy criterion (``rtol = atol = --tol``).  optimistix is a benchmark tool, never a
dependency: ``pip install -e ".[bench]"``.

    python benchmarks/paths_optimistix.py [--sizes 100,400] [--repeat 5] [--tol 1e-12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tomllib
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["STATMECH_ATTN_CACHE"] = "0"  # compile times are measured: no persistent cache

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from statmech_attn.paths import solve  # noqa: E402
from statmech_attn.paths._hessian import _theta_value_grad, residual_of, value_and_gradient_x  # noqa: E402
from statmech_attn.paths._param import _initial_theta, layout_of, theta_to_x  # noqa: E402
from statmech_attn.paths.spec import PathsSpec  # noqa: E402
from statmech_attn.paths.verbs import load_problem  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def problem_of(p: int):
    raw = tomllib.loads((ROOT / "examples" / "paths_hmm.toml").read_text())
    raw["data"]["hmm"]["n_train"] = p
    problem, _ = load_problem(PathsSpec.from_config(raw))
    return problem


def timed(fn, repeat: int) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        runs.append(time.perf_counter() - t0)
    return first, statistics.median(runs), out


def main() -> None:
    try:
        import optimistix as optx
    except ImportError:
        sys.exit("optimistix is needed for this benchmark: pip install -e '.[bench]'")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,400")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--max-steps", type=int, default=500)
    args = ap.parse_args()
    print(f"paths saddle point: package Newton vs optimistix {optx.__version__ if hasattr(optx, '__version__') else ''} "
          f"(wall seconds; first call includes tracing and XLA compilation)")
    print(f"{'P':>5} {'solver':<24} {'first_s':>8} {'warm_s':>9} {'steps':>6} {'residual':>9} {'dS':>9}  converged")
    for p in (int(s) for s in args.sizes.split(",")):
        problem = problem_of(p)
        layout = layout_of(problem.model.heads)
        hyper = problem.model.hyper()
        arrays = problem.arrays
        theta0 = jnp.asarray(_initial_theta(problem, None, layout))

        @jax.jit  # traced: a diverged θ gives NaN, not the eager Cholesky check's error
        def diagnostics(theta):
            _, g_x = value_and_gradient_x(theta_to_x(theta, layout), arrays, hyper, layout)
            return residual_of(g_x, layout), _theta_value_grad(theta, arrays, hyper, layout)[0]

        def residual(theta):
            return float(diagnostics(theta)[0])

        def action(theta):
            return float(diagnostics(theta)[1])

        rows = []
        first, warm, sol = timed(lambda: solve(problem, tol=1e-10, throw=False), args.repeat)
        theta_ref = None
        s_ref = float(sol.action)
        rows.append(("package Newton (LM)", first, warm, sol.iterations, float(sol.residual), 0.0, sol.converged))

        def grad(theta, _):
            return _theta_value_grad(theta, arrays, hyper, layout)[2]

        def value(theta, _):
            return _theta_value_grad(theta, arrays, hyper, layout)[0]

        solvers = {
            "optx.Newton (root)": lambda: optx.root_find(grad, optx.Newton(rtol=args.tol, atol=args.tol), theta0,
                                                         max_steps=args.max_steps, throw=False),
            "optx.BFGS (minimise)": lambda: optx.minimise(value, optx.BFGS(rtol=args.tol, atol=args.tol), theta0,
                                                          max_steps=args.max_steps, throw=False),
            "optx.LevenbergMarquardt": lambda: optx.least_squares(grad, optx.LevenbergMarquardt(rtol=args.tol,
                                                                                               atol=args.tol),
                                                                  theta0, max_steps=args.max_steps, throw=False),
        }
        def summary(run):
            def fn():
                out = run()
                return out.value, out.result == optx.RESULTS.successful, out.stats["num_steps"]
            return fn

        for name, run in solvers.items():
            first, warm, (theta, success, steps) = timed(jax.jit(summary(run)), args.repeat)
            res = residual(theta)
            ok = bool(success) and np.isfinite(res)
            rows.append((name, first, warm, int(steps), res, action(theta) - s_ref, ok))
        del theta_ref
        for name, first, warm, steps, res, ds, ok in rows:
            print(f"{p:>5} {name:<24} {first:8.2f} {warm:9.4f} {steps:>6} {res:9.1e} {ds:9.1e}  {ok}")
        pkg_warm = rows[0][2]
        best = min((r for r in rows[1:] if r[6] and r[4] <= 1e-8), key=lambda r: r[2], default=None)
        if best is None:
            print(f"{p:>5} no optimistix solver reached residual 1e-8")
        else:
            print(f"{p:>5} fastest optimistix solver to residual ≤ 1e-8: {best[0]}, warm {best[2] / pkg_warm:.1f}× "
                  f"the package's time, first call {best[1] / rows[0][1]:.1f}×")


if __name__ == "__main__":
    main()
