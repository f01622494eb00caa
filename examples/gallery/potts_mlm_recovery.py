"""Potts / factored attention: masked language modelling recovers the couplings like pseudo-likelihood.

Rende, Gerace, Laio, Goldt (2024). A factored self-attention layer trained by masked language
modelling (MLM, mask all, ``potts train``) on sequences of a planted Potts model minimises the
same objective as the pseudo-likelihood estimator of the couplings (``statmech_attn.potts``:
``fit_pseudolikelihood``): both should recover the interaction graph and the couplings at the same
rate in the number of samples M. Fresh Gibbs samples for every seed (``potts sample``); mean ± SE
over seeds. Left: the relative coupling error, right: the ROC AUC of the recovered interaction graph
(1 = every true edge ranked above every non-edge).

    python examples/gallery/potts_mlm_recovery.py --out docs/gallery       # full size (~4 min)
    python examples/gallery/potts_mlm_recovery.py --quick --out /tmp/g      # smoke run
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from _gallery import EXAMPLES, Timer, parser, save, sets


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt

    import statmech_attn
    from statmech_attn._style import figsize, style_context
    from statmech_attn.config import load_toml
    from statmech_attn.potts import metrics
    from statmech_attn.potts.model import potts_model
    from statmech_attn.potts.pseudolikelihood import fit_pseudolikelihood

    if args.quick:
        seeds, sizes, epochs, n_samples = range(2), [100, 400], 25, 1000
    else:
        seeds, sizes, epochs, n_samples = range(5), [100, 200, 400, 800, 1600, 3200], 300, 8000
    cfg = load_toml(EXAMPLES / "potts_sample.toml")["potts"]
    C = int(cfg["colours"])
    model = potts_model(cfg["interaction"], cfg["colour_matrix"], None, cfg["beta"])
    keys = ("coupling_error", "auc")
    mlm = {k: np.zeros((len(seeds), len(sizes))) for k in keys}
    pl = {k: np.zeros((len(seeds), len(sizes))) for k in keys}
    with Timer(), tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(seeds):
            run_dir = Path(tmp) / f"sample{s}"
            statmech_attn.run("potts sample", EXAMPLES / "potts_sample.toml", out=run_dir,
                              set=sets({"seed": args.seed + s, "sampler.n_samples": n_samples}))
            rec = statmech_attn.run("potts train", EXAMPLES / "potts_train.toml", set=sets(
                {"seed": args.seed + s, "train.data": str(run_dir), "train.test_data": "", "train.sizes": sizes,
                 "train.epochs": epochs, "train.attention": "linear"}))["result"]
            curve = {r["n_samples"]: r for r in rec["recovery_curve"]}
            seqs = np.asarray(statmech_attn.load_run(run_dir).arrays["sequences"])
            for j, M in enumerate(sizes):
                fit = fit_pseudolikelihood(seqs[:M], C, throw=False)
                m = metrics.recovery_metrics(model, fit.value.couplings)
                for k in keys:
                    mlm[k][i, j] = curve[M][k]
                    pl[k][i, j] = m[k]
    with style_context(args.style):
        fig, axes = plt.subplots(1, 2, figsize=figsize(2))
        for ax, k, label in ((axes[0], "coupling_error", "relative coupling error (a.u.)"),
                             (axes[1], "auc", "interaction-graph ROC AUC")):
            for est, name, fmt, col in ((mlm, "factored attention, MLM", "o-", "C0"), (pl, "pseudo-likelihood", "s--", "C3")):
                v = est[k]
                ax.errorbar(sizes, v.mean(0), yerr=v.std(0, ddof=1) / np.sqrt(len(v)), fmt=fmt, mfc="none" if col == "C3" else None,
                            color=col, capsize=2, label=f"{name} (± SE, {len(v)} seeds)")
            ax.set_xscale("log")
            ax.set_xlabel("number of samples M")
            ax.set_ylabel(label)
            ax.legend(loc="best", fontsize="small")
        axes[0].set_yscale("log")
        fig.tight_layout()
        save(fig, args.out, "potts_mlm_recovery")


if __name__ == "__main__":
    main()
