"""Oversmoothing analysis of d = 512 weights (growth factors, regime, gap) in < 1 s.

Baselines measured in the same run:
- the dense Kronecker route, eig(I + Hᵀ ⊗ A) of size nd × nd, at sizes where it is feasible
  (ratio = dense time / structured time, and the max deviation of the two spectra);
- at d = 512, direct simulation of the stack (jit-compiled lax.scan, warm) for the same depth:
  the closed form gives every layer at once.

``python benchmarks/oversmoothing_spectrum.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import time

# single-threaded BLAS by default: reproducible timings on a shared machine (override by setting it)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

import statmech_attn  # noqa: E402,F401  (float64)
from statmech_attn.oversmoothing import (StackSpec, analyse, random_tokens, simulate, spectrum,  # noqa: E402
                                         spectrum_from_eigs, theory_hfc_lfc)


def _stack(rng, n, d):
    s = rng.standard_normal((n, n))
    a = np.exp(s)
    a /= a.sum(1, keepdims=True)
    return a, rng.standard_normal((d, d)) / np.sqrt(d)


def _time(fn, repeat=3):
    """Best wall time over ``repeat`` calls (CPU time of that call kept in ``_time.cpu``)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, _time.cpu = wall, time.process_time() - c
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller dense baseline sizes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'n':>4} {'d':>4} {'structured [s]':>15} {'dense kron [s]':>15} {'ratio':>8} {'max |Δg|':>10}")
    for n, d in ([(8, 8), (8, 16)] if args.quick else [(8, 16), (16, 16), (16, 32)]):
        a, h = _stack(rng, n, d)
        t_s, s = _time(lambda: spectrum(a, h))
        t_d, dense = _time(lambda: np.linalg.eigvals(np.eye(n * d) + np.kron(h.T, a)), repeat=1)
        g = s.growth.ravel()
        dev = max(np.min(np.abs(dense - v)) for v in g)
        print(f"{n:>4} {d:>4} {t_s:>15.4f} {t_d:>15.4f} {t_d / t_s:>8.1f} {dev:>10.2e}")
    n, d, depth = 64, 512, 50
    a, h = _stack(rng, n, d)
    spec = StackSpec(a, h, depth)
    x0 = random_tokens(n, d, args.seed)

    def theory_only():
        eig_a, eig_h = scipy.linalg.eig(a), scipy.linalg.eig(h)
        s = spectrum_from_eigs(eig_a[0], eig_a[1], eig_h[0])
        return s, theory_hfc_lfc(spec, x0, eig_attention=eig_a, eig_value_projection=eig_h)

    t_spec, _ = _time(lambda: spectrum(a, h), repeat=2)
    c_spec = _time.cpu
    t_an, _ = _time(theory_only, repeat=2)
    c_an = _time.cpu
    simulate(spec, x0)  # compile
    t_sim, _ = _time(lambda: simulate(spec, x0), repeat=1)
    t_full, an = _time(lambda: analyse(spec, x0), repeat=1)
    verdict = "PASS" if t_spec < 1.0 else "FAIL"
    print(f"\nd = {d}, n = {n}, depth = {depth} (OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}):")
    print(f"  spectrum + regime + gap (the analysis)  {t_spec:8.3f} s  (cpu {c_spec:.3f} s)   {verdict} (< 1 s)")
    print(f"  + closed-form HFC/LFC, L = {depth}          {t_an:8.3f} s  (cpu {c_an:.3f} s)")
    print(f"  direct simulation (warm jit)            {t_sim:8.3f} s   ratio simulation/closed form {t_sim / t_an:.2f}")
    print(f"  analyse (both, compared)                {t_full:8.3f} s   max rel. error {an.max_rel_error:.2e}")


if __name__ == "__main__":
    main()
