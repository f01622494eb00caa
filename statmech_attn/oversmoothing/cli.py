"""``statmech-attn oversmoothing``: analyse a stack's spectrum and depth behaviour; plot a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from .._cli_common import (ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, VerbOutput, derive_app,
                           execute, plot_run)
from ..errors import InputError
from .config import Config, TrainConfig

app = typer.Typer(no_args_is_help=True, help="Oversmoothing from the eigenspectrum of H = W_V W_O.")


def _finite_or_none(a: np.ndarray) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(a, dtype=float)]


def compute_analyse(cfg: Config) -> VerbOutput:
    """Config -> spectrum, regime, HFC/LFC theory and simulation."""
    from . import StackSpec, analyse, random_tokens
    from ._plot import plot_growth_plane, plot_hfc_lfc

    o = cfg.oversmoothing
    spec = StackSpec(o.attention, o.value_projection, o.depth, o.pre_ln, o.ln_gain, o.ln_scale)
    x0 = o.tokens if o.tokens is not None else random_tokens(spec.n, spec.d, cfg.seed)
    an = analyse(spec, x0, tol=o.tol)
    s = an.spectrum
    sim = an.simulation
    result: dict[str, Any] = dict(s.to_dict())
    # ratios may leave float64's range at depth (exactly 0 or ∞); JSON gets null there
    result["hfc_lfc_ratio"] = {"theory": _finite_or_none(an.theory), "simulation": _finite_or_none(sim["hfc_lfc_ratio"])}
    result["metrics"] = {k: _finite_or_none(sim[k]) for k in
                         ("mean_pairwise_cosine", "dirichlet_energy_normalised", "effective_rank", "log_norm")}
    result["theory_vs_simulation_max_rel_error"] = an.max_rel_error if np.isfinite(an.max_rel_error) else None
    result["eigenvector_condition"] = an.condition if np.isfinite(an.condition) else None  # None: defective
    result["n_tokens"], result["dim"], result["depth"] = spec.n, spec.d, spec.depth
    arrays = {"growth": s.growth, "smooth_mode": s.smooth_mode, "eig_attention": s.eig_attention,
              "eig_value_projection": s.eig_value_projection, "hfc_lfc_theory": an.theory,
              "hfc_lfc_simulation": sim["hfc_lfc_ratio"], "tokens_initial": x0, "tokens_last": sim["tokens_last"]}
    figs = [(plot_hfc_lfc(an.theory, sim["hfc_lfc_ratio"], regime=s.regime)[0], "hfc_lfc"),
            (plot_growth_plane(s.growth, s.smooth_mode, s.dominant)[0], "growth_plane")]
    summary = [("regime", s.regime), ("dominant_growth_factor", s.dominant_growth_factor),
               ("spectral_gap", s.spectral_gap), ("hfc_lfc_rate (log per layer)", s.hfc_lfc_rate),
               ("HFC/LFC at layer 0", float(an.theory[0])), (f"HFC/LFC at layer {spec.depth} (theory)", float(an.theory[-1])),
               (f"HFC/LFC at layer {spec.depth} (simulation)", float(sim["hfc_lfc_ratio"][-1])),
               ("theory vs simulation max rel. error", an.max_rel_error)]
    return VerbOutput(result=result, arrays=arrays, summary=summary, figures=figs)


@app.command("analyse")
def analyse_cmd(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
                sets: SetOpt = None) -> None:
    """Growth factors, regime, spectral gap and HFC/LFC over depth (theory and simulation)."""
    execute("oversmoothing", "analyse", config, Config, compute_analyse, out=out, as_json=as_json, force=force,
            sets=sets)


def compute_train(cfg: TrainConfig) -> VerbOutput:
    """Train one stack per mode (optax); the forced regimes must hold (exit 1 otherwise)."""
    from statmech_attn.validation.oversmoothing.train import train_regimes

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


@app.command("train")
def train_cmd(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
              sets: SetOpt = None) -> None:
    """Train stacks with H free / forced to smooth / forced to sharpen (sign-constrained H = V diag(∓ψ²) Vᵀ)."""
    execute("oversmoothing", "train", config, TrainConfig, compute_train, out=out, as_json=as_json, force=force,
            sets=sets)


def _plots(record: dict, arrays: dict) -> list:
    from ._plot import plot_growth_plane, plot_hfc_lfc

    res = record.get("result", {})
    need = ("hfc_lfc_theory", "hfc_lfc_simulation", "growth", "smooth_mode")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise InputError("run_dir", missing, "arrays.npz lacks these arrays (not an 'analyse' run?)")
    g = arrays["growth"]
    dom = res.get("dominant_mode", {})
    d = (dom.get("attention_index"), dom.get("value_projection_index"))
    return [(plot_hfc_lfc(arrays["hfc_lfc_theory"], arrays["hfc_lfc_simulation"], regime=res.get("regime", ""))[0],
             "hfc_lfc"),
            (plot_growth_plane(g, arrays["smooth_mode"], d if None not in d else None)[0], "growth_plane")]


@app.command("plot")
def plot_cmd(run_dir: RunDirArg) -> None:
    """HFC/LFC vs depth (theory line, simulation points) and the growth-factor plane of a run."""
    plot_run(Path(run_dir), _plots, expect_theory="oversmoothing")


@derive_app.command("oversmoothing")
def derive_oversmoothing(as_json: JsonOpt = False) -> None:
    """The Kronecker spectrum identity and the uniform-mixing HFC/LFC factor, derived with SymPy (LaTeX)."""
    import json

    from statmech_attn.derivations.oversmoothing import kronecker_identity, latex_summary, uniform_mixing_ratio

    text = latex_summary()
    if as_json:
        typer.echo(json.dumps({"latex": text.splitlines(), "kronecker_identity_verified": kronecker_identity(),
                               "uniform_mixing_verified": uniform_mixing_ratio().verified}, indent=2))
    else:
        typer.echo(text)
