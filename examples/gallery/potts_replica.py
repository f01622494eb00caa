"""Potts / factored attention: the replica generalisation curve against finite-size fits.

Rende, Gerace, Laio, Goldt (2024). One row of a factored-attention layer learns the couplings of a
site of a planted Potts model; the replica theory (``potts replica``) predicts its test error at
α = M/N (M samples, N the input size) in the high-dimensional limit. Points: empirical risk
minimisation at finite N (``potts validate``, target = replica), mean ± SE over seeds, one colour per
size N; the line is the theory. Left: the relative weight error ε_w, right: the test cross-entropy
with the conditional-entropy floor.

    python examples/gallery/potts_replica.py --out docs/gallery        # full size (~4 min)
    python examples/gallery/potts_replica.py --quick --out /tmp/g       # smoke run
"""

from __future__ import annotations

import numpy as np

from _gallery import EXAMPLES, Timer, parser, save, sets


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt

    import statmech_attn
    from statmech_attn._style import figsize, style_context

    if args.quick:
        over = {"validate.sizes": [30], "validate.seeds": [0, 1], "validate.n_test": 200, "replica.alphas": [1.0, 2.0],
                "replica.cubature_order": 8}
    else:
        over = {"validate.sizes": [50, 200], "validate.seeds": list(range(6)), "validate.n_test": 2000,
                "replica.alphas": [0.5, 1.0, 2.0, 4.0]}
    with Timer():
        res = statmech_attn.run("potts validate", EXAMPLES / "potts_replica_validate.toml",
                                set=sets({"seed": args.seed, **over}))["result"]
    curve = sorted(res["theory_curve"], key=lambda r: r["alpha"])
    sizes = sorted({p["size"] for p in res["points"]})
    with style_context(args.style):
        fig, axes = plt.subplots(1, 2, figsize=figsize(2))
        for ax, key, label in ((axes[0], "eps_w", "weight error ε_w (a.u.)"), (axes[1], "test_ce", "test cross-entropy (nats)")):
            ax.plot([r["alpha"] for r in curve], [r[key] for r in curve], "-", color="k", label="replica theory")
            for i, N in enumerate(sizes):
                pts = sorted((p for p in res["points"] if p["size"] == N), key=lambda p: p["alpha"])
                shift = 1 + 0.04 * (i - (len(sizes) - 1) / 2)
                ax.errorbar([p["alpha"] * shift for p in pts], [p["mean"][key] for p in pts],
                            yerr=[p["se"][key] for p in pts], fmt="o", capsize=2, color=f"C{i}",
                            label=f"ERM, N = {N} (± SE, {len(res['seeds'])} seeds)")
            if key == "test_ce":
                ax.axhline(curve[0]["cond_entropy"], color="0.5", ls=":", label="conditional entropy")
            ax.set_xscale("log")
            ax.set_xlabel("α = M / N")
            ax.set_ylabel(label)
        axes[0].set_yscale("log")
        axes[0].legend(loc="best", fontsize="small")
        axes[1].legend(loc="best", fontsize="small")
        fig.suptitle("replica theory vs finite-size ERM")
        fig.tight_layout()
        save(fig, args.out, "potts_replica")


if __name__ == "__main__":
    main()
