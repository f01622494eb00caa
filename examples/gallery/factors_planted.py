"""Transformer factors: a planted sparse dictionary recovered from hidden states.

Yun, Chen, Olshausen, LeCun (2021). Hidden states are modelled as sparse combinations of a few
"transformer factors" (dictionary learning with an ℓ1 penalty, ``statmech_attn.factors``). Here the
states are built from a planted dictionary Φ (unit-norm columns) with k active factors per state
(``statmech_attn.validation.factors.planted``); after learning, each planted factor is matched to a
learned one (Hungarian matching) and the mean best |cos| measures recovery (1 = exact). Left:
recovery vs the number of states, right: vs the number of active factors per state (sparsity);
mean ± SE over seeds. The dashed line is the pass threshold of the package's validation (0.95).

    python examples/gallery/factors_planted.py --out docs/gallery      # full size (~3 min)
    python examples/gallery/factors_planted.py --quick --out /tmp/g     # smoke run
"""

from __future__ import annotations

import numpy as np

from _gallery import Timer, parser, save


def main() -> None:
    args = parser(__doc__).parse_args()
    import matplotlib.pyplot as plt

    from statmech_attn._style import figsize, style_context
    from statmech_attn.validation.factors.planted import planted_dictionary_recovery

    if args.quick:
        seeds, sizes, actives, epochs = range(2), [300, 1000], [2, 6], 5
    else:
        seeds, sizes, actives, epochs = range(5), [250, 500, 1000, 2000, 4000], [1, 2, 3, 4, 6, 8], 20

    def recover(n_states: int, active: int) -> tuple[float, float]:
        c = np.array([planted_dictionary_recovery(n_states, active=active, n_epochs=epochs, seed=args.seed + s).mean_cos
                      for s in seeds])
        return c.mean(), c.std(ddof=1) / np.sqrt(len(c))

    with Timer():
        by_size = [recover(m, 3) for m in sizes]
        by_active = [recover(sizes[-1], k) for k in actives]
    with style_context(args.style):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=figsize(2), sharey=True)
        m, s = np.array(by_size).T
        ax.errorbar(sizes, m, yerr=s, fmt="o-", capsize=2, color="C0", label=f"3 active factors (± SE, {len(seeds)} seeds)")
        ax.set_xscale("log")
        ax.set_xlabel("number of hidden states")
        ax.set_ylabel("recovery: mean best |cos| (1 = exact)")
        m, s = np.array(by_active).T
        bx.errorbar(actives, m, yerr=s, fmt="s-", capsize=2, color="C3", label=f"{sizes[-1]} states (± SE)")
        bx.set_xticks(actives)
        bx.set_xlabel("active factors per state k")
        for a in (ax, bx):
            a.axhline(0.95, ls="--", color="0.5", lw=0.8, label="validation threshold 0.95")
            a.legend(loc="best", fontsize="small")
        fig.suptitle("planted dictionary (d = 16, 24 factors) recovered by sparse coding")
        fig.tight_layout()
        save(fig, args.out, "factors_planted")


if __name__ == "__main__":
    main()
