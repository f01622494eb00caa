"""Log-sum-exp energy: self-attention expands token norms, layer norm contracts them back.

Dovonon, Bronstein, Kusner (2024). With identity weights, one residual attention update
x_i ← x_i + η Σ_j softmax(β x_i·x_j) x_j is a gradient-ascent step on the log-sum-exp energy
A(x_i) = β⁻¹ log Σ_j exp(β x_i·x_j); for a centred cloud it never shrinks a token (the norm grows),
and layer norm maps every token back to the sphere of radius √d. Left: the mean token norm through a
stack of ``energy analyse`` layers (input → after attention → after layer norm), mean ± SE over many
random centred clouds, with the theory's fixed point √d. Right: the per-layer expansion factor
|x'|/|x| (theory: ≥ 1 for centred clouds) and the fraction of tokens that shrank, for centred and
shifted clouds (``statmech_attn.validation.energy.expansion``).

    python examples/gallery/energy_layernorm.py --out docs/gallery      # full size (~1 min)
    python examples/gallery/energy_layernorm.py --quick --out /tmp/g     # smoke run
"""

from __future__ import annotations

import numpy as np

from _gallery import EXAMPLES, Timer, parser, save, sets


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt

    import statmech_attn
    from statmech_attn._style import figsize, style_context
    from statmech_attn.validation.energy.expansion import expansion_statistics

    n_clouds, n, d, layers = (6, 6, 4, 4) if args.quick else (60, 8, 4, 6)
    rng = np.random.default_rng(args.seed)
    stages = []
    with Timer():
        for c in range(n_clouds):
            x = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0)
            x -= x.mean(axis=0)
            r = statmech_attn.run("energy analyse", EXAMPLES / "energy.toml", set=sets(
                {"seed": args.seed + c, "energy.tokens": x.tolist(), "energy.layers": layers, "energy.layer_norm": True,
                 "energy.eta": 0.5, "energy.beta": 1.0}))["result"]
            nm = r["norms"]
            stages.append(np.stack([np.asarray(nm["input"]), np.asarray(nm["after_attention"]),
                                    np.asarray(nm["after_layer_norm"])], axis=1))  # (layers, 3, tokens)
        stats = [expansion_statistics(n_clouds=50 if args.quick else 500, n=n, d=d, eta=eta, seed=args.seed)
                 for eta in (0.25, 0.5, 1.0)]
    st = np.stack(stages)  # (clouds, layers, 3, tokens)
    per_cloud = st.mean(axis=3)  # mean token norm per cloud
    mean, se = per_cloud.mean(0), per_cloud.std(0, ddof=1) / np.sqrt(len(per_cloud))
    expansion = st[:, :, 1, :] / st[:, :, 0, :]  # |x'|/|x| per token
    with style_context(args.style):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=figsize(2))
        xs = np.array([[l, l + 0.45, l + 0.9] for l in range(layers)])
        ax.errorbar(xs.ravel(), mean.ravel(), yerr=se.ravel(), fmt="-", color="0.6", lw=0.8, capsize=0)
        for k, (lab, col, mk) in enumerate((("entering the layer", "C0", "o"), ("after attention", "C3", "^"),
                                            ("after layer norm", "C2", "s"))):
            ax.errorbar(xs[:, k], mean[:, k], yerr=se[:, k], fmt=mk, color=col, capsize=2, label=lab)
        ax.axhline(np.sqrt(d), ls="--", color="k", lw=0.8, label="√d (layer-norm fixed point)")
        ax.set_xticks(range(layers), [str(l + 1) for l in range(layers)])
        ax.set_xlabel("layer ℓ")
        ax.set_ylabel("mean token norm |x_i| (a.u.)")
        ax.set_title(f"{n_clouds} random centred clouds (± SE)")
        ax.legend(loc="best", fontsize="small")
        e_mean = expansion.mean(axis=(0, 2))
        e_se = expansion.reshape(n_clouds, layers, -1).mean(2).std(0, ddof=1) / np.sqrt(n_clouds)
        bx.errorbar(np.arange(1, layers + 1), e_mean, yerr=e_se, fmt="o-", color="C3", capsize=2,
                    label="stack: mean |x'|/|x| (± SE)")
        bx.plot(np.arange(1, layers + 1), expansion.min(axis=(0, 2)), "v", color="C1", label="stack: smallest |x'|/|x|")
        bx.axhline(1.0, color="k", lw=0.8, ls="--", label="theory: never below 1")
        bx.set_xticks(range(1, layers + 1))
        bx.set_xlabel("layer ℓ")
        bx.set_ylabel("expansion factor |x'|/|x|")
        shrink = ", ".join(f"η={eta}: {s.shrink_fraction_centred:.0%} / {s.shrink_fraction_uncentred:.0%}"
                           for eta, s in zip((0.25, 0.5, 1.0), stats))
        bx.set_title("tokens that shrank, centred / shifted:\n" + shrink, fontsize="small")
        bx.legend(loc="best", fontsize="small")
        fig.tight_layout()
        save(fig, args.out, "energy_layernorm")


if __name__ == "__main__":
    main()
