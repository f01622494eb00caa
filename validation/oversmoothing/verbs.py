"""``oversmoothing train``: sign-constrained stacks trained with optax; the forced regimes must hold."""

from __future__ import annotations

from typing import Any

import numpy as np

from statmech_attn._verb import Verb, VerbOutput
from statmech_attn.oversmoothing.spec import OversmoothingTrainSpec


def train(cfg: OversmoothingTrainSpec) -> VerbOutput:
    """Train one stack per mode (optax); the forced regimes must hold (exit 1 otherwise)."""
    from .train import train_regimes

    t = cfg.train
    runs = train_regimes(tuple(t.modes), depth=t.depth, steps=t.steps, lr=t.learning_rate, probe_depth=t.probe_depth,
                         n_seq=t.sequences, seed=cfg.seed)
    result: dict[str, Any] = {"runs": {}}
    ok = True
    summary = []
    for r in runs:
        counts = {k: r.regimes.count(k) for k in ("smoothing", "sharpening", "balanced", "complex")}
        forced = {"smooth": counts["smoothing"] == len(r.regimes), "sharpen": counts["smoothing"] == 0}.get(r.mode)
        ok = ok and forced is not False
        result["runs"][r.mode] = {"loss": r.loss, "regime_counts": counts, "log_hfc_lfc_change": r.ratio_growth,
                                  "eig_value_projection": {"real": np.linalg.eigvals(r.value_projection).real,
                                                           "imag": np.linalg.eigvals(r.value_projection).imag},
                                  "regime_forced": forced}
        summary.append((f"{r.mode}: loss / regimes / Δ log HFC/LFC",
                        f"{r.loss:.4f} / {counts} / {r.ratio_growth:+.2f}"))
    result["forced_regimes_hold"] = ok
    arrays = {f"value_projection_{r.mode}": r.value_projection for r in runs}
    return VerbOutput(result=result, arrays=arrays, ok=ok, summary=summary,
                      message="a sign-constrained stack left its forced regime")



VERBS = {"train": Verb(OversmoothingTrainSpec, train)}
