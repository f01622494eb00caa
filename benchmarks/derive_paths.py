"""Benchmark: SymPy derivation of the attention-path saddle-point equations.

Limits (issue 5): component form L = 3, H = 2 under 60 s; matrix form for any (L, H) under 5 s; a
cached second call instant.  Every time is also given as a ratio to a baseline measured in the same
run (the matrix form of L = 1, H = 1), so the numbers travel between machines.  A last row times
the fixed-point solver against the Newton solver on one problem (warm, i.e. compiled, calls).

    python benchmarks/derive_paths.py [--quick]

Writes nothing outside a temporary derivation cache (deleted at the end).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def _time(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases only (CI smoke test)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="derive_paths_bench_") as cache:
        os.environ["STATMECH_ATTN_DERIVATION_CACHE"] = cache
        from statmech_attn.derivations import _stationarity as st
        from statmech_attn.derivations.paths import derive_paths

        def fresh(heads, form):
            """A derivation from scratch: no disk cache, no in-memory memo of simplifications."""
            st.tidy.cache_clear()
            return derive_paths(heads, form=form, use_cache=False)

        base = _time(lambda: fresh((1,), "matrix"), repeat=2)
        rows = [("matrix L=1 H=1 (baseline)", base, 5.0)]
        matrix_cases = [(2, 2), (3, 2)] if args.quick else [(1, 4), (2, 2), (3, 2), (4, 2), (3, 3)]
        for L, H in matrix_cases:
            t = _time(lambda: fresh((H,) * L, "matrix"))
            rows.append((f"matrix L={L} H={H}", t, 5.0))
        comp_cases = [(2, 2)] if args.quick else [(2, 2), (3, 2)]
        for L, H in comp_cases:
            t = _time(lambda: fresh((H,) * L, "components"))
            rows.append((f"components L={L} H={H}", t, 60.0))
        L, H = comp_cases[-1]
        derive_paths((H,) * L, form="components")  # fill the cache
        t_fresh = rows[-1][1]
        t_hit = _time(lambda: derive_paths((H,) * L, form="components"), repeat=3)
        rows.append((f"components L={L} H={H}, cached", t_hit, 0.5))

        print(f"{'case':36s} {'seconds':>9s} {'/ baseline':>11s} {'limit s':>8s}  ok")
        ok_all = True
        for name, t, limit in rows:
            ok = t < limit
            ok_all &= ok
            print(f"{name:36s} {t:9.3f} {t / base:11.2f} {limit:8.1f}  {'yes' if ok else 'NO'}")
        print(f"cache hit / fresh derivation (components L={L} H={H}): {t_hit / t_fresh:.2e}")

        # the fixed-point solver against Newton on one problem (both compiled first)
        import numpy as np

        from statmech_attn import paths as P
        from statmech_attn.paths._fixed_point import solve_fixed_point

        rng = np.random.default_rng(0)
        heads = (2, 2)
        model = P.PathsModel(heads=heads, readout="mean", widths=(40.0, 40.0), width_readout=40.0, temperature=0.1)
        xt = rng.normal(size=(30, 5, 4)) / np.sqrt(20)
        y = rng.choice([-1.0, 1.0], 30)
        problem = P.make_problem(model, xt, y)
        newton = P.solve(problem, solver="newton", tol=1e-10)
        fp = solve_fixed_point(problem, tol=1e-10)
        t_newton = _time(lambda: P.solve(problem, solver="newton", tol=1e-10), repeat=3)
        t_fp = _time(lambda: solve_fixed_point(problem, tol=1e-10), repeat=3)
        diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(fp.value.U, newton.value.U))
        print(f"\nfixed point (Anderson 5, damping 0.5) vs Newton, L=2 H=2, P=30, alpha={problem.alpha:.2f}:")
        print(f"  iterations {fp.iterations} vs {newton.iterations}; warm wall {t_fp:.4f} s vs {t_newton:.4f} s "
              f"(ratio {t_fp / t_newton:.2f}); max |U_fp - U_newton| = {diff:.1e}; residuals {fp.residual:.1e}, {newton.residual:.1e}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
