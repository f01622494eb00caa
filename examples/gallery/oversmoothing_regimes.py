"""Oversmoothing: HFC/LFC over depth in the three spectral regimes, theory against simulation.

Shim (2022). A stack of identical residual self-attention layers X ← X + A X H damps or amplifies
the high-frequency part of the token features depending on the growth factors g = 1 + λ(A)λ(H):
*smoothing* when the all-ones (low-frequency) mode grows fastest, *sharpening* when a
high-frequency mode does, *balanced* when they tie. For each regime, the closed-form eigen-expansion
(line, ``oversmoothing analyse`` theory) against the direct simulation (points) of the ratio
‖HFC‖/‖LFC‖, mean ± SE over random initial token clouds (seeds). The last panel checks the predicted
log-rate per layer against the simulated late-depth slope over many random softmax stacks
(``statmech_attn.validation.oversmoothing.regimes``).

    python examples/gallery/oversmoothing_regimes.py --out docs/gallery     # full size (~1 min)
    python examples/gallery/oversmoothing_regimes.py --quick --out /tmp/g    # smoke run
"""

from __future__ import annotations

import numpy as np

from _gallery import EXAMPLES, Timer, parser, save, sets

A = [[0.55, 0.15, 0.15, 0.15], [0.15, 0.55, 0.15, 0.15], [0.15, 0.15, 0.55, 0.15], [0.15, 0.15, 0.15, 0.55]]
# λ(A) = 1 (all-ones) and 0.4: with H = h·I the growth factors are 1 + h and 1 + 0.4 h
REGIMES = {
    "smoothing": [[0.5, 0.0, 0.0], [0.0, -0.8, 0.0], [0.0, 0.0, 0.3]],
    "sharpening": [[-0.9, 0.2, 0.0], [0.2, -0.5, 0.1], [0.0, 0.1, -0.3]],
    "balanced": (np.eye(3) * (-10.0 / 7.0)).tolist(),  # |1 + h| = |1 + 0.4 h| at h = −10/7
}


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt

    import statmech_attn
    from statmech_attn._style import figsize, style_context
    from statmech_attn.validation.oversmoothing.regimes import validate_regimes

    n_seeds, depth, n_trials = (3, 15, 20) if args.quick else (20, 30, 200)
    curves = {}
    with Timer():
        for name, H in REGIMES.items():
            th, sim, regime = [], [], None
            for s in range(n_seeds):
                r = statmech_attn.run("oversmoothing analyse", EXAMPLES / "oversmoothing.toml", set=sets(
                    {"seed": args.seed + s, "oversmoothing.attention": A, "oversmoothing.value_projection": H,
                     "oversmoothing.depth": depth}))["result"]
                th.append(r["hfc_lfc_ratio"]["theory"])
                sim.append(r["hfc_lfc_ratio"]["simulation"])
                regime = r["regime"]
            curves[name] = (np.log10(np.asarray(th)), np.log10(np.asarray(sim)), regime)
        rv = validate_regimes(n_trials=n_trials, depth=120 if args.quick else 300, seed=args.seed)

    with style_context(args.style):
        fig, axes = plt.subplots(2, 2, figsize=figsize(2, 2))
        axes = axes.ravel()
        for ax, (name, (th, sim, regime)) in zip(axes, curves.items()):
            layers = np.arange(th.shape[1])
            ax.plot(layers, th.mean(0), "-", color="C0", label="theory (eigen-expansion)")
            se = sim.std(0, ddof=1) / np.sqrt(len(sim))
            ax.errorbar(layers[::2], sim.mean(0)[::2], yerr=se[::2], fmt="o", mfc="none", color="C3", capsize=2,
                        label=f"simulation (± SE, {len(sim)} clouds)")
            ax.set_xlabel("layer ℓ")
            ax.set_ylabel("log₁₀ ‖HFC‖/‖LFC‖")
            ax.set_title(f"{name} (predicted: {regime})")
        axes[0].legend(loc="best", fontsize="small")
        ax = axes[3]
        d = rv.decided
        ax.plot(rv.predicted_rate[d], rv.measured_rate[d], "o", ms=3, alpha=0.6, color="C2", label="random stacks")
        lim = np.nanmax(np.abs(np.concatenate([rv.predicted_rate[d], rv.measured_rate[d]])))
        ax.plot([-lim, lim], [-lim, lim], color="0.5", lw=0.8, label="y = x")
        ax.set_xlabel("predicted log-rate per layer")
        ax.set_ylabel("simulated late slope per layer")
        ax.set_title(f"{int(d.sum())} random stacks (agreement {rv.agreement:.0%})")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        save(fig, args.out, "oversmoothing_regimes")


if __name__ == "__main__":
    main()
