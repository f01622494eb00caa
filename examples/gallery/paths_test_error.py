"""Attention paths: test error vs α = P/N, theory against finite-width networks, and head pruning.

Tiberi, Mignacco, Irie, Sompolinsky (2024). A two-layer, two-heads-per-layer attention network on
the bundled hidden-Markov-chain task (examples/paths_validate.toml). Left: the saddle-point theory
at finite α and its Gaussian-process limit (N → ∞ at fixed P), against Bayesian networks of width N
sampled with NUTS (posterior mean ± Monte-Carlo SE, from ``statmech_attn.run("paths validate")``)
and gradient-descent networks (mean ± SE over random initialisations). Right: pruning one head at a
time — the theory's test error with that head removed (the head score of ``paths solve`` predicts
which heads matter) against NUTS on the pruned network.

    python examples/gallery/paths_test_error.py --out docs/gallery     # full size (~4 min CPU)
    python examples/gallery/paths_test_error.py --quick --out /tmp/g    # smoke run
"""

from __future__ import annotations

import dataclasses

import numpy as np

from _gallery import EXAMPLES, Timer, parser, save, sets as as_sets


def gd_test_errors(model, data, *, steps: int, inits: int, seed: int) -> np.ndarray:
    """Test error of each gradient-descent run (independent initialisations)."""
    from statmech_attn.validation.paths import compare, train

    gd = train.train_gd(model, compare.sample_data(data), learning_rate=0.02, steps=steps, num_inits=inits, seed=seed)
    f = np.asarray(gd["draws"]["f_mean"][0])  # (inits, n_test)
    return np.mean((np.asarray(data.y_test)[None] - f) ** 2, axis=1)


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    import statmech_attn
    from statmech_attn._style import figsize, style_context
    from statmech_attn.config import load_config
    from statmech_attn.paths.spec import PathsSpec, model_from_config
    from statmech_attn.validation.paths import compare
    from statmech_attn.validation.paths.verbs import data_maker

    cfg_file = EXAMPLES / "paths_validate.toml"
    if args.quick:
        width, alphas, gd_alphas, n_test = 8, [1.0], [1.0], 10
        nuts = {"validate.num_chains": 2, "validate.num_warmup": 40, "validate.num_samples": 40,
                "validate.theory_curve_points": 0}
        steps, inits = 200, 3
    else:
        width, alphas, n_test = 16, [0.25, 0.5, 1.0, 2.0, 4.0], 40
        gd_alphas = alphas
        nuts = {"validate.num_chains": 4, "validate.num_warmup": 300, "validate.num_samples": 300,
                "validate.theory_curve_points": 0}
        steps, inits = 3000, 8
    sets = {"seed": args.seed, "validate.widths": [width], "validate.alphas": alphas, "validate.n_test": n_test,
            "validate.gp_width": 0, "validate.langevin.enabled": False, "validate.gd.enabled": False, **nuts}

    with Timer():
        rec = statmech_attn.run("paths validate", cfg_file, set=as_sets(sets))["result"]
    plt.close("all")  # the verb's own figures
    points = sorted(rec["points"], key=lambda p: p["alpha"])
    curve = {  # the theory at the simulated points (the same training and test sets)
        "alpha": [p["n_train"] / p["width"] for p in points],
        "test_error": [p["theory"]["test_error"] for p in points],
        "gp_test_error": [p["theory"]["gp_test_error"] for p in points]}

    # gradient descent at more α, the same data as the theory (make_data(P, n_test))
    spec = load_config(cfg_file, PathsSpec, [f"seed={args.seed}"])
    make_data, heads = data_maker(spec)
    base = model_from_config(spec.model, heads)
    model = compare.paths_model(base, width)
    gd = []
    with Timer():
        for a in gd_alphas:
            P = compare.even_examples(a, width)
            e = gd_test_errors(model, make_data(P, n_test), steps=steps, inits=inits, seed=args.seed)
            gd.append((P / width, e.mean(), e.std(ddof=1) / np.sqrt(len(e))))

    # head pruning at α = 1: remove one head of one layer at a time; theory vs NUTS on the pruned network
    layer_heads = [list(x) for x in spec.data.hmm.layer_heads]
    variants = []
    for l, layer in enumerate(layer_heads):
        for h, name in enumerate(layer):
            if len(layer) > 1:
                kept = [[x for j, x in enumerate(lay) if not (i == l and j == h)] for i, lay in enumerate(layer_heads)]
                variants.append((f"− layer {l + 1} {name.replace('_', ' ')}", kept))
    if args.quick:
        variants = []  # the smoke run skips the pruned networks (one NUTS compilation each)
    a1 = min(points, key=lambda p: abs(p["alpha"] - 1.0))
    prune = [("all heads", a1)]
    with Timer():
        for label, lh in variants:
            r = statmech_attn.run("paths validate", cfg_file, set=as_sets({
                **sets, "validate.alphas": [a1["alpha"]], "validate.theory_curve_points": 0,
                "data.hmm.layer_heads": lh, "model.heads": [len(x) for x in lh]}))["result"]
            prune.append((label, r["points"][0]))
            plt.close("all")  # the verb's own figures
    with style_context(args.style):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=figsize(2), gridspec_kw={"width_ratios": [1.1, 1]})
        line = "-" if len(curve["alpha"]) > 1 else "D"
        ax.plot(curve["alpha"], curve["test_error"], line, marker="D", ms=4, color="C0", label="theory (finite α)")
        ax.plot(curve["alpha"], curve["gp_test_error"], "--" if line == "-" else "+", color="0.5", label="GP limit")
        ax.errorbar([p["n_train"] / p["width"] for p in points], [p["comparisons"]["test_error"]["simulation"] for p in points],
                    yerr=[p["comparisons"]["test_error"]["se"] for p in points], fmt="o", color="C1", capsize=2,
                    label=f"NUTS, N = {width} (± SE)")
        ga, gm, gs = map(np.asarray, zip(*gd))
        ax.errorbar(ga, gm, yerr=gs, fmt="s", mfc="none", color="C2", capsize=2, label="gradient descent, T → 0 (± SE)")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks([p["n_train"] / p["width"] for p in points])
        ax.set_xlabel("α = P / N")
        ax.set_ylabel("test error ε_g (a.u.)")
        ax.set_title("test error vs α")
        ax.legend(loc="best", fontsize="small")
        y = np.arange(len(prune))
        labels = [lab for lab, _ in prune]
        te = [p["comparisons"]["test_error"] for _, p in prune]
        bx.barh(y, [c["theory"] for c in te], height=0.6, color="C0", alpha=0.35, label="theory (finite α)")
        bx.errorbar([c["simulation"] for c in te], y, xerr=[c["se"] for c in te], fmt="o", color="C1", capsize=2,
                    label="NUTS (± SE)")
        bx.plot([p["theory"]["gp_test_error"] for _, p in prune], y, "|", color="0.3", ms=12, mew=1.5, label="GP limit")
        bx.set_yticks(y, labels)
        bx.invert_yaxis()
        bx.set_xlabel("test error ε_g (a.u.)")
        bx.set_title(f"pruning one head (α = {a1['n_train'] / width:g}, N = {width})")
        bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize="small", ncol=2)
        fig.tight_layout()
        save(fig, args.out, "paths_test_error")


if __name__ == "__main__":
    main()
