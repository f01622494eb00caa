"""Benchmark: NUTS on the attention-path network, full vs V₀-collapsed vs Wishart-chain sampler.

All three sample the same posterior (theory §2); the collapsed sampler integrates the input
projection V₀ out exactly, the Wishart-chain sampler also reduces the other weights to the exact
law of their overlaps.  Measured: effective samples per second of the compared statistics
(minimum ESS over U₁ entries and the predictor mean on test inputs, divided by the sampling wall
time, compilation included), and the ratios collapsed / full and wishart / full, on the bundled hidden-Markov-chain
task (L = 2, H = 2, α = 1).

    python benchmarks/validate_paths.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 8, 4 chains x 150 draws")
    args = ap.parse_args()

    import statmech_attn  # noqa: F401  (float64)
    from statmech_attn import paths
    from statmech_attn.validation.paths import compare, sample

    width = 8 if args.quick else 16
    draws = 150 if args.quick else 400
    base = paths.PathsModel(heads=(2, 2), readout="last", temperature=0.1, widths=(float(width),) * 2,
                            width_readout=float(width))
    data = paths.hmm_task(paths.HMMTask(n_features=8, tokens=6, n_train=width, n_test=10))
    sdata = compare.sample_data(data)
    rows = []
    for sampler in ("full", "collapsed", "wishart"):
        s = sample.SamplerSettings(num_chains=4, num_warmup=draws, num_samples=draws, sampler=sampler)
        run = sample.run_nuts(base, sdata, s, seed=0)
        est = {**sample.summarise(run["draws"]), **sample.predictor_estimates(run["draws"], np.asarray(data.y_test))}
        ess = min(float(np.min(est["U1"].ess)), float(np.min(est["f_mean"].ess)))
        rows.append((sampler, run["seconds"], ess, ess / run["seconds"], run["mean_tree_steps"], run["divergences"]))
    print(f"NUTS, HMM task L=2 H=2, N={width}, P={width}, 4 chains x {draws} draws (after {draws} warm-up)")
    print(f"{'sampler':>10} {'seconds':>9} {'min ESS':>9} {'ESS/s':>8} {'tree steps':>11} {'divergences':>12}")
    for r in rows:
        print(f"{r[0]:>10} {r[1]:9.1f} {r[2]:9.0f} {r[3]:8.2f} {r[4]:11.1f} {r[5]:12d}")
    print(f"ratio collapsed/full ESS per second: {rows[1][3] / rows[0][3]:.2f}")
    print(f"ratio wishart/full ESS per second: {rows[2][3] / rows[0][3]:.2f}")


if __name__ == "__main__":
    main()
