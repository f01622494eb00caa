"""``statmech-attn energy``: expansion/contraction diagnostic of an attention stack; plot; derive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from .._cli_common import (ConfigArg, ForceOpt, JsonOpt, OutOpt, RunDirArg, SetOpt, VerbOutput, derive_app, execute,
                           plot_run)
from ..errors import InputError
from .config import Config

app = typer.Typer(no_args_is_help=True, help="Attention as a log-sum-exp ascent step; layer-norm contraction.")


def _mean_finite(a: np.ndarray) -> list:
    return [float(np.mean(r)) for r in a]


def compute_analyse(cfg: Config) -> VerbOutput:
    """Config -> per-layer norms, expansion, contraction, log-partition, gradient-field checks."""
    from ._plot import plot_norms
    from ._stack import stack_diagnostic

    e = cfg.energy
    x0 = e.tokens - e.tokens.mean(axis=0, keepdims=True) if e.center_tokens else e.tokens
    w = e.stack_weights(cfg.seed)
    diag = stack_diagnostic(x0, w, beta=e.beta, eta=e.eta, use_layer_norm=e.layer_norm, tol=e.tol)
    d = x0.shape[1]
    identity = e.weights == "identity"
    result: dict[str, Any] = {
        "tokens_after": diag.tokens[-1],
        "log_partition": diag.log_partition,
        "norms": {"input": diag.norms_in, "after_attention": diag.norms_attention,
                  "after_layer_norm": diag.norms_out if e.layer_norm else None},
        "expansion_factor": _mean_finite(diag.expansion),
        "contraction_factor": _mean_finite(diag.contraction) if e.layer_norm else None,
        "min_expansion": float(np.min(diag.expansion)),
        "chebyshev_min": float(np.min(diag.chebyshev)),
        "input_centred": [bool(c) for c in diag.centred],
        "gradient_field": [c.to_dict() for c in diag.gradient_field],
        "ascent_gain_min": float(np.min(diag.ascent_gain)) if identity else None,
        "sqrt_d": float(np.sqrt(d)),
        "max_layer_norm_deviation": float(np.max(np.abs(diag.norms_out - np.sqrt(d)))) if e.layer_norm else None,
    }
    arrays = {"norms_in": diag.norms_in, "norms_attention": diag.norms_attention, "norms_out": diag.norms_out,
              "tokens": diag.tokens, "log_partition": diag.log_partition, "chebyshev": diag.chebyshev}
    fig, _ = plot_norms(diag.norms_in, diag.norms_attention, diag.norms_out, layer_norm=e.layer_norm, dim=d)
    summary = [("layers", e.layers), ("tokens × d", f"{x0.shape[0]} × {d}"), ("weights", e.weights),
               ("mean expansion factor per layer", ", ".join(f"{v:.4g}" for v in result["expansion_factor"])),
               ("min expansion factor", result["min_expansion"]),
               ("gradient field (every layer)", all(c.is_gradient_field for c in diag.gradient_field))]
    if e.layer_norm:
        summary.append(("mean contraction factor per layer", ", ".join(f"{v:.4g}" for v in result["contraction_factor"])))
        summary.append(("max | |LN(x)| − √d |", result["max_layer_norm_deviation"]))
    if identity:
        summary.append(("min ascent gain A(θ') − A(θ) − η|∇A|²", result["ascent_gain_min"]))
    return VerbOutput(result=result, arrays=arrays, summary=summary, figures=[(fig, "norms")])


@app.command("analyse")
def analyse_cmd(config: ConfigArg, out: OutOpt = None, as_json: JsonOpt = False, force: ForceOpt = False,
                sets: SetOpt = None) -> None:
    """Token norms per layer before/after LN, log-partition per token, gradient-field check per layer."""
    execute("energy", "analyse", config, Config, compute_analyse, out=out, as_json=as_json, force=force, sets=sets)


def _plots(record: dict, arrays: dict) -> list:
    from ._plot import plot_norms

    missing = [k for k in ("norms_in", "norms_attention", "norms_out", "tokens") if k not in arrays]
    if missing:
        raise InputError("run_dir", missing, "arrays.npz lacks these arrays (not an 'energy analyse' run?)")
    ln = bool(record.get("config", {}).get("energy", {}).get("layer_norm", False))
    fig, _ = plot_norms(arrays["norms_in"], arrays["norms_attention"], arrays["norms_out"], layer_norm=ln,
                        dim=int(arrays["tokens"].shape[-1]))
    return [(fig, "norms")]


@app.command("plot")
def plot_cmd(run_dir: RunDirArg) -> None:
    """Token norms per layer, before and after layer norm, of a saved run."""
    plot_run(Path(run_dir), _plots, expect_theory="energy")


@derive_app.command("energy")
def derive_energy(as_json: JsonOpt = False) -> None:
    """Gradient and Hessian of the log-partition, and the two-token update, derived with SymPy (LaTeX)."""
    import json

    from statmech_attn.derivations.energy import latex_summary, log_partition_derivation, two_token_derivation

    text = latex_summary()
    if as_json:
        d, t = log_partition_derivation(2, 2), two_token_derivation()
        typer.echo(json.dumps({"latex": text.splitlines(), "gradient_verified": d.verified,
                               "two_token_verified": t.verified}, indent=2))
    else:
        typer.echo(text)
